package engine

import (
	"math"
	"testing"
	"time"
)

func schedMs(f float64) time.Duration {
	return time.Duration(math.Round(f * float64(time.Millisecond)))
}

func TestScheduleAt(t *testing.T) {
	tests := []struct {
		name  string
		load  Load
		dur   time.Duration
		first []time.Duration // due times of arrivals 0, 1, 2...
		total int64
	}{
		{"constant", Load{Rate: 10}, time.Second,
			[]time.Duration{0, schedMs(100), schedMs(200), schedMs(300)}, 10},
		{"fractional", Load{Rate: 2.5}, 2 * time.Second,
			[]time.Duration{0, schedMs(400), schedMs(800), schedMs(1200), schedMs(1600)}, 5},
		{"below one per test", Load{Rate: 0.3}, 5 * time.Second,
			[]time.Duration{0, schedMs(3333.333333)}, 2},
		{"zero rate", Load{Rate: 0}, time.Second, nil, 0},
		{"ramp up from zero", Load{Stages: []Stage{{2 * time.Second, 10}}}, 2 * time.Second,
			// 2.5·t² = i
			[]time.Duration{0, schedMs(632.455532), schedMs(894.427191), schedMs(1095.445115)}, 10},
		{"ramp down", Load{Rate: 10, Stages: []Stage{{time.Second, 0}}}, 2 * time.Second,
			// 10t − 5t² = i
			[]time.Duration{0, schedMs(105.572809), schedMs(225.403331), schedMs(367.544468), schedMs(552.786405)}, 5},
		{"spike", Load{Rate: 1, Stages: []Stage{{0, 10}, {time.Second, 10}, {0, 1}}}, 3 * time.Second,
			[]time.Duration{0, schedMs(100), schedMs(200), schedMs(300), schedMs(400), schedMs(500), schedMs(600), schedMs(700),
				schedMs(800), schedMs(900), time.Second, 2 * time.Second}, 12},
		{"hold after last stage", Load{Rate: 0, Stages: []Stage{{time.Second, 2}}}, 3 * time.Second,
			// t² = i for t < 1s (one arrival at 0); then 2/s from 1s: cumulative 1 at 1s
			[]time.Duration{0, time.Second, schedMs(1500), 2 * time.Second, schedMs(2500)}, 5},
		{"stage cut at duration", Load{Stages: []Stage{{4 * time.Second, 40}}}, 2 * time.Second,
			nil, 20},
		{"flat zero then rate", Load{Stages: []Stage{{0, 0}, {0, 0}, {time.Second, 0}, {0, 4}}}, 2 * time.Second,
			[]time.Duration{time.Second, schedMs(1250), schedMs(1500), schedMs(1750)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSchedule(tt.load, tt.dur)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.first {
				got, ok := s.At(int64(i))
				if !ok || got != want {
					t.Errorf("At(%d) = %v, %v; want %v", i, got, ok, want)
				}
			}
			if _, ok := s.At(tt.total); ok {
				t.Errorf("At(%d) exists; want the plan to end at %d arrivals", tt.total, tt.total)
			}
			if tt.total > 0 {
				if _, ok := s.At(tt.total - 1); !ok {
					t.Errorf("At(%d) missing", tt.total-1)
				}
			}
			if got := s.Count(Window{}); got != tt.total {
				t.Errorf("Count = %d; want %d", got, tt.total)
			}
			prev := time.Duration(-1)
			for i := int64(0); i < tt.total; i++ {
				at, _ := s.At(i)
				if at < prev {
					t.Fatalf("At(%d) = %v before At(%d) = %v", i, at, i-1, prev)
				}
				prev = at
			}
		})
	}
}

