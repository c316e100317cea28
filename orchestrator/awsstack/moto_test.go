package awsstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/stampede-load/stampede/infra/localaws"
)

// accountSettings is what the fake Lambda GetAccountSettings answers (moto
// does not serve it).
type accountSettings struct {
	mu                sync.Mutex
	limit, unreserved int
}

func (a *accountSettings) set(limit, unreserved int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.limit, a.unreserved = limit, unreserved
}

// frontMoto serves Lambda GetAccountSettings from settings and proxies every
// other request to moto, so one endpoint serves CloudFormation, STS and Lambda.
func frontMoto(t *testing.T, moto string, settings *accountSettings) string {
	t.Helper()
	u, err := url.Parse(moto)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/2016-08-19/account-settings") {
			proxy.ServeHTTP(w, r)
			return
		}
		settings.mu.Lock()
		body := map[string]any{
			"AccountLimit": map[string]any{
				"ConcurrentExecutions":           settings.limit,
				"UnreservedConcurrentExecutions": settings.unreserved,
				"CodeSizeUnzipped":               262144000,
				"CodeSizeZipped":                 52428800,
				"TotalCodeSize":                  80530636800,
			},
			"AccountUsage": map[string]any{"FunctionCount": 1, "TotalCodeSize": 1},
		}
		settings.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// testConfig is an SDK config with static credentials against endpoint.
func testConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	}
}

// createStack creates stack in region from body, waits for it and returns
// its outputs.
func createStack(t *testing.T, cfg aws.Config, region, stack, body string) map[string]string {
	t.Helper()
	cfg = cfg.Copy()
	cfg.Region = region
	return localaws.CreateStack(t, cloudformation.NewFromConfig(cfg), stack, body)
}

