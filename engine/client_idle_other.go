//go:build !unix

package engine

// idleCheck is unused where a socket cannot be peeked at.
type idleCheck struct{}

// closedWhileIdle cannot peek at a socket on this platform: a pooled
// connection is taken as open.
func closedWhileIdle(*conn) bool { return false }
