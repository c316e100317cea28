// Package plan reads stampede test plans: YAML files that say what to
// request (scenarios of steps), how hard (an open or closed load model),
// from where (regions and generators) and what counts as a pass
// (thresholds). docs/plan.md is the format's reference and
// docs/plan.schema.json its JSON Schema.
//
// Parse decodes the YAML into yaml.v3 nodes (for line and column
// positions), checks every key and value, applies the defaults and
// produces a Plan whose Engine field is the whole plan's engine.Config,
// ready for the orchestrator to shard. Every problem is reported at once,
// as Errors, one "file:line:col: path: message (hint: ...)" line each.
// Marshal writes a Plan back in the same format, normalized.
//
// The package owns the plan format and nothing else: it imports the engine
// (for its Config types and to compile templates, JSON paths and regular
// expressions) and yaml.v3, and must not import the orchestrator, the shard
// protocol, the AWS SDK or anything that runs load.
package plan
