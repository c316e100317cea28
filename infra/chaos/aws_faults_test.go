package chaos

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stampede-load/stampede/engine"
	"github.com/stampede-load/stampede/infra/localaws"
)

// awsInfraFaults faults a share of every kind of SQS and S3 request for
// the whole run — the CLI's, the generators' and the event source's —
// with throttling and server errors, each request at most once: the SDKs
// retry with backoff, every task runs once and the counts are exact.
func awsInfraFaults(t *testing.T, env *awsEnv) {
	r := &Row{Order: 10, Backend: "aws", Scenario: "S3 and SQS errors and throttling during the whole run"}
	row(t, r)
	sqsRules := []localaws.Rule{
		{Name: "SendMessageBatch throttled", Match: localaws.SQSOp("SendMessageBatch"), Every: 2, Once: true, Fault: localaws.SQSThrottled()},
		{Name: "ReceiveMessage 500", Match: localaws.SQSOp("ReceiveMessage"), Every: 3, Once: false, Fault: localaws.SQSInternalError()},
		{Name: "DeleteMessage 500", Match: localaws.SQSOp("DeleteMessage"), Every: 2, Once: true, Fault: localaws.SQSInternalError()},
	}
	s3Rules := []localaws.Rule{
		{Name: "PUT SlowDown", Match: localaws.S3Op(http.MethodPut, ""), Every: 3, Once: true, Fault: localaws.S3SlowDown()},
		{Name: "LIST SlowDown", Match: localaws.S3List, Every: 3, Once: true, Fault: localaws.S3SlowDown()},
		{Name: "GET 500", Match: localaws.S3Op(http.MethodGet, "/runs/"), Every: 4, Once: true, Fault: localaws.S3InternalError()},
	}
	ar := newAWSRegion(t, env, awsOptions{Emulators: 4, SQSRules: sqsRules, S3Rules: s3Rules})
	tg := newCountingTarget(t)
	// Two slices: the second wave is sent while the first runs.
	rep := ar.start(t, planYAML(4*time.Second, 40, 2, awsRegions+"\nslice: 2s"), tg.URL).finish(t, r, 0)
	r.Lost = tg.Hits() - rep.Requests
	checkReportExact(t, rep, tg)
	var parts []string
	total := 0
	for _, rules := range []struct {
		p     *localaws.FaultProxy
		rules []localaws.Rule
	}{{ar.sqsProxy, sqsRules}, {ar.s3Proxy, s3Rules}} {
		for _, rule := range rules.rules {
			n := rules.p.Faulted(rule.Name)
			total += n
			parts = append(parts, fmt.Sprintf("%d %s", n, rule.Name))
			if n == 0 {
				t.Errorf("no request was faulted by %q", rule.Name)
			}
		}
	}
	r.Faults = fmt.Sprintf("%d faults: %s", total, strings.Join(parts, ", "))
	r.Note = fmt.Sprintf("every fault retried with backoff by the SDK; %d tasks ran once each; report = target = %d", rep.Shards.Completed, tg.Hits())
}

