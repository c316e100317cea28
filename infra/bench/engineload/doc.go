// Command engineload runs stampede's engine alone, with a one-step GET plan
// built from flags, and prints its results as one JSON object on stdout. The
// process holds nothing but the engine, so that a parent measuring it (CPU
// time and peak RSS from rusage) measures the engine only.
//
//	engineload -url http://127.0.0.1:18080/ -mode closed -conns 50 -duration 5s
//	engineload -url http://127.0.0.1:18080/ -mode open -rate 20000 -conns 50 -duration 5s
//
// It must import only the engine and the standard library, so that the
// process measured is the engine alone.
package main
