package engine

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// fdClock is a releaseClock on a Linux timerfd read through the runtime's network
// poller: it fires within microseconds of the armed time even when the
// process is idle, where a Go timer is rounded to the poller's whole
// milliseconds. Arming and reading are raw system calls (no scheduler
// round trip); the read parks the goroutine like a socket read.
type fdClock struct {
	f      *os.File
	fd     uintptr
	rc     syscall.RawConn
	spec   itimerspec
	buf    [8]byte
	readFn func(fd uintptr) bool
}

// itimerspec is struct itimerspec: it_interval, then it_value.
type itimerspec struct {
	interval, value syscall.Timespec
}

const (
	clockMonotonic = 1 // CLOCK_MONOTONIC, the clock of Go's monotonic readings
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

// newPreciseClock returns a timerfd releaseClock, or a Go timer one when a
// timerfd cannot be had or the clock is not the real one (a testing/synctest
// bubble, whose fake time a kernel timer would not follow).
func newPreciseClock() releaseClock {
	if fakeClock() {
		return newTimerClock()
	}
	if w, err := newFdClock(); err == nil {
		return w
	}
	return newTimerClock()
}

// fakeClock reports whether time.Now disagrees with the kernel's wall clock
// by more than a minute, as it does inside a testing/synctest bubble.
func fakeClock() bool {
	var tv syscall.Timeval
	if err := syscall.Gettimeofday(&tv); err != nil {
		return true
	}
	d := time.Since(time.Unix(tv.Unix()))
	return d > time.Minute || d < -time.Minute
}

func newFdClock() (*fdClock, error) {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return nil, os.NewSyscallError("timerfd_create", errno)
	}
	f := os.NewFile(fd, "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &fdClock{f: f, fd: fd, rc: rc}
	w.readFn = w.read
	return w, nil
}

// arm sets the timer to fire once, d from now (at least 1ns: zero disarms).
// Setting it also clears an expiry not yet read.
func (w *fdClock) arm(d time.Duration) {
	w.spec.value = syscall.NsecToTimespec(int64(max(d, 1)))
	syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, w.fd, 0, uintptr(unsafe.Pointer(&w.spec)), 0, 0, 0)
}

func (w *fdClock) kick() { w.arm(1) }

// wait reads the expiry count, parking until there is one. (It must try
// the read first: the poller forgets readiness that came before a wait
// starts.) A failed read (the file closed) returns as a wake-up: the
// leader then looks again.
func (w *fdClock) wait() { w.rc.Read(w.readFn) }

func (w *fdClock) read(fd uintptr) bool {
	for {
		_, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&w.buf[0])), uintptr(len(w.buf)))
		switch errno {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		return true
	}
}

func (w *fdClock) close() { w.f.Close() }
