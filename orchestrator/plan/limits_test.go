package plan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCheckLimits(t *testing.T) {
	const scen = "scenarios: [{steps: [{get: /}]}]\n"
	const allow = " (hint: %s, or pass --allow-large to run a plan this large)"
	tests := []struct {
		name string
		src  string
		gens int // a --generators override (0: none)
		want []string
	}{
		{"within", head + "generators: 100\n" + scen, 0, nil},
		{"at the limits", "target: http://127.0.0.1:8080\nduration: 1h\nload: {rate: 10000}\ngenerators: 100\n" + scen, 0, nil},
		{"rate", "target: http://127.0.0.1:8080\nduration: 10s\nload:\n  rate: 20000/s\n" + scen, 0,
			[]string{"4:3: load.rate: a rate of 20000 iterations/s is above the 10000/s a plan may ask for" + strings.Replace(allow, "%s", "lower the rate", 1)}},
		{"rate per minute", "target: http://127.0.0.1:8080\nduration: 10s\nload: {rate: 900000/m}\n" + scen, 0,
			[]string{"3:8: load.rate: a rate of 15000 iterations/s is above the 10000/s a plan may ask for" + strings.Replace(allow, "%s", "lower the rate", 1)}},
		{"stage peak", "target: http://127.0.0.1:8080\nload:\n  rate: 10\n  stages: [{duration: 10s, target: 100}, {duration: 0s, target: 10001}]\n" + scen, 0,
			[]string{"4:3: load.stages: a rate of 10001 iterations/s is above the 10000/s a plan may ask for" + strings.Replace(allow, "%s", "lower the rate", 1)}},
		{"users", "target: http://127.0.0.1:8080\nduration: 10s\nload: {model: closed, users: 20000}\n" + scen, 0,
			[]string{"3:23: load.users: 20000 virtual users are more than the 10000 a plan may ask for" + strings.Replace(allow, "%s", "lower the users", 1)}},
		{"duration", "target: http://127.0.0.1:8080\nduration: 2h\nload: {rate: 5}\n" + scen, 0,
			[]string{"2:1: duration: a test of 2h is longer than the 1h a plan may ask for" + strings.Replace(allow, "%s", "shorten it", 1)}},
		{"duration from stages", "target: http://127.0.0.1:8080\nload:\n  stages: [{duration: 90m, target: 5}]\n" + scen, 0,
			[]string{"3:3: load.stages: a test of 1h30m is longer than the 1h a plan may ask for" + strings.Replace(allow, "%s", "shorten it", 1)}},
		{"regions add up", head + "regions: {us-east-1: 60, eu-west-1: 41}\n" + scen, 0,
			[]string{"4:1: regions: 101 generators in all regions are more than the 100 a plan may ask for" + strings.Replace(allow, "%s", "use fewer generators", 1)}},
		{"generators times regions", head + "generators: 51\nregions: [us-east-1, eu-west-1]\n" + scen, 0,
			[]string{"4:1: generators: 102 generators in all regions are more than the 100 a plan may ask for" + strings.Replace(allow, "%s", "use fewer generators", 1)}},
		{"override", head + scen, 500,
			[]string{"1:1: generators: 500 generators in all regions are more than the 100 a plan may ask for" + strings.Replace(allow, "%s", "use fewer generators", 1)}},
		{"everything at once", "target: http://127.0.0.1:8080\nduration: 3h\nload: {rate: 1e6}\ngenerators: 1000\n" + scen, 0,
			[]string{"2:1: duration: ", "3:8: load.rate: ", "4:1: generators: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("plan.yaml", []byte(tt.src), noEnv)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tt.gens > 0 {
				for i := range p.Regions {
					p.Regions[i].Generators = tt.gens
				}
			}
			err = p.CheckLimits(DefaultLimits())
			var got []string
			if err != nil {
				var es Errors
				if !errors.As(err, &es) {
					t.Fatalf("error is %T, want Errors", err)
				}
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			slices.Sort(got)
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], "plan.yaml:"+w) {
					t.Errorf("problem %d:\n got %s\nwant plan.yaml:%s", i, got[i], w)
				}
			}
			if err := p.CheckLimits(Limits{}); err != nil {
				t.Errorf("zero limits check nothing, got %v", err)
			}
		})
	}
}

func TestCheckLimitsCustom(t *testing.T) {
	p, err := Parse("plan.yaml", []byte(head+"generators: 3\nscenarios: [{steps: [{get: /}]}]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckLimits(Limits{Rate: 5, Generators: 3, Duration: 10 * time.Second}); err != nil {
		t.Errorf("a plan at each limit: %v", err)
	}
	err = p.CheckLimits(Limits{Rate: 4.5, Generators: 2, Duration: 9 * time.Second})
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Errorf("a plan above three limits: %v", err)
	}
}
