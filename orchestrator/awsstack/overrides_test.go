package awsstack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadOverrides(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		file string
		want Overrides
		err  []string // substrings of the error
	}{
		{name: "yaml", file: `
us-east-1:
  queue_url: http://127.0.0.1:9324/000000000000/tasks-a
  burst_queue_url: http://127.0.0.1:9324/000000000000/burst-a
  bucket: results-a
  function: stampede-generator
eu-west-1:
  queue_url: http://127.0.0.1:9325/000000000000/tasks-b
  bucket: results-b
`, want: Overrides{
			"us-east-1": {Region: "us-east-1", QueueURL: "http://127.0.0.1:9324/000000000000/tasks-a",
				BurstQueueURL: "http://127.0.0.1:9324/000000000000/burst-a", Bucket: "results-a", FunctionName: "stampede-generator"},
			"eu-west-1": {Region: "eu-west-1", QueueURL: "http://127.0.0.1:9325/000000000000/tasks-b", Bucket: "results-b"},
		}},
		{name: "json", file: `{"ap-south-1": {"queue_url": "https://sqs.ap-south-1.amazonaws.com/1/t", "bucket": "r"}}`,
			want: Overrides{"ap-south-1": {Region: "ap-south-1", QueueURL: "https://sqs.ap-south-1.amazonaws.com/1/t", Bucket: "r"}}},
		{name: "missing fields, all reported", file: "us-east-1: {bucket: b}\neu-west-1: {queue_url: q}\n",
			err: []string{"us-east-1: queue_url is missing", "eu-west-1: bucket is missing"}},
		{name: "unknown key", file: "us-east-1: {queue_url: q, bucket: b, bukket: c}\n", err: []string{"field bukket not found"}},
		{name: "empty", file: "", err: []string{"no regions"}},
		{name: "not a map", file: "- us-east-1\n", err: []string{"cannot unmarshal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "endpoints.yaml")
			if err := os.WriteFile(p, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadOverrides(p)
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatalf("LoadOverrides = %+v, want an error", got)
				}
				for _, w := range tc.err {
					if !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), p) {
						t.Errorf("LoadOverrides error %q lacks %q or the path", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("LoadOverrides = %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := LoadOverrides(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Error("LoadOverrides(absent file) = nil error")
	}
}
