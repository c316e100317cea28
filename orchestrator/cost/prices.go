package cost

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
)

//go:embed prices.json
var defaultPrices []byte

// Lambda architectures.
const (
	ArchARM64 = "arm64"
	ArchX86   = "x86_64"
)

// Prices is a price table: where it comes from and what each priced item
// costs per region. It is plain data (prices.json is the embedded default).
type Prices struct {
	Source   string `json:"source"`
	Date     string `json:"date"` // YYYY-MM-DD the prices were taken
	Currency string `json:"currency"`
	// DefaultRegion prices every region the table does not list.
	DefaultRegion string                  `json:"default_region"`
	Note          string                  `json:"note,omitempty"`
	Regions       map[string]RegionPrices `json:"regions"`
}

// RegionPrices are one region's on-demand prices, in USD.
type RegionPrices struct {
	LambdaGBSecondARM64USD float64 `json:"lambda_gb_second_arm64_usd"`
	LambdaGBSecondX86USD   float64 `json:"lambda_gb_second_x86_64_usd"`
	LambdaPerMillionUSD    float64 `json:"lambda_requests_per_million_usd"`
	// SQSPerMillionUSD is per million requests, each 64 KB chunk of a
	// request counting as one.
	SQSPerMillionUSD     float64 `json:"sqs_requests_per_million_usd"`
	S3PutListPerThousand float64 `json:"s3_put_list_per_thousand_usd"`
	S3GetPerThousandUSD  float64 `json:"s3_get_per_thousand_usd"`
	DataOutPerGBUSD      float64 `json:"data_out_per_gb_usd"`
	LogsIngestPerGBUSD   float64 `json:"logs_ingest_per_gb_usd"`
	Note                 string  `json:"note,omitempty"`
}

// DefaultPrices returns the embedded price table.
func DefaultPrices() (*Prices, error) {
	return ParsePrices(defaultPrices)
}

// LoadPrices reads a price table file (the format of prices.json).
func LoadPrices(path string) (*Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read prices: %w", err)
	}
	p, err := ParsePrices(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePrices decodes and checks a price table.
func ParsePrices(data []byte) (*Prices, error) {
	var p Prices
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode prices: %w", err)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	return &p, nil
}

func (p *Prices) check() error {
	if len(p.Regions) == 0 {
		return errors.New("no regions")
	}
	if _, ok := p.Regions[p.DefaultRegion]; !ok {
		return fmt.Errorf("default_region %q is not in regions", p.DefaultRegion)
	}
	if p.Currency != "" && p.Currency != "USD" {
		return fmt.Errorf("currency %q: only USD is supported", p.Currency)
	}
	names := make([]string, 0, len(p.Regions))
	for n := range p.Regions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := p.Regions[n]
		for _, v := range []float64{r.LambdaGBSecondARM64USD, r.LambdaGBSecondX86USD, r.LambdaPerMillionUSD,
			r.SQSPerMillionUSD, r.S3PutListPerThousand, r.S3GetPerThousandUSD, r.DataOutPerGBUSD, r.LogsIngestPerGBUSD} {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("region %s: price %v is not a non-negative number", n, v)
			}
		}
		if r.LambdaGBSecondARM64USD == 0 && r.LambdaGBSecondX86USD == 0 {
			return fmt.Errorf("region %s: no Lambda GB-second price", n)
		}
	}
	return nil
}

// Region returns the prices of region and the region whose prices they
// are: region itself when listed, else DefaultRegion (the local backend's
// "local" region included).
func (p *Prices) Region(region string) (RegionPrices, string) {
	if r, ok := p.Regions[region]; ok {
		return r, region
	}
	return p.Regions[p.DefaultRegion], p.DefaultRegion
}

// GBSecondUSD is the Lambda compute price for arch (arm64 unless x86_64).
func (r RegionPrices) GBSecondUSD(arch string) float64 {
	if arch == ArchX86 {
		return r.LambdaGBSecondX86USD
	}
	return r.LambdaGBSecondARM64USD
}
