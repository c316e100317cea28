// Package hostiletarget is a real HTTP target built to misbehave: a raw TCP
// server on 127.0.0.1 (and a TLS one with an untrusted certificate) whose
// request path picks how it fails — resetting the connection, accepting
// and never answering, answering slower than any sane timeout, an endless
// or a huge body, malformed HTTP (a bad status line, bad chunked framing,
// a header section past every client's limit) — next to a well-behaved
// /ok route. The reliability tests and `make chaos` point stampede at it
// to check that every failure is counted under the right error class, that
// a generator keeps going (later requests succeed) and that its memory
// stays bounded.
//
// It speaks HTTP/1.1 by hand (net/http would refuse to misbehave this
// way), counts the request heads it read per path, and never holds more
// than one request head (64 KiB at most) per connection in memory.
//
// It imports only the standard library: tests of any package may use it.
package hostiletarget
