// Command peers runs stampede's engine (through engineload) and its peers
// (wrk, fortio, vegeta, hey) in turn against one nginx on 127.0.0.1 that it
// starts itself, and writes a markdown table of the medians over several
// repetitions: requests/s, requests per CPU-second of the tool process
// (user+sys from its rusage), p50/p99 and peak RSS, and stampede's ratio.
//
//	peers -engineload bin/engineload -out docs/benchmarks.md
//
// It must not import stampede's packages: it measures every tool, stampede
// included, from the outside.
package main
