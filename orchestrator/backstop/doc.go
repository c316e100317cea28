// Package backstop is the kill switch's second line on AWS. The stop
// marker stops every generator that is running (each polls it about every
// second); the backstop makes sure no new one starts: it sets the
// generator function's reserved concurrency to 0 in every region, so that
// redelivered SQS messages, later slices and burst invocations are all
// throttled, and restores the previous setting afterwards.
//
// It never throttles a function silently or for good: before it touches a
// function, Engage records the function's current setting in the run's
// store (runs/<run-id>/backstop.json, in every region's bucket); Release
// puts back exactly what was recorded — the previous reservation, or none —
// and marks the record released. `stampede run` releases when the run
// ends; `stampede stop --release` releases a run whose orchestrator is
// gone. A second Engage for the same run keeps the first record's
// settings, so that a function is never "restored" to the 0 the backstop
// itself set.
//
// A function that already was at 0 before the stop is recorded as 0 and
// left at 0 by Release (and says so): the backstop does not undo a
// throttle it did not set.
//
// backstop imports orchestrator/shard and the standard library only; the
// Lambda calls go through the Function interface (lambdafunc implements it).
package backstop
