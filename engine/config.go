package engine

import "time"

// Config is everything one generator needs to run its share of a test. It is
// produced by the plan package (normalized, defaults applied, validated) and
// then specialised per shard by the orchestrator (Shard, Window, Epoch). It is
// plain data and round-trips through encoding/json: it travels in task messages.
//
// Template strings (URL, header values, query values, raw bodies, variables)
// use the engine's template language (see Template); the engine compiles them
// once per Run.
type Config struct {
	// Target is the base URL that relative step URLs resolve against.
	Target string `json:"target"`
	// AllowedHosts lists the hosts (host or host:port) requests may go to in
	// addition to Target's host. Anything else is refused and counted.
	AllowedHosts []string `json:"allowed_hosts,omitempty"`

	// Setup runs once per virtual user, before its first iteration of any
	// scenario (Locust's on_start: fetch a token once per user). Its
	// captures are visible to every scenario. Scenario.Setup runs in
	// addition, once per user and scenario.
	Setup     []Step     `json:"setup,omitempty"`
	Scenarios []Scenario `json:"scenarios"`
	Load      Load       `json:"load"`
	Defaults  Defaults   `json:"defaults"`

	// Vars are plan-level variables, visible to every virtual user; values
	// are templates evaluated once per virtual user, in order.
	Vars []KV `json:"vars,omitempty"`
	// Data holds CSV data sets by name (first row = column names).
	Data map[string]DataSet `json:"data,omitempty"`
	// Env holds the values of the environment variables the plan references
	// ({{ env "NAME" }}). They are secrets: never stored, logged or reported.
	Env map[string]string `json:"env,omitempty"`

	// MaxInflight bounds concurrent iterations per generator (open model:
	// the number of virtual users that serve arrivals).
	MaxInflight int `json:"max_inflight"`
	// MaxConns caps open connections per generator (default 512, always
	// below Lambda's 1,024 file descriptors).
	MaxConns int `json:"max_conns"`

	// Duration is the whole test's length (time 0 to Duration after Epoch).
	Duration time.Duration `json:"duration"`
	// Shard says which share of the plan this generator runs.
	Shard Shard `json:"shard"`
	// Window is the slice of test time [Start, End) this run covers; zero
	// End means [0, Duration).
	Window Window `json:"window"`
	// Epoch is the shared wall-clock start of test time 0. Zero means "now".
	Epoch time.Time `json:"epoch"`
	// Interval is the timeline resolution (default chosen so that a test
	// has at most MaxIntervals intervals).
	Interval time.Duration `json:"interval"`
	// SnapshotEvery is how often Run calls the progress callback (default 5s).
	SnapshotEvery time.Duration `json:"snapshot_every,omitempty"`
	// Grace is how long in-flight iterations may run past Window.End
	// before they are cancelled (default: the request timeout).
	Grace time.Duration `json:"grace,omitempty"`
}

// Shard is one generator's share: arrival i (open model) and virtual user i
// (closed model) of the whole plan belong to shard i mod Count. Seed makes
// the run reproducible; each shard derives its own stream from (Seed, Index).
type Shard struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Seed  uint64 `json:"seed"`
}

// Window is a slice of test time, as offsets from the epoch.
type Window struct {
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
}

// Load models.
const (
	ModelOpen   = "open"
	ModelClosed = "closed"
)

// Load describes how work arrives for the whole plan (not per shard).
type Load struct {
	// Model is ModelOpen (default) or ModelClosed.
	Model string `json:"model"`
	// Open model: Rate iterations per second for the whole test when Stages
	// is empty; otherwise Rate is the starting rate and Stages ramp from it.
	// Closed model: Rate is unused.
	Rate float64 `json:"rate,omitempty"`
	// Closed model: Users virtual users, started linearly over RampUp, when
	// Stages is empty; otherwise Users is the starting count.
	Users  int           `json:"users,omitempty"`
	RampUp time.Duration `json:"ramp_up,omitempty"`
	// Stages ramp linearly from the previous target to Target over
	// Duration; a zero Duration is an instant jump (a spike). After the
	// last stage the last target holds until the test's Duration.
	Stages []Stage `json:"stages,omitempty"`
	// DropAfter (open model): an arrival that waited longer than this for a
	// free virtual user is dropped and counted (default: 1s).
	DropAfter time.Duration `json:"drop_after,omitempty"`
	// ReleaseTick (open model): the release grid (see WithReleaseTick);
	// when set it overrides that option. Zero: the option's, by default
	// DefaultReleaseTick.
	ReleaseTick time.Duration `json:"release_tick,omitempty"`
}

// Stage is one ramp segment. Target is iterations/s (open) or users (closed).
type Stage struct {
	Duration time.Duration `json:"duration"`
	Target   float64       `json:"target"`
}

