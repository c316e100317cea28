package samtemplate

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestCLIPolicy checks infra/iam/stampede-cli-policy.json, the policy for the
// person running the CLI: valid, Allow only, and "*" resources only for the
// actions that AWS does not let a policy scope (or scopes by condition).
func TestCLIPolicy(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../iam/stampede-cli-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Action    []string
			Resource  any
			Condition map[string]any
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("infra/iam/stampede-cli-policy.json: %v", err)
	}
	if doc.Version != "2012-10-17" {
		t.Errorf("Version %q", doc.Version)
	}
	unscoped := []string{"sts:GetCallerIdentity", "lambda:GetAccountSettings", "cloudformation:ValidateTemplate",
		"cloudformation:GetTemplateSummary", "lambda:ListEventSourceMappings", "lambda:GetEventSourceMapping", "logs:DescribeLogGroups"}
	need := map[string]bool{ // what deploy, preflight, the kill switch and undeploy call
		"sts:GetCallerIdentity": false, "lambda:GetAccountSettings": false, "lambda:GetFunctionConcurrency": false,
		"lambda:PutFunctionConcurrency": false, "cloudformation:DescribeStacks": false, "cloudformation:DescribeStackResource": false,
		"cloudformation:CreateChangeSet": false, "cloudformation:DeleteStack": false, "s3:DeleteObject": false, "sqs:SendMessage": false,
		"lambda:InvokeFunction": false, "iam:PassRole": false, "lambda:DeleteFunctionConcurrency": false,
	}
	// The burst dispatch and the kill switch act on the generator function
	// and nothing else.
	onlyFunction := []string{"lambda:InvokeFunction", "lambda:GetFunctionConcurrency", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"}
	const function = "arn:aws:lambda:*:*:function:stampede-generator"
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Sid == "" || len(s.Action) == 0 {
			t.Errorf("statement %q: want a Sid, Allow and actions", s.Sid)
		}
		for _, a := range s.Action {
			if strings.HasSuffix(a, ":*") || a == "*" {
				t.Errorf("statement %s: wildcard action %s", s.Sid, a)
			}
			if _, ok := need[a]; ok {
				need[a] = true
			}
			if slices.Contains(onlyFunction, a) {
				if rs := list(s.Resource); len(rs) != 1 || rs[0] != function || s.Condition != nil {
					t.Errorf("statement %s: %s on %v, want only %s", s.Sid, a, s.Resource, function)
				}
			}
		}
		for _, r := range list(s.Resource) {
			r := r.(string)
			switch {
			case r == "*" && s.Condition != nil:
			case r == "*":
				for _, a := range s.Action {
					if !slices.Contains(unscoped, a) {
						t.Errorf("statement %s: %s on \"*\" could be scoped", s.Sid, a)
					}
				}
			case !strings.Contains(r, "stampede") && !strings.Contains(r, "aws-sam-cli-managed-default") && !strings.Contains(r, "Serverless-2016-10-31"):
				t.Errorf("statement %s: resource %s is not stampede's", s.Sid, r)
			}
		}
	}
	for a, ok := range need {
		if !ok {
			t.Errorf("the policy does not allow %s", a)
		}
	}
}
