// Package bench holds stampede's benchmark programs against its peers: they
// are commands (infra/bench/peers drives every tool against a local nginx;
// infra/bench/engineload runs stampede's engine alone in a process so that
// its CPU time and memory can be measured exactly). This package itself has
// no code; the commands must not be imported by anything, and they import
// only the engine and the standard library.
package bench
