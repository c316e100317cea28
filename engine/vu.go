package engine

import (
	"context"
	"math/rand/v2"
	"time"
)

// stepOutcome is how a step (or a sequence of steps) ended.
type stepOutcome int

const (
	stepOK stepOutcome = iota
	stepFailed
	stepCanceled // the run stopped under it: not a result
)

// vuser is one virtual user: its Scope, its reusable request, response and
// buffers, and which setup steps it has run. It is owned by one goroutine
// at a time.
type vuser struct {
	run       *runner
	lane      int
	scope     Scope
	userSetup bool   // the plan-level setup has succeeded
	setupDone []bool // per scenario

	req    Request
	resp   Response
	doc    Doc
	hv     func(string) string // v.resp.HeaderValue, bound once
	sample Sample
	timer  *time.Timer
	// endAt is when the last step's response completed, zero once the user
	// has waited since (a think or a poll interval): the iteration's end
	// without reading the clock again.
	endAt time.Time

	target, query, header, body, scratch []byte
	lastHost                             string
}

// newVU returns virtual user number user (within the whole plan) recording
// into lane. Plan variables are evaluated here, in order.
func (r *runner) newVU(user, lane int) *vuser {
	v := &vuser{run: r, lane: lane, setupDone: make([]bool, len(r.plan.scenarios))}
	v.scope = Scope{
		Vars: make(map[string]string, len(r.plan.vars)+4),
		Rand: rand.New(rand.NewPCG(seedHash(r.seed, hashUser, uint64(user), 0),
			seedHash(r.seed, hashUser, uint64(user), 1))),
		Env:  r.env,
		Data: r.data,
		User: user,
		Row:  user,
	}
	for _, kv := range r.plan.vars {
		v.scope.Vars[kv.name] = string(kv.t.Append(nil, &v.scope))
	}
	v.hv = v.resp.HeaderValue
	return v
}

// runArrival runs an open-model arrival: the scenario is chosen from the
// arrival's plan-wide index, so the mix is the same however the plan is split.
func (v *vuser) runArrival(ctx context.Context, a arrival, lateness time.Duration) {
	s := v.run.picker.pick(seedHash(v.run.seed, hashArrival, uint64(a.index), 0))
	v.iterate(ctx, s, a.due, lateness)
}

// iterate runs one iteration of scenario s (first the plan's setup and the
// scenario's setup, each until it has once succeeded for this user) that was intended to start at intended (an offset from the
// epoch) and started lateness after it. The caller has counted it started.
func (v *vuser) iterate(ctx context.Context, s int, intended, lateness time.Duration) {
	sp := &v.run.plan.scenarios[s]
	out := stepOK
	v.endAt = time.Time{}
	if !v.userSetup {
		if out = v.steps(ctx, v.run.plan.setup, lateness); out == stepOK {
			v.userSetup = true
		}
	}
	if out == stepOK && !v.setupDone[s] {
		if out = v.steps(ctx, sp.setup, lateness); out == stepOK {
			v.setupDone[s] = true
		}
	}
	if out == stepOK {
		out = v.steps(ctx, sp.steps, lateness)
	}
	v.scope.Iteration++
	if out == stepCanceled {
		// Cut off by the end of the run: started, neither completed nor failed.
		return
	}
	ok := out == stepOK
	var end time.Duration
	if v.endAt.IsZero() {
		end = v.run.clock.now()
	} else {
		end = v.run.clock.offset(v.endAt)
	}
	v.run.rec.IterationDone(v.lane, ok)
	v.run.rec.Workflow(v.lane, s, end-intended, ok)
}

// steps runs steps in order; the first that fails ends the sequence.
func (v *vuser) steps(ctx context.Context, steps []*stepPlan, lateness time.Duration) stepOutcome {
	for _, st := range steps {
		if out := v.step(ctx, st, lateness); out != stepOK {
			return out
		}
	}
	return stepOK
}

// step sends st (every Interval while it polls), checks and records each
// response, applies its captures, then thinks.
func (v *vuser) step(ctx context.Context, st *stepPlan, lateness time.Duration) stepOutcome {
	for try := 1; ; try++ {
		v.renderRequest(st)
		v.run.client.Do(ctx, &v.req, &v.resp)
		if v.resp.Err != ErrNone && ctx.Err() != nil {
			return stepCanceled
		}
		failed, class, done := v.check(st, try)
		v.record(st, lateness, failed, class)
		v.endAt = v.resp.Done
		if failed {
			return stepFailed
		}
		if done {
			break
		}
		// The next try sets endAt again, or the step is canceled.
		if !v.sleep(ctx.Done(), st.poll.interval) {
			return stepCanceled
		}
	}
	if d := v.thinkTime(st.think); d > 0 {
		v.endAt = time.Time{}
		if !v.sleep(ctx.Done(), d) {
			return stepCanceled
		}
	}
	return stepOK
}

// check judges the response to try number try of st. done is false while
// a poll must go on.
func (v *vuser) check(st *stepPlan, try int) (failed bool, class ErrorClass, done bool) {
	if v.resp.Err != ErrNone {
		return true, v.resp.Err, true
	}
	v.doc.Reset(v.resp.Status, v.resp.Body, v.hv)
	if ok, c := st.checker.Check(&v.doc); !ok {
		return true, c, true
	}
	if pl := st.poll; pl != nil && !pl.until.Eval(&v.doc) {
		if pl.while != nil && !pl.while.Eval(&v.doc) {
			return true, ErrPoll, true
		}
		if pl.maxTries > 0 && try >= pl.maxTries {
			return true, ErrPoll, true
		}
		return false, ErrNone, false
	}
	for _, c := range st.captures {
		val, ok := c.x.Extract(&v.doc)
		if !ok {
			return true, ErrCapture, true
		}
		v.scope.Vars[c.name] = val
	}
	return false, ErrNone, true
}

// record adds the response as a sample of st. Response time is measured
// from the intended time: service time plus the iteration's lateness.
// Service time runs from the first byte sent, or from the start of Do when
// nothing was sent (a failed dial, say).
func (v *vuser) record(st *stepPlan, lateness time.Duration, failed bool, class ErrorClass) {
	r := &v.resp
	done := r.Done
	if done.IsZero() {
		done = time.Now()
	}
	sent := r.Sent
	if sent.IsZero() {
		sent = r.Start
	}
	service := max(done.Sub(sent), 0)
	v.sample = Sample{
		Step:     st.id,
		At:       v.run.clock.offset(done),
		Response: service + lateness,
		Service:  service,
		Status:   r.Status,
		Err:      class,
		Failed:   failed,
		BytesOut: r.BytesOut,
		BytesIn:  r.BytesIn,
	}
	v.run.rec.Record(v.lane, &v.sample)
}

// thinkTime is how long a think waits, drawn from the user's Rand.
func (v *vuser) thinkTime(t Think) time.Duration {
	switch t.Kind {
	case ThinkConstant, ThinkPacing:
		return t.Min
	case ThinkBetween:
		if t.Max <= t.Min {
			return t.Min
		}
		return t.Min + time.Duration(v.scope.Rand.Int64N(int64(t.Max-t.Min)+1))
	}
	return 0
}

// sleep waits d, or until done is closed (then it reports false).
func (v *vuser) sleep(done <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	if v.timer == nil {
		v.timer = time.NewTimer(d)
	} else {
		v.timer.Reset(d)
	}
	select {
	case <-v.timer.C:
		return true
	case <-done:
		v.timer.Stop()
		return false
	}
}