// Defaults apply to every step unless the step overrides them.
type Defaults struct {
	Headers []KV `json:"headers,omitempty"`
	// Timeout per request (default 30s).
	Timeout time.Duration `json:"timeout"`
	// Insecure turns TLS verification off (on by default).
	Insecure bool `json:"insecure,omitempty"`
	// MaxRedirects followed per request; 0 means redirects are not followed.
	MaxRedirects int `json:"max_redirects"`
	// HTTP2 asks for HTTP/2 (over TLS via ALPN, h2c otherwise).
	HTTP2 bool `json:"http2,omitempty"`
	// MaxBodyBytes caps how much of a response body is kept for
	// expectations and captures (default 1 MiB); the rest is read and counted.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`
}

// Scenario is a weighted sequence of steps (a Locust task / user class).
type Scenario struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	// Setup runs once per virtual user before its first iteration (on_start).
	Setup []Step `json:"setup,omitempty"`
	Steps []Step `json:"steps"`
	// Think is the wait between two iterations of a virtual user.
	Think Think `json:"think,omitempty"`
}

// Think time kinds.
const (
	ThinkNone     = ""
	ThinkConstant = "constant" // wait Min
	ThinkBetween  = "between"  // wait uniform [Min, Max]
	ThinkPacing   = "pacing"   // start iterations every Min (constant pacing)
)

// Think is a wait.
type Think struct {
	Kind string        `json:"kind,omitempty"`
	Min  time.Duration `json:"min,omitempty"`
	Max  time.Duration `json:"max,omitempty"`
}

// Step is one HTTP request.
type Step struct {
	// Name groups requests in the report ("GET /products/:id"). Required
	// (the plan package fills "METHOD path" when the user gives none).
	Name   string `json:"name"`
	Method string `json:"method"`
	// URL is a path (resolved against Target) or an absolute URL (template).
	URL     string `json:"url"`
	Query   []KV   `json:"query,omitempty"`
	Headers []KV   `json:"headers,omitempty"`
	Cookies []KV   `json:"cookies,omitempty"`
	Body    *Body  `json:"body,omitempty"`
	// Timeout overrides Defaults.Timeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	Expect  *Expect       `json:"expect,omitempty"`
	Capture []Capture     `json:"capture,omitempty"`
	// Poll repeats the step until a condition holds (async jobs).
	Poll *Poll `json:"poll,omitempty"`
	// Think is the wait after this step.
	Think Think `json:"think,omitempty"`
}

// KV is an ordered name/value pair; Value is a template.
type KV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Body kinds.
const (
	BodyJSON = "json"
	BodyRaw  = "raw"
	BodyForm = "form"
)

// Body is a request body. JSON holds the decoded JSON value (maps, slices,
// strings, float64, bool, nil); its strings are templates, and a string
// that is exactly one template expression yielding a number or bool is
// rendered unquoted. Raw is a template. Form is url-encoded.
type Body struct {
	Kind        string `json:"kind"`
	JSON        any    `json:"json,omitempty"`
	Raw         string `json:"raw,omitempty"`
	Form        []KV   `json:"form,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// Expect: a miss fails the step (error class ErrExpect).
type Expect struct {
	// Status lists accepted codes; empty means 200–399.
	Status       []int  `json:"status,omitempty"`
	BodyContains string `json:"body_contains,omitempty"`
	JSON         []Cond `json:"json,omitempty"`
}

// Cond is a condition on a JSON path of the response body. Exactly one of
// Equals, In, Exists is set.
type Cond struct {
	Path   string `json:"path"`
	Equals any    `json:"equals,omitempty"`
	In     []any  `json:"in,omitempty"`
	Exists *bool  `json:"exists,omitempty"`
}

// Capture sources.
const (
	CaptureJSON   = "json"
	CaptureHeader = "header"
	CaptureRegex  = "regex"
)

// Capture stores a value from a response in the virtual user's variables.
type Capture struct {
	Var  string `json:"var"`
	From string `json:"from"`
	// Expr is a JSON path ($.a.b[0]), a header name, or a regular
	// expression whose first group (or whole match) is taken.
	Expr string `json:"expr"`
}

// Poll repeats a step every Interval until Until holds (success), at most
// MaxTries times in all. While, if set, must hold on every try that is not
// yet done, or the poll fails. Running out of tries fails the step.
type Poll struct {
	Interval time.Duration `json:"interval"`
	MaxTries int           `json:"max_tries"`
	Until    Cond          `json:"until"`
	While    *Cond         `json:"while,omitempty"`
}

// DataSet is a CSV file's rows; virtual user i reads row i mod len(Rows)
// unless Random is set.
type DataSet struct {
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
	Random  bool       `json:"random,omitempty"`
}

// MaxIntervals bounds the timeline's length so that merge cost does not
// grow with a test's duration: tests up to 2 minutes have 1-second
// intervals, a 10-minute test 5-second ones, an hour 30-second ones. Each
// interval costs two histograms in every generator's result, which is
// most of what merging a fleet's results reads (docs/benchmarks.md).
const MaxIntervals = 120
