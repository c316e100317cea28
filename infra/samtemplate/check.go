package samtemplate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Check returns every problem it finds in doc, the CloudFormation JSON of the
// generator stack (the output of Transform), one sentence each. No problems
// means the stack keeps its promises: one arm64 provided.al2023 generator
// whose role grants only runs/* in its own bucket, its own queue and its own
// log group; no asynchronous retries; one task per invocation with per-item
// failures; a burst queue that no event source reads, with its own
// dead-letter queue, from which the function may only receive and delete;
// a private, encrypted, TLS-only bucket whose runs expire.
func Check(doc []byte) ([]string, error) {
	var t template
	if err := json.Unmarshal(doc, &t); err != nil {
		return nil, fmt.Errorf("decode cloudformation json: %w", err)
	}
	c := &checker{t: t}
	if !c.function() {
		return c.problems, nil
	}
	c.invokeConfig()
	c.eventSource()
	c.checkQueue(c.queue)
	c.checkBurstQueue()
	c.checkBucket()
	c.bucketPolicy()
	c.logGroup()
	c.checkRole()
	c.outputs()
	return c.problems, nil
}

// OutputKeys are the stack outputs the orchestrator reads.
var OutputKeys = []string{"QueueUrl", "BurstQueueUrl", "BucketName", "FunctionName", "FunctionArn"}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

// checker accumulates problems; the IDs are the logical IDs it resolved.
type checker struct {
	t        template
	problems []string
	fn       string  // the generator function
	fnName   string  // its FunctionName (a Fn::Sub string)
	timeout  float64 // its Timeout in seconds
	bucket   string  // the bucket named by its BUCKET variable
	queue    string  // the queue named by its QUEUE_URL variable
	burst    string  // the queue named by its BURST_QUEUE_URL variable
	role     string  // its execution role
}

