package localaws_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stampede-load/stampede/infra/localaws"
)

func TestFresh(t *testing.T) {
	valid := regexp.MustCompile(`^tasks-[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for range 100 {
		n := localaws.Fresh("tasks")
		if !valid.MatchString(n) {
			t.Fatalf("Fresh = %q, want tasks-<8 hex digits>", n)
		}
		if seen[n] {
			t.Fatalf("Fresh returned %q twice", n)
		}
		seen[n] = true
	}
}

func TestFaults(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "upstream "+r.URL.Path)
	}))
	defer target.Close()
	f := localaws.StartFaultsMatching(t, target.URL, 2, localaws.Status(http.StatusTeapot),
		func(r *http.Request) bool { return r.URL.Path == "/hit" })
	var got []string
	for _, path := range []string{"/miss", "/hit", "/miss", "/hit", "/hit"} {
		resp, err := http.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got = append(got, resp.Status+" "+string(b))
	}
	want := []string{
		"200 OK upstream /miss", "418 I'm a teapot ", "200 OK upstream /miss", "418 I'm a teapot ", "200 OK upstream /hit",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, got[i], want[i])
		}
	}
	if f.Requests() != 5 || f.Faulted() != 2 {
		t.Errorf("Requests, Faulted = %d, %d; want 5, 2", f.Requests(), f.Faulted())
	}
}

// TestSQS starts the npm server and checks a queue's attributes.
func TestSQS(t *testing.T) {
	ctx := context.Background()
	client := localaws.NewSQSClient(localaws.Config(ctx, t, localaws.StartSQS(t)))
	url := localaws.CreateQueueAttrs(t, client, "attrs", map[string]string{"VisibilityTimeout": "7"})
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{"MaximumMessageSize", "VisibilityTimeout"},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	if out.Attributes["MaximumMessageSize"] != "1048576" || out.Attributes["VisibilityTimeout"] != "7" {
		t.Errorf("attributes = %v, want MaximumMessageSize 1048576 and VisibilityTimeout 7", out.Attributes)
	}
}
