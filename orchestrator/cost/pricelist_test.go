package cost

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestApplyPriceList reads a GetProducts response (testdata: written by
// hand in the shape of the API's PriceList, the real API being out of
// reach here): tiers, free tiers, and entries that are not priced items
// (provisioned concurrency, FIFO, Glacier, inter-region transfer).
func TestApplyPriceList(t *testing.T) {
	data, err := os.ReadFile("testdata/getproducts.json")
	if err != nil {
		t.Fatal(err)
	}
	var resp struct{ PriceList []string }
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Fatal(err)
	}
	p := &Prices{DefaultRegion: "us-east-1", Regions: map[string]RegionPrices{
		"us-east-1": {LambdaGBSecondARM64USD: 1, LambdaGBSecondX86USD: 1, LambdaPerMillionUSD: 1, SQSPerMillionUSD: 1,
			S3PutListPerThousand: 1, S3GetPerThousandUSD: 1, DataOutPerGBUSD: 1, LogsIngestPerGBUSD: 1},
	}}
	set, err := ApplyPriceList(p, resp.PriceList)
	if err != nil {
		t.Fatal(err)
	}
	want := RegionPrices{
		LambdaGBSecondARM64USD: 0.0000133334, LambdaGBSecondX86USD: 0.0000166667, LambdaPerMillionUSD: 0.2,
		SQSPerMillionUSD: 0.4, S3PutListPerThousand: 0.005, S3GetPerThousandUSD: 0.0004,
		DataOutPerGBUSD: 0.09, LogsIngestPerGBUSD: 0.5,
	}
	got := p.Regions["us-east-1"]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"arm64", got.LambdaGBSecondARM64USD, want.LambdaGBSecondARM64USD},
		{"x86", got.LambdaGBSecondX86USD, want.LambdaGBSecondX86USD},
		{"lambda requests", got.LambdaPerMillionUSD, want.LambdaPerMillionUSD},
		{"sqs", got.SQSPerMillionUSD, want.SQSPerMillionUSD},
		{"s3 put", got.S3PutListPerThousand, want.S3PutListPerThousand},
		{"s3 get", got.S3GetPerThousandUSD, want.S3GetPerThousandUSD},
		{"data out", got.DataOutPerGBUSD, want.DataOutPerGBUSD},
		{"logs", got.LogsIngestPerGBUSD, want.LogsIngestPerGBUSD},
	} {
		if !near(c.got, c.want, c.want*1e-9) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	// ap-south-1 is new: its two prices from the list, the rest us-east-1's.
	ap := p.Regions["ap-south-1"]
	if ap.LogsIngestPerGBUSD != 0.67 || ap.LambdaGBSecondARM64USD != 0.0000133334 || !near(ap.DataOutPerGBUSD, 0.09, 1e-12) || ap.Note == "" {
		t.Errorf("ap-south-1: %+v", ap)
	}
	if len(set) != 10 || !slices.Contains(set, "us-east-1 sqs_requests_per_million_usd") {
		t.Errorf("set %q", set)
	}
	if _, err := ParsePrices(mustMarshal(t, p)); err != nil {
		t.Errorf("the updated table does not parse: %v", err)
	}
	if _, err := ApplyPriceList(p, []string{"{"}); err == nil {
		t.Error("a broken entry gave no error")
	}
}

func mustMarshal(t *testing.T, p *Prices) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