func (c *checker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// ofType returns the logical IDs of the resources of type typ, sorted.
func (c *checker) ofType(typ string) []string {
	var ids []string
	for id, r := range c.t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// forFunction returns the resources of type typ whose FunctionName refers
// to the generator.
func (c *checker) forFunction(typ string) []string {
	var ids []string
	for _, id := range c.ofType(typ) {
		if refTo(c.t.Resources[id].Properties["FunctionName"]) == c.fn {
			ids = append(ids, id)
		}
	}
	return ids
}

func (c *checker) function() bool {
	fns := c.ofType("AWS::Lambda::Function")
	if len(fns) != 1 {
		c.addf("want exactly one AWS::Lambda::Function, found %d", len(fns))
		return false
	}
	c.fn = fns[0]
	p := c.t.Resources[c.fn].Properties
	if v := p["Runtime"]; v != "provided.al2023" {
		c.addf("function %s: Runtime is %v, want provided.al2023", c.fn, v)
	}
	if v := p["Handler"]; v != "bootstrap" {
		c.addf("function %s: Handler is %v, want bootstrap", c.fn, v)
	}
	if v, _ := p["Architectures"].([]any); len(v) != 1 || v[0] != "arm64" {
		c.addf("function %s: Architectures is %v, want [arm64]", c.fn, p["Architectures"])
	}
	c.timeout, _ = number(p["Timeout"])
	if c.timeout != 900 {
		c.addf("function %s: Timeout is %v, want 900", c.fn, p["Timeout"])
	}
	c.fnName = sub(p["FunctionName"])
	vars, _ := path(p, "Environment", "Variables").(map[string]any)
	c.bucket = refTo(vars["BUCKET"])
	if c.t.Resources[c.bucket].Type != "AWS::S3::Bucket" {
		c.addf("function %s: environment variable BUCKET must Ref the results bucket, got %v", c.fn, vars["BUCKET"])
	}
	c.queue = refTo(vars["QUEUE_URL"])
	if c.t.Resources[c.queue].Type != "AWS::SQS::Queue" {
		c.addf("function %s: environment variable QUEUE_URL must Ref the task queue, got %v", c.fn, vars["QUEUE_URL"])
	}
	c.burst = refTo(vars["BURST_QUEUE_URL"])
	if c.t.Resources[c.burst].Type != "AWS::SQS::Queue" || c.burst == c.queue {
		c.addf("function %s: environment variable BURST_QUEUE_URL must Ref a burst queue other than the task queue, got %v", c.fn, vars["BURST_QUEUE_URL"])
	}
	c.role = refTo(p["Role"])
	for id, r := range c.t.Resources {
		if _, ok := r.Properties["ProvisionedConcurrencyConfig"]; ok {
			c.addf("%s has provisioned concurrency: it costs money between tests", id)
		}
	}
	return true
}

func (c *checker) invokeConfig() {
	ids := c.forFunction("AWS::Lambda::EventInvokeConfig")
	if len(ids) != 1 {
		c.addf("function %s: want one EventInvokeConfig (MaximumRetryAttempts 0), found %d", c.fn, len(ids))
		return
	}
	if n, ok := number(c.t.Resources[ids[0]].Properties["MaximumRetryAttempts"]); !ok || n != 0 {
		c.addf("%s: MaximumRetryAttempts is %v, want 0 (retries multiply the load)", ids[0], c.t.Resources[ids[0]].Properties["MaximumRetryAttempts"])
	}
}

func (c *checker) eventSource() {
	ids := c.forFunction("AWS::Lambda::EventSourceMapping")
	if len(ids) != 1 {
		c.addf("function %s: want one SQS event source mapping, found %d", c.fn, len(ids))
		return
	}
	id, p := ids[0], c.t.Resources[ids[0]].Properties
	if q := refTo(p["EventSourceArn"]); q != c.queue {
		c.addf("%s: reads queue %q, want the function's QUEUE_URL queue %q", id, q, c.queue)
	}
	if n, _ := number(p["BatchSize"]); n != 1 {
		c.addf("%s: BatchSize is %v, want 1", id, p["BatchSize"])
	}
	if types, _ := p["FunctionResponseTypes"].([]any); !slices.Contains(types, any("ReportBatchItemFailures")) {
		c.addf("%s: FunctionResponseTypes %v lacks ReportBatchItemFailures", id, p["FunctionResponseTypes"])
	}
	if path(p, "ScalingConfig", "MaximumConcurrency") == nil {
		c.addf("%s: no ScalingConfig.MaximumConcurrency", id)
	}
	for _, esm := range c.ofType("AWS::Lambda::EventSourceMapping") {
		if c.burst != "" && refTo(c.t.Resources[esm].Properties["EventSourceArn"]) == c.burst {
			c.addf("%s: an event source mapping reads the burst queue %s: it would compete with the burst invocations for their tasks", esm, c.burst)
		}
	}
}

// checkQueue checks a task queue (the event source's or the burst one) and
// returns its dead-letter queue.
func (c *checker) checkQueue(q string) (dlq string) {
	p := c.t.Resources[q].Properties
	if v, ok := number(p["VisibilityTimeout"]); !ok || v <= c.timeout {
		c.addf("queue %s: VisibilityTimeout %v must be above the function Timeout %v", q, p["VisibilityTimeout"], c.timeout)
	}
	if v, _ := number(p["MaximumMessageSize"]); v != 1048576 {
		c.addf("queue %s: MaximumMessageSize is %v, want 1048576 (1 MiB)", q, p["MaximumMessageSize"])
	}
	rp, _ := p["RedrivePolicy"].(map[string]any)
	dlq = refTo(rp["deadLetterTargetArn"])
	if c.t.Resources[dlq].Type != "AWS::SQS::Queue" || dlq == c.queue || dlq == c.burst {
		c.addf("queue %s: RedrivePolicy must name a dead-letter queue of this stack, got %v", q, rp["deadLetterTargetArn"])
	}
	if n, ok := number(rp["maxReceiveCount"]); !ok || n < 1 {
		c.addf("queue %s: RedrivePolicy has no maxReceiveCount", q)
	}
	return dlq
}

// checkBurstQueue checks the burst queue like the task queue, and that its
// dead-letter queue is its own.
func (c *checker) checkBurstQueue() {
	if c.t.Resources[c.burst].Type != "AWS::SQS::Queue" {
		return // reported by function
	}
	taskDLQ := refTo(path(c.t.Resources[c.queue].Properties, "RedrivePolicy", "deadLetterTargetArn"))
	if dlq := c.checkQueue(c.burst); dlq != "" && dlq == taskDLQ {
		c.addf("queue %s: shares the dead-letter queue %s with the task queue: give it its own", c.burst, dlq)
	}
}

func (c *checker) checkBucket() {
	p := c.t.Resources[c.bucket].Properties
	rules, _ := path(p, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
	if len(rules) == 0 || path(rules[0], "ServerSideEncryptionByDefault", "SSEAlgorithm") != "AES256" {
		c.addf("bucket %s: default encryption must be AES256", c.bucket)
	}
	block, _ := p["PublicAccessBlockConfiguration"].(map[string]any)
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if block[k] != true {
			c.addf("bucket %s: PublicAccessBlockConfiguration.%s is %v, want true", c.bucket, k, block[k])
		}
	}
	expires := false
	lc, _ := path(p, "LifecycleConfiguration", "Rules").([]any)
	for _, r := range lc {
		if path(r, "Prefix") == "runs/" && path(r, "Status") == "Enabled" && path(r, "ExpirationInDays") != nil {
			expires = true
		}
	}
	if !expires {
		c.addf("bucket %s: no enabled lifecycle rule expiring runs/", c.bucket)
	}
}

func (c *checker) bucketPolicy() {
	for _, id := range c.ofType("AWS::S3::BucketPolicy") {
		p := c.t.Resources[id].Properties
		if refTo(p["Bucket"]) != c.bucket {
			continue
		}
		for _, s := range list(path(p, "PolicyDocument", "Statement")) {
			tls := fmt.Sprint(path(s, "Condition", "Bool", "aws:SecureTransport"))
			if path(s, "Effect") == "Deny" && isAnyone(path(s, "Principal")) &&
				slices.Contains(list(path(s, "Action")), any("s3:*")) && tls == "false" {
				return
			}
		}
	}
	c.addf("bucket %s: no bucket policy denying s3:* to everyone when aws:SecureTransport is false", c.bucket)
}

func (c *checker) logGroup() {
	want := "/aws/lambda/" + c.fnName
	for _, id := range c.ofType("AWS::Logs::LogGroup") {
		p := c.t.Resources[id].Properties
		if sub(p["LogGroupName"]) == want {
			if p["RetentionInDays"] == nil {
				c.addf("log group %s: no RetentionInDays", id)
			}
			return
		}
	}
	c.addf("no log group named %s (the function's) with a retention", want)
}

// grant is what one allowed action may be granted on.
type grant struct {
	resources []string // the resources, as describe prints them
	condition bool     // an s3:prefix condition under runs/ is required
}

func (c *checker) grants() map[string]grant {
	objects := grant{resources: []string{"${" + c.bucket + ".Arn}/runs/*"}}
	queue := grant{resources: []string{c.queue + ".Arn"}}
	queues := grant{resources: []string{c.queue + ".Arn", c.burst + ".Arn"}}
	logs := grant{resources: []string{"arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/" + c.fnName + ":log-stream:*"}}
	return map[string]grant{
		"s3:GetObject":                objects,
		"s3:PutObject":                objects,
		"s3:ListBucket":               {resources: []string{c.bucket + ".Arn"}, condition: true},
		"sqs:ReceiveMessage":          queues,
		"sqs:DeleteMessage":           queues,
		"sqs:GetQueueAttributes":      queue,
		"sqs:ChangeMessageVisibility": queue,
		"logs:CreateLogStream":        logs,
		"logs:PutLogEvents":           logs,
	}
}

// needed are the grants the generator cannot work without, as
// "action on resource".
func (c *checker) needed() []string {
	var out []string
	for _, a := range []string{"s3:GetObject", "s3:PutObject", "sqs:ReceiveMessage", "sqs:DeleteMessage", "logs:PutLogEvents"} {
		for _, r := range c.grants()[a].resources {
			out = append(out, a+" on "+r)
		}
	}
	return out
}

func (c *checker) checkRole() {
	r, ok := c.t.Resources[c.role]
	if !ok || r.Type != "AWS::IAM::Role" {
		c.addf("function %s: Role must be a GetAtt of an AWS::IAM::Role in this stack", c.fn)
		return
	}
	if m := list(r.Properties["ManagedPolicyArns"]); len(m) > 0 {
		c.addf("role %s: managed policies %v grant on resources outside the stack", c.role, m)
	}
	allowed := c.grants()
	granted := map[string]bool{}
	for _, pol := range list(r.Properties["Policies"]) {
		for _, s := range list(path(pol, "PolicyDocument", "Statement")) {
			if path(s, "Effect") != "Allow" {
				continue
			}
			if path(s, "NotAction") != nil || path(s, "NotResource") != nil {
				c.addf("role %s: NotAction/NotResource grants too much", c.role)
			}
			for _, a := range list(path(s, "Action")) {
				g, ok := allowed[fmt.Sprint(a)]
				if !ok {
					c.addf("role %s: grants %v, which the generator does not need", c.role, a)
					continue
				}
				for _, res := range list(path(s, "Resource")) {
					d := describe(res)
					if !slices.Contains(g.resources, d) {
						c.addf("role %s: grants %v on %s, want only %s", c.role, a, d, strings.Join(g.resources, " or "))
					}
					granted[fmt.Sprintf("%v on %s", a, d)] = true
				}
				if g.condition && !underRuns(path(s, "Condition", "StringLike", "s3:prefix")) {
					c.addf("role %s: grants %v without a StringLike s3:prefix condition under runs/", c.role, a)
				}
			}
		}
	}
	for _, n := range c.needed() {
		if !granted[n] {
			c.addf("role %s: does not grant %s, which the generator needs", c.role, n)
		}
	}
}

func (c *checker) outputs() {
	for _, k := range OutputKeys {
		if c.t.Outputs[k] == nil {
			c.addf("no output %s", k)
		}
	}
}

// underRuns reports whether every prefix in v starts with runs/.
func underRuns(v any) bool {
	ps := list(v)
	for _, p := range ps {
		if !strings.HasPrefix(fmt.Sprint(p), "runs/") {
			return false
		}
	}
	return len(ps) > 0
}

// isAnyone reports whether a policy principal is everyone.
func isAnyone(p any) bool {
	return p == "*" || path(p, "AWS") == "*"
}

// describe prints an IAM resource: "X.Arn" for a GetAtt, the template of a
// Fn::Sub, a plain string as it is, anything else as JSON.
func describe(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if s := sub(v); s != "" {
		return s
	}
	if m, ok := v.(map[string]any); ok {
		if ga := list(m["Fn::GetAtt"]); len(ga) == 2 {
			return fmt.Sprintf("%v.%v", ga[0], ga[1])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// refTo returns the logical ID that v refers to with Ref or Fn::GetAtt
// X.Arn, or "".
func refTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga := list(m["Fn::GetAtt"]); len(ga) == 2 && ga[1] == "Arn" {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// sub returns the template string of a {"Fn::Sub": "..."}, or "".
func sub(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Fn::Sub"].(string)
	return s
}

// path walks nested maps by key; nil if any step is missing.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// list returns v as a list: a single value becomes a list of one.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// number returns a JSON number or a numeric string as float64.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}