// TestAgainstMoto discovers stacks and runs the preflight against
// moto_server (CloudFormation, STS, Lambda) on loopback.
func TestAgainstMoto(t *testing.T) {
	settings := &accountSettings{limit: 1000, unreserved: 1000}
	cfg := testConfig(frontMoto(t, localaws.StartMoto(t), settings))
	ctx := context.Background()

	out := createStack(t, cfg, "us-east-1", "stampede", localaws.GeneratorStack(""))
	createStack(t, cfg, "us-east-1", "stopped", localaws.GeneratorStack("ReservedConcurrentExecutions: 0"))
	createStack(t, cfg, "us-east-1", "small", localaws.GeneratorStack("ReservedConcurrentExecutions: 10"))
	createStack(t, cfg, "us-east-1", "alien", "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n")

	t.Run("discover", func(t *testing.T) {
		ep, err := Discover(ctx, cfg, "us-east-1", "stampede")
		if err != nil {
			t.Fatal(err)
		}
		want := Endpoints{Region: "us-east-1", QueueURL: out[OutputQueueURL], BurstQueueURL: out[OutputBurstQueueURL],
			Bucket: out[OutputBucket], FunctionName: "stampede-generator"}
		if ep != want || !strings.Contains(ep.QueueURL, "stampede-TaskQueue-") || !strings.Contains(ep.BurstQueueURL, "stampede-BurstQueue-") ||
			!strings.HasPrefix(ep.Bucket, "stampede-resultsbucket-") {
			t.Errorf("Discover = %+v, want %+v (the stack's resources)", ep, want)
		}
	})

	t.Run("discover missing stack", func(t *testing.T) {
		_, err := Discover(ctx, cfg, "eu-west-1", "stampede")
		want := "stack stampede not found in eu-west-1: run `stampede deploy --regions eu-west-1 --stack-name stampede`"
		if !errors.Is(err, ErrNoStack) || fmt.Sprint(err) != want {
			t.Errorf("Discover(eu-west-1) = %v, want ErrNoStack and %q", err, want)
		}
	})

	t.Run("discover foreign stack", func(t *testing.T) {
		_, err := Discover(ctx, cfg, "us-east-1", "alien")
		if err == nil || !strings.Contains(err.Error(), "stack alien in us-east-1 has no output") {
			t.Errorf("Discover(alien) = %v", err)
		}
	})

	t.Run("resolve with override", func(t *testing.T) {
		over := Overrides{"eu-west-1": {Region: "eu-west-1", QueueURL: "http://127.0.0.1:1/q", Bucket: "b"}}
		eps, err := Resolve(ctx, cfg, []string{"us-east-1", "eu-west-1"}, "stampede", over)
		if err != nil {
			t.Fatal(err)
		}
		if eps["us-east-1"].Bucket != out[OutputBucket] || eps["eu-west-1"] != over["eu-west-1"] || len(eps) != 2 {
			t.Errorf("Resolve = %+v", eps)
		}
	})

	for _, tc := range []struct {
		name              string
		regions           []string
		stack             string
		overrides         Overrides
		generators        map[string]int
		limit, unreserved int
		want              []string // substrings of the error; none: no error
		notWant           string
	}{
		{name: "ok", regions: []string{"us-east-1"}, stack: "stampede",
			generators: map[string]int{"us-east-1": 1000}, limit: 1000, unreserved: 1000},
		{name: "stack missing in one region", regions: []string{"us-east-1", "eu-west-1"}, stack: "stampede",
			generators: map[string]int{"us-east-1": 10, "eu-west-1": 10}, limit: 1000, unreserved: 1000,
			want:    []string{"stack stampede not found in eu-west-1: run `stampede deploy --regions eu-west-1"},
			notWant: "us-east-1"},
		{name: "over the account limit", regions: []string{"us-east-1"}, stack: "stampede",
			generators: map[string]int{"us-east-1": 1001}, limit: 1000, unreserved: 1000,
			want: []string{"needs 1001 generators at once but the account's Lambda concurrency limit there is 1000", "Service Quotas"}},
		{name: "new account", regions: []string{"us-east-1"}, stack: "stampede",
			generators: map[string]int{"us-east-1": 50}, limit: 10, unreserved: 10,
			want: []string{"limit there is 10"}},
		{name: "pool reserved by others", regions: []string{"us-east-1"}, stack: "stampede",
			generators: map[string]int{"us-east-1": 200}, limit: 1000, unreserved: 100,
			want: []string{"only 100 of the account's 1000 concurrent executions are unreserved"}},
		{name: "stopped function", regions: []string{"us-east-1"}, stack: "stopped",
			generators: map[string]int{"us-east-1": 1}, limit: 1000, unreserved: 1000,
			want: []string{"stopped-generator is stopped (reserved concurrency 0", "aws lambda delete-function-concurrency --region us-east-1 --function-name stopped-generator"}},
		{name: "reserved too small", regions: []string{"us-east-1"}, stack: "small",
			generators: map[string]int{"us-east-1": 11}, limit: 1000, unreserved: 1000,
			want: []string{"needs 11 generators at once but function small-generator has a reserved concurrency of 10"}},
		{name: "reserved enough", regions: []string{"us-east-1"}, stack: "small",
			generators: map[string]int{"us-east-1": 10}, limit: 5, unreserved: 5},
		// Regions of an override file: no stack, but the named function and
		// the account are checked.
		{name: "override ok", regions: []string{"us-east-1", "eu-west-1"}, stack: "none",
			overrides:  Overrides{"us-east-1": {FunctionName: "stampede-generator"}, "eu-west-1": {}},
			generators: map[string]int{"us-east-1": 100, "eu-west-1": 100}, limit: 1000, unreserved: 1000},
		{name: "override stopped function", regions: []string{"us-east-1", "eu-west-1"}, stack: "stampede",
			overrides:  Overrides{"us-east-1": {FunctionName: "stopped-generator"}},
			generators: map[string]int{"us-east-1": 1, "eu-west-1": 1}, limit: 1000, unreserved: 1000,
			want: []string{"us-east-1: generator function stopped-generator is stopped (reserved concurrency 0",
				"aws lambda delete-function-concurrency --region us-east-1 --function-name stopped-generator",
				"stack stampede not found in eu-west-1"}},
		{name: "override function missing", regions: []string{"us-east-1"},
			overrides:  Overrides{"us-east-1": {FunctionName: "no-such-generator"}},
			generators: map[string]int{"us-east-1": 1}, limit: 1000, unreserved: 1000,
			want:    []string{"us-east-1: generator function no-such-generator: ", "ResourceNotFound", "check function: for us-east-1 in the override file"},
			notWant: "stampede deploy"},
		{name: "override reserved too small", regions: []string{"us-east-1"},
			overrides:  Overrides{"us-east-1": {FunctionName: "small-generator"}},
			generators: map[string]int{"us-east-1": 11}, limit: 1000, unreserved: 1000,
			want: []string{"function small-generator has a reserved concurrency of 10: run `aws lambda put-function-concurrency --region us-east-1 --function-name small-generator --reserved-concurrent-executions 11`"}},
		{name: "override without a function, over the account", regions: []string{"us-east-1"},
			overrides:  Overrides{"us-east-1": {}},
			generators: map[string]int{"us-east-1": 50}, limit: 10, unreserved: 10,
			want: []string{"us-east-1: the plan needs 50 generators at once but the account's Lambda concurrency limit there is 10"}},
	} {
		t.Run("preflight "+tc.name, func(t *testing.T) {
			settings.set(tc.limit, tc.unreserved)
			err := Preflight(ctx, cfg, tc.regions, tc.stack, tc.overrides, tc.generators)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Preflight = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Preflight = nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Preflight = %v\nwant it to contain %q", err, w)
				}
			}
			if tc.notWant != "" && strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("Preflight = %v\nmentions %q", err, tc.notWant)
			}
		})
	}

	t.Run("preflight without credentials", func(t *testing.T) {
		bad := cfg.Copy()
		bad.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{}, errors.New("no credential sources found")
		})
		err := Preflight(ctx, bad, []string{"us-east-1", "eu-west-1"}, "stampede", nil, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "no working AWS credentials") || !strings.Contains(err.Error(), "aws configure") ||
			strings.Contains(err.Error(), "eu-west-1") {
			t.Errorf("Preflight(no credentials) = %v", err)
		}
	})
}