// awsFinalWriteFails makes S3 refuse every write of one task's final
// result (503 SlowDown, every attempt): the generator gives up after its
// retries and logs why, the message is not deleted, its redelivery finds
// the lease and does nothing, and the report names the task missing (its
// checkpoint still counts) and exits 4.
func awsFinalWriteFails(t *testing.T, env *awsEnv) {
	r := &Row{Order: 11, Backend: "aws", Scenario: "a final result write that fails for good (S3 503 on every attempt)"}
	row(t, r)
	const victim = "g0001-s00"
	rule := localaws.Rule{Name: "result PUT refused", Every: 1, Fault: localaws.S3SlowDown(),
		Match: func(q *http.Request) bool {
			return q.Method == http.MethodPut && strings.Contains(q.URL.Path, "/results/") && strings.Contains(q.URL.Path, victim)
		}}
	ar := newAWSRegion(t, env, awsOptions{Emulators: 3, Visibility: 12, S3Rules: []localaws.Rule{rule}})
	tg := newCountingTarget(t)
	const rate, gens = 40, 2
	rep := ar.start(t, planYAML(6*time.Second, rate, gens, awsRegions), tg.URL).finish(t, r, 4)
	want := []string{awsRegionName + "/" + victim}
	if !slices.Equal(rep.Shards.Missing, want) {
		t.Errorf("missing %q, want %q", rep.Shards.Missing, want)
	}
	// The message comes back 12s after it was first received.
	for _, w := range []string{victim + ": write final result", "SlowDown", victim + ": leased already"} {
		if !ar.waitLog(w, 20*time.Second) {
			t.Errorf("the generators' log does not say %q:\n%s", w, ar.log.String())
		}
	}
	lost := tg.Hits() - rep.Requests
	bound := int64(rate / gens * 6) // the 5s checkpoint interval, and 1s in flight
	if lost <= 0 || lost > bound {
		t.Errorf("lost %d requests, want 1..%d", lost, bound)
	}
	r.Lost, r.Declared = lost, min(lost, bound)
	r.Faults = fmt.Sprintf("%d PUTs of one result refused", ar.s3Proxy.Faulted(rule.Name))
	r.Note = fmt.Sprintf("the log says why (%q); redelivery did no work; exit 4, %v missing; lost %d ≤ %d (after its last checkpoint)",
		"write final result … SlowDown", want, lost, bound)
}

// awsRefusedAddresses aims a plan at the emulator's own runtime API
// (AWS_LAMBDA_RUNTIME_API, where a request could end or steal the
// invocation) and at the link-local metadata address: the real bootstrap
// refuses every request (host_refused) and the invocation ends normally.
func awsRefusedAddresses(t *testing.T, env *awsEnv) {
	r := &Row{Order: 8, Backend: "aws", Scenario: "Lambda runtime API and link-local targets refused"}
	row(t, r)
	ar := newAWSRegion(t, env, awsOptions{Emulators: 1})
	ems := ar.emulators()
	if len(ems) != 1 || runtimeAPI(ems[0]) == "" {
		t.Fatalf("emulators %+v, want one with a runtime API address", ems)
	}
	api := runtimeAPI(ems[0])
	src := fmt.Sprintf(`name: refused
target: http://%s
duration: 2s
load: {rate: 20}
%s
allowed_hosts: [169.254.169.254]
scenarios:
  - {name: runtime, steps: [{name: runtime api, get: /2018-06-01/runtime/invocation/next}]}
  - {name: metadata, steps: [{name: metadata, get: 'http://169.254.169.254/latest/meta-data/'}]}
`, api, "generators: 1\n"+awsRegions)
	rep := ar.start(t, src, "http://"+api).finish(t, r, 0)
	if !rep.Shards.Complete() {
		t.Errorf("shards %+v", rep.Shards)
	}
	refused := rep.ErrorsByClass[string(engine.ErrHostRefused)]
	if rep.Requests == 0 || refused != rep.Requests || len(rep.Endpoints) != 2 {
		t.Errorf("%d requests, errors %v, %d endpoints: want every request of both refused", rep.Requests, rep.ErrorsByClass, len(rep.Endpoints))
	}
	// The invocation's response reaches the harness just after the result.
	for deadline := time.Now().Add(10 * time.Second); ar.fleet.Invocations() == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if ar.fleet.Invocations() != 1 || ar.fleet.Failed() != 0 {
		t.Errorf("%d invocations, %d failed: want the one to end normally", ar.fleet.Invocations(), ar.fleet.Failed())
	}
	r.Faults = fmt.Sprintf("%d requests to %s and 169.254.169.254", rep.Requests, api)
	r.Note = "every one host_refused by the real bootstrap; its invocation ended normally"
}
