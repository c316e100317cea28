package cost

import (
	"math"
	"time"
)

// Billing units.
const (
	// SQSChunkBytes is the payload size one SQS request is billed for; a
	// bigger request counts once per started chunk.
	SQSChunkBytes = 64 * 1024
	// GB is the unit of data transfer and log ingestion (AWS bills GiB).
	GB = 1 << 30
	// SQSBatch is how many messages one SendMessageBatch, ReceiveMessage
	// or DeleteMessageBatch request carries at most.
	SQSBatch = 10
	// ListPage is how many keys one S3 LIST request returns at most.
	ListPage = 1000
)

// Usage is what a run consumes in one region (or in all of them).
type Usage struct {
	// Invocations of the generator function (one per shard task).
	Invocations int64 `json:"invocations"`
	// GeneratorSeconds is the billed duration of every invocation (each
	// rounded up to the millisecond), summed; GBSeconds weighs it by memory.
	GeneratorSeconds float64 `json:"generator_seconds"`
	GBSeconds        float64 `json:"gb_seconds"`
	// Ops are the SQS requests (each 64 KB chunk counted once) and the S3
	// PUT (conditional ones too), LIST and GET requests.
	Ops
	// BytesOut is what the generators sent to the target (HTTP layer).
	BytesOut int64 `json:"bytes_out"`
	// LogBytes is what the generator functions log to CloudWatch Logs.
	LogBytes int64 `json:"log_bytes"`
	// Requests is the HTTP requests sent to the target.
	Requests int64 `json:"requests"`
}

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.Invocations += o.Invocations
	u.GeneratorSeconds += o.GeneratorSeconds
	u.GBSeconds += o.GBSeconds
	u.Ops.Add(o.Ops)
	u.BytesOut += o.BytesOut
	u.LogBytes += o.LogBytes
	u.Requests += o.Requests
}

// AddInvocation counts one invocation that ran for d with memoryMB.
func (u *Usage) AddInvocation(d time.Duration, memoryMB int) {
	s := BilledSeconds(d)
	u.Invocations++
	u.GeneratorSeconds += s
	u.GBSeconds += s * float64(memoryMB) / 1024
}

// BilledSeconds is Lambda's billed duration for a run of d: rounded up to
// the millisecond, in seconds (negative durations bill nothing).
func BilledSeconds(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return float64(ms) / 1000
}

// SQSRequests is how many billed requests one SQS call carrying
// payloadBytes counts for: one per started 64 KB chunk, at least one.
func SQSRequests(payloadBytes int) int64 {
	return max(1, int64((payloadBytes+SQSChunkBytes-1)/SQSChunkBytes))
}

// SendRequests is the billed requests to send bodies in batches of
// SQSBatch, in order (as the orchestrator sends them): each batch counts
// once per 64 KB chunk of its total payload.
func SendRequests(bodies []int) int64 {
	var n int64
	for lo := 0; lo < len(bodies); lo += SQSBatch {
		size := 0
		for _, b := range bodies[lo:min(lo+SQSBatch, len(bodies))] {
			size += b
		}
		n += SQSRequests(size)
	}
	return n
}

// ListRequests is how many LIST requests return keys keys (one page of
// ListPage keys each, at least one).
func ListRequests(keys int) int64 {
	return max(1, int64((keys+ListPage-1)/ListPage))
}

// Priced items, in output order.
const (
	ItemCompute  = "lambda compute"
	ItemInvoke   = "lambda requests"
	ItemSQS      = "sqs requests"
	ItemS3PutLst = "s3 put/list"
	ItemS3Get    = "s3 get"
	ItemTransfer = "data transfer out"
	ItemLogs     = "cloudwatch logs"
)

// Line is one priced item: Quantity in Unit at UnitPriceUSD each.
type Line struct {
	Item         string  `json:"item"`
	Quantity     float64 `json:"quantity"`
	Unit         string  `json:"unit"`
	UnitPriceUSD float64 `json:"unit_price_usd"`
	USD          float64 `json:"usd"`
}

