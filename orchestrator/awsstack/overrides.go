package awsstack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Overrides maps a region to its endpoints, bypassing stack discovery.
type Overrides map[string]Endpoints

// LoadOverrides reads an override file: YAML (or JSON, which is YAML) mapping
// each region to its queue_url and bucket, and optionally its function and
// burst_queue_url (both needed by the burst dispatch; the function also by
// the kill switch's backstop):
//
//	us-east-1:
//	  queue_url: https://sqs.us-east-1.amazonaws.com/123456789012/tasks
//	  burst_queue_url: https://sqs.us-east-1.amazonaws.com/123456789012/burst
//	  bucket: my-results-use1
//	  function: stampede-generator
//
// Unknown keys and missing queue_url or bucket are errors, all reported at once.
func LoadOverrides(path string) (Overrides, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read overrides: %w", err)
	}
	var raw map[string]Endpoints
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no regions (want region: {queue_url: ..., bucket: ...})", path)
	}
	regions := make([]string, 0, len(raw))
	for r := range raw {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var errs []error
	o := make(Overrides, len(raw))
	for _, r := range regions {
		ep := raw[r]
		ep.Region = r
		if strings.TrimSpace(r) == "" {
			errs = append(errs, fmt.Errorf("%s: empty region name", path))
		}
		if ep.QueueURL == "" {
			errs = append(errs, fmt.Errorf("%s: %s: queue_url is missing", path, r))
		}
		if ep.Bucket == "" {
			errs = append(errs, fmt.Errorf("%s: %s: bucket is missing", path, r))
		}
		o[r] = ep
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return o, nil
}
