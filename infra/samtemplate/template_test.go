package samtemplate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// templatePath is the project's SAM template, relative to this package.
const templatePath = "../../template.yaml"

// TestLint lints template.yaml and, in the same cfn-lint process, a copy
// with a visibility timeout below the function timeout: the copy must fail
// (E3505) and the template must not.
func TestLint(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "VisibilityTimeout: 960", "VisibilityTimeout: 60", 1)
	if bad == string(src) {
		t.Fatal("template.yaml has no `VisibilityTimeout: 960` to break")
	}
	badPath := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(badPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	err = Lint(context.Background(), templatePath, badPath)
	if err == nil {
		t.Fatal("cfn-lint passed a queue visibility timeout of 60 s")
	}
	var findings []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, templatePath+":") {
			findings = append(findings, line)
		}
	}
	if len(findings) > 0 || !strings.Contains(err.Error(), "E3505") || strings.Contains(err.Error(), "not found on PATH") {
		t.Fatalf("want only E3505 in the broken copy; cfn-lint said:\n%v", err)
	}
}

// TestTemplate transforms template.yaml once, checks that it keeps every
// promise, then breaks each promise in turn and checks that Check says so.
func TestTemplate(t *testing.T) {
	t.Parallel()
	doc, err := Transform(context.Background(), templatePath)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("clean", func(t *testing.T) {
		problems, err := Check(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Error(p)
		}
	})

	t.Run("no wildcard resources", func(t *testing.T) {
		var tm template
		if err := json.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		role := tm.Resources["GeneratorRole"]
		n := 0
		for _, pol := range list(role.Properties["Policies"]) {
			for _, s := range list(path(pol, "PolicyDocument", "Statement")) {
				for _, r := range list(path(s, "Resource")) {
					n++
					d := describe(r)
					if d == "*" || (strings.Contains(d, "*") && !strings.HasSuffix(d, "/runs/*") && !strings.HasSuffix(d, ":log-stream:*")) {
						t.Errorf("role grants on %s", d)
					}
				}
			}
		}
		if n != 5 {
			t.Errorf("role names %d resources, want 5 (objects, bucket, task queue, burst queue, log streams)", n)
		}
	})

	for _, tc := range []struct {
		name   string
		break_ func(res map[string]any)
		want   string
	}{
		{"sqs on every queue", func(res map[string]any) {
			stmt(res, "ConsumeTasks")["Resource"] = "*"
		}, `grants sqs:ReceiveMessage on *, want only TaskQueue.Arn`},
		{"objects outside runs/", func(res map[string]any) {
			stmt(res, "RunObjects")["Resource"] = map[string]any{"Fn::Sub": "${ResultsBucket.Arn}/*"}
		}, `grants s3:GetObject on ${ResultsBucket.Arn}/*`},
		{"another bucket", func(res map[string]any) {
			stmt(res, "RunObjects")["Resource"] = "arn:aws:s3:::someone-else/runs/*"
		}, `on arn:aws:s3:::someone-else/runs/*`},
		{"list without prefix", func(res map[string]any) {
			delete(stmt(res, "ListRuns"), "Condition")
		}, `grants s3:ListBucket without a StringLike s3:prefix condition`},
		{"extra action", func(res map[string]any) {
			stmt(res, "RunObjects")["Action"] = []any{"s3:GetObject", "s3:DeleteBucket"}
		}, `grants s3:DeleteBucket, which the generator does not need`},
		{"managed policy", func(res map[string]any) {
			props(res, "GeneratorRole")["ManagedPolicyArns"] = []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}
		}, `managed policies`},
		{"async retries", func(res map[string]any) {
			props(res, "GeneratorFunctionEventInvokeConfig")["MaximumRetryAttempts"] = 2
		}, `MaximumRetryAttempts is 2, want 0`},
		{"batch of ten", func(res map[string]any) {
			props(res, "GeneratorFunctionTasks")["BatchSize"] = 10
		}, `BatchSize is 10, want 1`},
		{"no batch item failures", func(res map[string]any) {
			delete(props(res, "GeneratorFunctionTasks"), "FunctionResponseTypes")
		}, `lacks ReportBatchItemFailures`},
		{"no scaling config", func(res map[string]any) {
			delete(props(res, "GeneratorFunctionTasks"), "ScalingConfig")
		}, `no ScalingConfig.MaximumConcurrency`},
		{"burst queue read by the event source", func(res map[string]any) {
			props(res, "GeneratorFunctionTasks")["EventSourceArn"] = map[string]any{"Fn::GetAtt": []any{"BurstQueue", "Arn"}}
		}, `an event source mapping reads the burst queue BurstQueue`},
		{"burst queue visibility changed", func(res map[string]any) {
			stmt(res, "TakeBurstTasks")["Action"] = []any{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
		}, `grants sqs:ChangeMessageVisibility on BurstQueue.Arn, want only TaskQueue.Arn`},
		{"burst queue not granted", func(res map[string]any) {
			stmt(res, "TakeBurstTasks")["Resource"] = map[string]any{"Fn::GetAtt": []any{"TaskQueue", "Arn"}}
		}, `does not grant sqs:ReceiveMessage on BurstQueue.Arn`},
		{"no burst queue", func(res map[string]any) {
			vars := path(props(res, "GeneratorFunction"), "Environment", "Variables").(map[string]any)
			delete(vars, "BURST_QUEUE_URL")
		}, `BURST_QUEUE_URL must Ref a burst queue`},
		{"burst queue without dead letters", func(res map[string]any) {
			delete(props(res, "BurstQueue"), "RedrivePolicy")
		}, `queue BurstQueue: RedrivePolicy must name a dead-letter queue`},
		{"burst queue shares the dead-letter queue", func(res map[string]any) {
			props(res, "BurstQueue")["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"] = map[string]any{"Fn::GetAtt": []any{"TaskDeadLetterQueue", "Arn"}}
		}, `shares the dead-letter queue TaskDeadLetterQueue with the task queue`},
		{"burst visibility below timeout", func(res map[string]any) {
			props(res, "BurstQueue")["VisibilityTimeout"] = 60
		}, `queue BurstQueue: VisibilityTimeout 60 must be above`},
		{"visibility equals timeout", func(res map[string]any) {
			props(res, "TaskQueue")["VisibilityTimeout"] = 900
		}, `VisibilityTimeout 900 must be above the function Timeout 900`},
		{"small messages", func(res map[string]any) {
			props(res, "TaskQueue")["MaximumMessageSize"] = 262144
		}, `MaximumMessageSize is 262144`},
		{"no dead-letter queue", func(res map[string]any) {
			delete(props(res, "TaskQueue"), "RedrivePolicy")
		}, `RedrivePolicy must name a dead-letter queue`},
		{"public policy allowed", func(res map[string]any) {
			path(props(res, "ResultsBucket"), "PublicAccessBlockConfiguration").(map[string]any)["BlockPublicPolicy"] = false
		}, `BlockPublicPolicy is false, want true`},
		{"plain http allowed", func(res map[string]any) {
			delete(res, "ResultsBucketPolicy")
		}, `no bucket policy denying s3:* to everyone when aws:SecureTransport is false`},
		{"no expiry", func(res map[string]any) {
			delete(props(res, "ResultsBucket"), "LifecycleConfiguration")
		}, `no enabled lifecycle rule expiring runs/`},
		{"x86", func(res map[string]any) {
			props(res, "GeneratorFunction")["Architectures"] = []any{"x86_64"}
		}, `Architectures is [x86_64], want [arm64]`},
		{"go1.x runtime", func(res map[string]any) {
			props(res, "GeneratorFunction")["Runtime"] = "go1.x"
		}, `Runtime is go1.x, want provided.al2023`},
		{"provisioned concurrency", func(res map[string]any) {
			props(res, "GeneratorFunction")["ProvisionedConcurrencyConfig"] = map[string]any{"ProvisionedConcurrentExecutions": 10}
		}, `provisioned concurrency`},
		{"logs unretained", func(res map[string]any) {
			delete(props(res, "GeneratorLogGroup"), "RetentionInDays")
		}, `no RetentionInDays`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(doc, &m); err != nil {
				t.Fatal(err)
			}
			tc.break_(m["Resources"].(map[string]any))
			broken, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			problems, err := Check(broken)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Errorf("Check found %q, want a problem containing %q", problems, tc.want)
		})
	}
}

// props returns the Properties of resource id (the test fails on a panic
// if the template no longer has it).
func props(res map[string]any, id string) map[string]any {
	return res[id].(map[string]any)["Properties"].(map[string]any)
}

// stmt returns the generator role's policy statement with the given Sid.
func stmt(res map[string]any, sid string) map[string]any {
	for _, pol := range list(props(res, "GeneratorRole")["Policies"]) {
		for _, s := range list(path(pol, "PolicyDocument", "Statement")) {
			if m := s.(map[string]any); m["Sid"] == sid {
				return m
			}
		}
	}
	return map[string]any{} // breaking nothing: the subtest fails
}
