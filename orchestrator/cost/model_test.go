package cost

import (
	"math"
	"testing"
	"time"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func testPrices(t *testing.T) *Prices {
	t.Helper()
	p, err := DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestThousandGeneratorsFiveMinutes is the example: 1,000
// generators × 300 s at 1 GB on arm64 = 300,000 GB-s × $0.0000133334 =
// $4.00002 of compute, plus 1,000 × $0.20/M = $0.0002 of requests.
func TestThousandGeneratorsFiveMinutes(t *testing.T) {
	var u Usage
	for range 1000 {
		u.AddInvocation(300*time.Second, 1024)
	}
	if u.GBSeconds != 300000 || u.Invocations != 1000 || u.GeneratorSeconds != 300000 {
		t.Fatalf("usage %+v, want 300000 GB-s, 1000 invocations", u)
	}
	p := testPrices(t)
	r, as := p.Region("us-east-1")
	if as != "us-east-1" {
		t.Fatalf("priced as %s", as)
	}
	b := Price([]RegionUsage{{Region: "us-east-1", Usage: u}}, p, ArchARM64)
	if got := b.Line(ItemCompute).USD; !near(got, 4.00002, 1e-9) {
		t.Errorf("compute $%.8f, want $4.00002", got)
	}
	if got := b.Line(ItemInvoke).USD; !near(got, 0.0002, 1e-12) {
		t.Errorf("requests $%.8f, want $0.0002", got)
	}
	if !near(b.TotalUSD, 4.00022, 1e-9) {
		t.Errorf("total $%.8f, want $4.00022", b.TotalUSD)
	}
	x86 := Price([]RegionUsage{{Region: "us-east-1", Usage: u}}, p, ArchX86)
	if got := x86.Line(ItemCompute).USD; !near(got, 300000*0.0000166667, 1e-9) || r.LambdaGBSecondX86USD != 0.0000166667 {
		t.Errorf("x86 compute $%.8f, want $5.00001", got)
	}
}

func TestBilledSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want float64
	}{
		{0, 0},
		{-time.Second, 0},
		{time.Nanosecond, 0.001},
		{time.Millisecond, 0.001},
		{time.Millisecond + 1, 0.002},
		{1500 * time.Microsecond, 0.002},
		{300 * time.Second, 300},
		{21*time.Second + 200*time.Millisecond + 1, 21.201},
	} {
		if got := BilledSeconds(tc.d); got != tc.want {
			t.Errorf("BilledSeconds(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestSQSChunks(t *testing.T) {
	for _, tc := range []struct {
		bytes int
		want  int64
	}{{0, 1}, {1, 1}, {65536, 1}, {65537, 2}, {256 * 1024, 4}, {256*1024 + 1, 5}} {
		if got := SQSRequests(tc.bytes); got != tc.want {
			t.Errorf("SQSRequests(%d) = %d, want %d", tc.bytes, got, tc.want)
		}
	}
	// 25 bodies of 7,000 bytes: batches of 10, 10, 5 = 70,000 B (2
	// chunks), 70,000 B (2), 35,000 B (1).
	bodies := make([]int, 25)
	for i := range bodies {
		bodies[i] = 7000
	}
	if got := SendRequests(bodies); got != 5 {
		t.Errorf("SendRequests(25 × 7000 B) = %d, want 5", got)
	}
	if got := SendRequests(nil); got != 0 {
		t.Errorf("SendRequests(none) = %d, want 0", got)
	}
	for _, tc := range []struct {
		keys int
		want int64
	}{{0, 1}, {1000, 1}, {1001, 2}, {10000, 10}} {
		if got := ListRequests(tc.keys); got != tc.want {
			t.Errorf("ListRequests(%d) = %d, want %d", tc.keys, got, tc.want)
		}
	}
}

// TestLinesHandComputed prices one of each item: 1,000,000 SQS requests =
// $0.40; 2,000 PUT/LIST = $0.01; 10,000 GET = $0.004; 10 GiB out = $0.90;
// 2 GiB of logs = $1.00.
func TestLinesHandComputed(t *testing.T) {
	u := Usage{Ops: Ops{SQSSends: 400000, SQSReceives: 300000, SQSDeletes: 300000, S3Puts: 1500, S3Lists: 500,
		S3Gets: 10000}, BytesOut: 10 * GB, LogBytes: 2 * GB, Requests: 2000000}
	b := Price([]RegionUsage{{Region: "us-east-1", Usage: u}}, testPrices(t), ArchARM64)
	for _, tc := range []struct {
		item string
		usd  float64
	}{{ItemSQS, 0.40}, {ItemS3PutLst, 0.01}, {ItemS3Get, 0.004}, {ItemTransfer, 0.90}, {ItemLogs, 1.00}, {ItemCompute, 0}} {
		if got := b.Line(tc.item).USD; !near(got, tc.usd, 1e-12) {
			t.Errorf("%s: $%.8f, want $%v", tc.item, got, tc.usd)
		}
	}
	if !near(b.TotalUSD, 2.314, 1e-12) || !near(b.PerMillionRequestsUSD, 1.157, 1e-12) {
		t.Errorf("total $%v, per million $%v; want $2.314, $1.157", b.TotalUSD, b.PerMillionRequestsUSD)
	}
}

// TestPriceRegions sums two regions and prices one the table lacks as the
// default region.
func TestPriceRegions(t *testing.T) {
	p := testPrices(t)
	u := Usage{Invocations: 10, GBSeconds: 1000, Requests: 100}
	b := Price([]RegionUsage{{"us-west-2", u}, {"ap-south-1", u}}, p, ArchARM64)
	if len(b.Regions) != 2 || b.Regions[1].PricedAs != "us-east-1" || b.Regions[0].PricedAs != "us-west-2" {
		t.Fatalf("regions %+v", b.Regions)
	}
	want := 2 * (1000*0.0000133334 + 10*0.2/1e6)
	if !near(b.TotalUSD, want, 1e-12) || b.Usage.Invocations != 20 || b.Line(ItemCompute).Quantity != 2000 {
		t.Errorf("total $%v (want $%v), usage %+v", b.TotalUSD, want, b.Usage)
	}
}

func TestParsePricesRejects(t *testing.T) {
	for _, src := range []string{
		`{}`,
		`{"default_region":"x","regions":{"y":{"lambda_gb_second_arm64_usd":1}}}`,
		`{"default_region":"y","regions":{"y":{"lambda_gb_second_arm64_usd":-1}}}`,
		`{"default_region":"y","regions":{"y":{}}}`,
		`{"default_region":"y","currency":"EUR","regions":{"y":{"lambda_gb_second_arm64_usd":1}}}`,
	} {
		if _, err := ParsePrices([]byte(src)); err == nil {
			t.Errorf("ParsePrices(%s): no error", src)
		}
	}
	p := testPrices(t)
	if p.Source == "" || p.Date == "" || p.Regions["us-east-1"].S3GetPerThousandUSD != 0.0004 {
		t.Errorf("embedded table %+v", p)
	}
}

func TestShareOps(t *testing.T) {
	got := shareOps(Ops{SQSSends: 10, S3Puts: 7, S3Lists: 100, S3Gets: 1}, []int64{1, 1, 1})
	var sum Ops
	for _, o := range got {
		sum.Add(o)
	}
	want := Ops{SQSSends: 10, S3Puts: 7, S3Lists: 100, S3Gets: 1}
	if sum != want || got[1].S3Lists != 33 || got[0].S3Lists != 34 || got[0].S3Gets != 1 {
		t.Errorf("shares %+v add up to %+v, want %+v", got, sum, want)
	}
	if one := shareOps(want, []int64{0}); one[0] != want {
		t.Errorf("one region with no tasks: %+v", one)
	}
}
