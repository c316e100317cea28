// Package syncbuf is a bytes.Buffer that one side may write while another
// reads: the output of a command or a child process that a test watches
// as it runs (cmd/stampede's and infra/chaos's tests, infra/localaws's
// servers).
//
// It imports the standard library only.
package syncbuf
