//go:build !linux

package engine

// newPreciseClock returns a Go timer releaseClock: the timerfd one is Linux only.
func newPreciseClock() releaseClock { return newTimerClock() }