func TestScheduleCountWindows(t *testing.T) {
	s, err := NewSchedule(Load{Rate: 10}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		w    Window
		want int64
	}{
		{Window{}, 100},
		{Window{0, time.Second}, 10},               // 0..900ms
		{Window{time.Second, 2 * time.Second}, 10}, // 1s is in the second window
		{Window{schedMs(50), schedMs(250)}, 2},     // 100ms, 200ms
		{Window{schedMs(100), schedMs(100)}, 0},
		{Window{9 * time.Second, 0}, 10},
		{Window{9 * time.Second, 20 * time.Second}, 10},
	}
	for _, tt := range tests {
		if got := s.Count(tt.w); got != tt.want {
			t.Errorf("Count(%v) = %d; want %d", tt.w, got, tt.want)
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	bad := []Load{
		{Rate: -1},
		{Rate: math.NaN()},
		{Model: "bursty", Rate: 1},
		{Rate: 1, Stages: []Stage{{-time.Second, 1}}},
		{Rate: 1, Stages: []Stage{{time.Second, -1}}},
		{Model: ModelClosed, Users: -1},
	}
	for _, l := range bad {
		if _, err := NewSchedule(l, time.Second); err == nil {
			t.Errorf("NewSchedule(%+v) succeeded", l)
		}
	}
	if _, err := NewSchedule(Load{Rate: 1}, 0); err == nil {
		t.Error("zero duration accepted")
	}
}

// TestShardingExact checks that the shards of every split, over every set
// of windows, together yield each arrival of the unsplit plan exactly once,
// at the same due time.
func TestShardingExact(t *testing.T) {
	loads := []struct {
		load Load
		dur  time.Duration
	}{
		{Load{Rate: 97.3}, 3 * time.Second},
		{Load{Rate: 5, Stages: []Stage{{time.Second, 200}, {0, 50}, {schedMs(700), 0}, {schedMs(500), 120}}}, 4 * time.Second},
		{Load{Stages: []Stage{{2 * time.Second, 333.3}}}, 2 * time.Second},
	}
	splits := [][]time.Duration{
		nil,
		{time.Second},
		{schedMs(333), schedMs(1000), schedMs(1700.5), schedMs(2999.999)},
	}
	for _, l := range loads {
		s, err := NewSchedule(l.load, l.dur)
		if err != nil {
			t.Fatal(err)
		}
		total := s.Count(Window{})
		for _, n := range []int{1, 2, 3, 7} {
			for _, cuts := range splits {
				seen := make(map[int64]time.Duration)
				bounds := append(append([]time.Duration{0}, cuts...), 0)
				for wi := 0; wi+1 < len(bounds); wi++ {
					w := Window{Start: bounds[wi], End: bounds[wi+1]}
					var sum int64
					for k := 0; k < n; k++ {
						q := newArrivalSeq(s, Shard{Index: k, Count: n}, w)
						for i, at, ok := q.Next(); ok; i, at, ok = q.Next() {
							if int(i%int64(n)) != k {
								t.Fatalf("shard %d/%d got arrival %d", k, n, i)
							}
							if at < w.Start || (w.End != 0 && at >= w.End) {
								t.Fatalf("arrival %d at %v outside %v", i, at, w)
							}
							if _, dup := seen[i]; dup {
								t.Fatalf("arrival %d twice (n=%d, cuts=%v)", i, n, cuts)
							}
							seen[i] = at
							sum++
						}
					}
					if want := s.Count(w); sum != want {
						t.Errorf("window %v n=%d: shards got %d; Count says %d", w, n, sum, want)
					}
				}
				if int64(len(seen)) != total {
					t.Errorf("load %+v n=%d cuts=%v: %d arrivals; want %d", l.load, n, cuts, len(seen), total)
				}
				for i := int64(0); i < total; i++ {
					if want, _ := s.At(i); seen[i] != want {
						t.Fatalf("arrival %d at %v; want %v", i, seen[i], want)
					}
				}
			}
		}
	}
}

func TestScheduleClosedUsers(t *testing.T) {
	ramp, err := NewSchedule(Load{Model: ModelClosed, Users: 10, RampUp: 10 * time.Second}, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := NewSchedule(Load{Model: ModelClosed, Users: 2, Stages: []Stage{
		{0, 6}, {2 * time.Second, 6}, {2 * time.Second, 2}, {0, 4},
	}}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	users := []struct {
		s    *Schedule
		at   time.Duration
		want int
	}{
		{ramp, 0, 0},
		{ramp, schedMs(1), 1},
		{ramp, schedMs(4500), 5},
		{ramp, 10 * time.Second, 10},
		{ramp, 15 * time.Second, 10},
		{stages, 0, 6},
		{stages, schedMs(1999), 6},
		{stages, 3 * time.Second, 4},
		{stages, schedMs(3999), 3},
		{stages, 5 * time.Second, 4},
	}
	for _, tt := range users {
		if got := tt.s.Users(tt.at); got != tt.want {
			t.Errorf("Users(%v) = %d; want %d", tt.at, got, tt.want)
		}
	}
	starts := []struct {
		s    *Schedule
		u    int
		from time.Duration
		want time.Duration
		ok   bool
	}{
		{ramp, 0, 0, 0, true},
		{ramp, 3, 0, 3 * time.Second, true},
		{ramp, 9, 0, 9 * time.Second, true},
		{ramp, 10, 0, 0, false},
		{ramp, 3, 5 * time.Second, 5 * time.Second, true},
		{stages, 5, 0, 0, true},
		{stages, 5, 3 * time.Second, 0, false}, // stops at 2.5s, never back
		{stages, 3, schedMs(3500), 4 * time.Second, true},
	}
	for _, tt := range starts {
		got, ok := tt.s.UserStart(tt.u, tt.from)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("UserStart(%d, %v) = %v, %v; want %v, %v", tt.u, tt.from, got, ok, tt.want, tt.ok)
		}
		if ok && !tt.s.Active(tt.u, got+time.Microsecond) {
			t.Errorf("user %d not active just after its start %v", tt.u, got)
		}
	}
	if got := stages.MaxUsers(); got != 6 {
		t.Errorf("MaxUsers = %d; want 6", got)
	}
}

func TestScenarioPicker(t *testing.T) {
	p, err := newScenarioPicker([]Scenario{{Weight: 1}, {Weight: 3}, {Weight: 0}, {Weight: 6}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200000
	var got [4]int
	for i := uint64(0); i < n; i++ {
		got[p.pick(seedHash(42, hashArrival, i, 0))]++
	}
	want := [4]float64{0.1, 0.3, 0, 0.6}
	for k := range got {
		if frac := float64(got[k]) / n; math.Abs(frac-want[k]) > 0.005 {
			t.Errorf("scenario %d: %.4f of picks; want %.2f", k, frac, want[k])
		}
	}
	if _, err := newScenarioPicker([]Scenario{{Weight: -1}}); err == nil {
		t.Error("negative weight accepted")
	}
	eq, _ := newScenarioPicker([]Scenario{{}, {}})
	if eq.pick(0) != 0 || eq.pick(math.MaxUint64) != 1 {
		t.Error("zero weights do not weigh the same")
	}
}
