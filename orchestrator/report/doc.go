// Package report turns a run's merged Result into what people read: a
// Report value (report.json), a terminal summary, and a self-contained HTML
// page. It also evaluates the plan's thresholds, which decide the exit code.
//
// Latencies are response times measured from the intended send time
// (coordinated omission corrected) unless a field says service time (from
// the actual send). All durations in the JSON are milliseconds.
//
// Nothing the plan read from the environment (plan.Plan.Engine.Env) ever
// appears in a report: Build redacts those values from every string.
//
// report imports the engine, the plan and the orchestrator's Result; it
// must not import the backends (queues, stores, AWS) nor print on its own.
package report
