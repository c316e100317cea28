//go:build !linux

package engine

import "net"

// rawIO returns nc unchanged: raw system calls are used on Linux only.
func rawIO(nc net.Conn) net.Conn { return nc }
