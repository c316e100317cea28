package orchestrator_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/orchestrator"
	"github.com/stampede-load/stampede/orchestrator/plan"
)

func TestInterval(t *testing.T) {
	tests := []struct {
		d, set, want time.Duration
	}{
		{3 * time.Second, 0, time.Second},
		{2 * time.Minute, 0, time.Second},
		{121 * time.Second, 0, 2 * time.Second},
		{10 * time.Minute, 0, 5 * time.Second},
		{time.Hour, 0, 30 * time.Second},
		{time.Hour, 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := orchestrator.Interval(engine.Config{Duration: tt.d, Interval: tt.set}); got != tt.want {
			t.Errorf("Interval(%v, set %v) = %v, want %v", tt.d, tt.set, got, tt.want)
		}
	}
}

func TestSliceWindows(t *testing.T) {
	s := time.Second
	w := func(start, end time.Duration) engine.Window { return engine.Window{Start: start, End: end} }
	tests := []struct {
		d, slice time.Duration
		want     []engine.Window
	}{
		{3 * s, s, []engine.Window{w(0, s), w(s, 2*s), w(2*s, 3*s)}},
		{2500 * time.Millisecond, s, []engine.Window{w(0, s), w(s, 2*s), w(2*s, 2500*time.Millisecond)}},
		{3 * s, 0, []engine.Window{w(0, 3*s)}},
		{3 * s, 10 * s, []engine.Window{w(0, 3*s)}},
		{3 * s, 3 * s, []engine.Window{w(0, 3*s)}},
	}
	for _, tt := range tests {
		got := orchestrator.SliceWindows(tt.d, tt.slice)
		if len(got) != len(tt.want) {
			t.Errorf("SliceWindows(%v, %v) = %v, want %v", tt.d, tt.slice, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("SliceWindows(%v, %v) = %v, want %v", tt.d, tt.slice, got, tt.want)
				break
			}
		}
	}
}

func randomPlan(r *rand.Rand) *plan.Plan {
	d := time.Duration(1+r.IntN(3600)) * time.Second
	if r.IntN(4) == 0 {
		d += time.Duration(r.IntN(1000)) * time.Millisecond
	}
	load := engine.Load{Model: engine.ModelOpen, Rate: r.Float64() * 500}
	for range r.IntN(4) {
		st := engine.Stage{Duration: time.Duration(r.IntN(int(d/time.Millisecond))) * time.Millisecond, Target: r.Float64() * 2000}
		if r.IntN(4) == 0 {
			st.Duration = 0 // a spike
		}
		load.Stages = append(load.Stages, st)
	}
	p := &plan.Plan{
		Engine: engine.Config{Target: "http://127.0.0.1:1", Duration: d, Load: load},
		// 1–20 slices, the last one usually shorter (or no slicing at all).
		Slice: d/time.Duration(1+r.IntN(20)) + time.Duration(r.IntN(1000))*time.Millisecond,
	}
	for i := range 1 + r.IntN(4) {
		p.Regions = append(p.Regions, plan.Region{Name: []string{"us-east-1", "eu-west-1", "ap-south-1", "local"}[i], Generators: 1 + r.IntN(40)})
	}
	return p
}

// TestSplitAddsUp is the split's property test: for random plans the tasks
// cover every (generator, slice) once, each generator's windows tile
// [0, Duration), and the arrivals of all tasks add up to the whole plan's.
func TestSplitAddsUp(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	epoch := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	for iter := range 150 {
		p := randomPlan(r)
		tasks, err := orchestrator.Split(p, "run-1", epoch, 99)
		if err != nil {
			t.Fatalf("plan %d: Split: %v", iter, err)
		}
		gens := 0
		for _, rg := range p.Regions {
			gens += rg.Generators
		}
		slices := len(orchestrator.SliceWindows(p.Engine.Duration, p.Slice))
		if len(tasks) != gens*slices {
			t.Fatalf("plan %d: %d tasks, want %d generators × %d slices", iter, len(tasks), gens, slices)
		}
		sched, err := engine.NewSchedule(p.Engine.Load, p.Engine.Duration)
		if err != nil {
			t.Fatalf("plan %d: %v", iter, err)
		}
		seen := map[string]bool{}
		next := make([]time.Duration, gens) // each generator's next window start
		var arrivals int64
		for i := range tasks {
			task := &tasks[i]
			if err := task.Validate(); err != nil {
				t.Fatalf("plan %d: task %s: %v", iter, task.ID, err)
			}
			c := task.Config
			if seen[task.ID] {
				t.Fatalf("plan %d: task %s twice", iter, task.ID)
			}
			seen[task.ID] = true
			if c.Shard.Count != gens || c.Shard.Seed != 99 || !c.Epoch.Equal(epoch) || c.Interval != orchestrator.Interval(p.Engine) {
				t.Fatalf("plan %d: task %s: shard %+v epoch %v interval %v", iter, task.ID, c.Shard, c.Epoch, c.Interval)
			}
			if c.Window.Start != next[task.Generator] {
				t.Fatalf("plan %d: task %s starts at %v, want %v (gap or overlap)", iter, task.ID, c.Window.Start, next[task.Generator])
			}
			next[task.Generator] = c.Window.End
			arrivals += shareOf(sched, c.Shard, c.Window)
		}
		for g, end := range next {
			if end != p.Engine.Duration {
				t.Fatalf("plan %d: generator %d's windows end at %v, want %v", iter, g, end, p.Engine.Duration)
			}
		}
		if want := sched.Count(engine.Window{}); arrivals != want {
			t.Fatalf("plan %d: tasks' arrivals add up to %d, plan has %d", iter, arrivals, want)
		}
	}
}

// shareOf counts the arrivals i ≡ sh.Index (mod sh.Count) due in w, as the
// engine's striping assigns them.
func shareOf(s *engine.Schedule, sh engine.Shard, w engine.Window) int64 {
	lo, hi := s.First(w.Start), s.First(w.End) // arrivals [lo, hi) are due in w
	n, k := int64(sh.Count), int64(sh.Index)
	below := func(x int64) int64 { return (x - k + n - 1) / n } // #i < x with i ≡ k
	return below(hi) - below(lo)
}

func TestSplitRejects(t *testing.T) {
	ok := &plan.Plan{Engine: engine.Config{Duration: time.Second}, Regions: []plan.Region{{Name: "local", Generators: 1}}}
	if _, err := orchestrator.Split(ok, "run-1", time.Now(), 1); err != nil {
		t.Fatalf("Split(valid) = %v", err)
	}
	bad := []*plan.Plan{
		nil,
		{Engine: engine.Config{Duration: 0}, Regions: ok.Regions},
		{Engine: ok.Engine},
		{Engine: ok.Engine, Regions: []plan.Region{{Name: "../x", Generators: 1}}},
		{Engine: ok.Engine, Regions: []plan.Region{{Name: "local", Generators: 0}}},
	}
	for i, p := range bad {
		if _, err := orchestrator.Split(p, "run-1", time.Now(), 1); err == nil {
			t.Errorf("Split(bad plan %d) succeeded", i)
		}
	}
	if _, err := orchestrator.Split(ok, "../run", time.Now(), 1); err == nil {
		t.Error("Split with an invalid run id succeeded")
	}
}

// TestLeadAWS: the default aws lead leaves the SQS event source mapping
// time to ramp from 5 to the largest region's generators at 300 a minute.
func TestLeadAWS(t *testing.T) {
	tests := []struct {
		gens []int
		want time.Duration
	}{
		{[]int{4}, orchestrator.DefaultLeadAWS},
		{[]int{5, 2}, orchestrator.DefaultLeadAWS},
		{[]int{305}, orchestrator.DefaultLeadAWS + time.Minute},
		{[]int{10, 1000}, orchestrator.DefaultLeadAWS + 199*time.Second}, // 995/300 min = 3m19s
	}
	for _, tt := range tests {
		p := &plan.Plan{}
		for i, g := range tt.gens {
			p.Regions = append(p.Regions, plan.Region{Name: fmt.Sprintf("r%d", i), Generators: g})
		}
		if got := orchestrator.LeadAWS(p); got != tt.want {
			t.Errorf("generators %v: lead %v, want %v", tt.gens, got, tt.want)
		}
	}
}