// Lines prices u with r for Lambda architecture arch, one Line per item.
func Lines(u Usage, r RegionPrices, arch string) []Line {
	line := func(item string, q float64, unit string, price float64) Line {
		return Line{Item: item, Quantity: q, Unit: unit, UnitPriceUSD: price, USD: q * price}
	}
	return []Line{
		line(ItemCompute, u.GBSeconds, "GB-s", r.GBSecondUSD(arch)),
		line(ItemInvoke, float64(u.Invocations), "requests", r.LambdaPerMillionUSD/1e6),
		line(ItemSQS, float64(u.SQSSends+u.SQSReceives+u.SQSDeletes), "requests", r.SQSPerMillionUSD/1e6),
		line(ItemS3PutLst, float64(u.S3Puts+u.S3Lists), "requests", r.S3PutListPerThousand/1e3),
		line(ItemS3Get, float64(u.S3Gets), "requests", r.S3GetPerThousandUSD/1e3),
		line(ItemTransfer, float64(u.BytesOut)/GB, "GB", r.DataOutPerGBUSD),
		line(ItemLogs, float64(u.LogBytes)/GB, "GB", r.LogsIngestPerGBUSD),
	}
}

// RegionCost is one region's usage and price.
type RegionCost struct {
	Region string `json:"region"`
	// PricedAs is the region whose prices apply (the table's default for a
	// region it does not list).
	PricedAs string  `json:"priced_as"`
	Usage    Usage   `json:"usage"`
	Lines    []Line  `json:"lines"`
	TotalUSD float64 `json:"total_usd"`
}

// Breakdown is a run's cost, per region and in total.
type Breakdown struct {
	Regions  []RegionCost `json:"regions"`
	Usage    Usage        `json:"usage"`
	Lines    []Line       `json:"lines"`
	TotalUSD float64      `json:"total_usd"`
	// PerMillionRequestsUSD is TotalUSD per million requests to the target
	// (0 when there are none).
	PerMillionRequestsUSD float64 `json:"per_million_requests_usd"`
}

// RegionUsage is one region's usage, before pricing.
type RegionUsage struct {
	Region string
	Usage  Usage
}

// Price prices every region's usage with prices for arch.
func Price(usage []RegionUsage, prices *Prices, arch string) *Breakdown {
	b := &Breakdown{Regions: []RegionCost{}}
	byItem := map[string]int{} // index in b.Lines
	for _, ru := range usage {
		r, as := prices.Region(ru.Region)
		rc := RegionCost{Region: ru.Region, PricedAs: as, Usage: ru.Usage, Lines: Lines(ru.Usage, r, arch)}
		for _, l := range rc.Lines {
			rc.TotalUSD += l.USD
			if i, ok := byItem[l.Item]; ok {
				b.Lines[i].Quantity += l.Quantity
				b.Lines[i].USD += l.USD
				continue
			}
			byItem[l.Item] = len(b.Lines)
			b.Lines = append(b.Lines, l)
		}
		b.Regions = append(b.Regions, rc)
		b.Usage.Add(ru.Usage)
		b.TotalUSD += rc.TotalUSD
	}
	if len(usage) > 1 { // a unit price differs between regions: show the mean
		for i := range b.Lines {
			if b.Lines[i].Quantity > 0 {
				b.Lines[i].UnitPriceUSD = b.Lines[i].USD / b.Lines[i].Quantity
			}
		}
	}
	if b.Usage.Requests > 0 {
		b.PerMillionRequestsUSD = b.TotalUSD / float64(b.Usage.Requests) * 1e6
	}
	return b
}

// Line returns the line of item (zero when absent).
func (b *Breakdown) Line(item string) Line {
	for _, l := range b.Lines {
		if l.Item == item {
			return l
		}
	}
	return Line{Item: item}
}

// round rounds x to n decimals (for stable JSON).
func round(x float64, n int) float64 {
	p := math.Pow(10, float64(n))
	return math.Round(x*p) / p
}
