package password

import "syscall"

// hashNice is how much lower than the server's the priority of a thread
// running a hash is.
const hashNice = 10

// lowerThreadPriority lowers the scheduling priority of the calling OS
// thread (on Linux, setpriority with a thread id affects that thread only).
// The caller must have locked its goroutine to the thread and must not
// unlock it: the runtime then ends the thread with the goroutine, and no
// other goroutine ever runs at the lowered priority.
func lowerThreadPriority() {
	tid := syscall.Gettid()
	// The raw syscall returns 20 - nice.
	current, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return
	}
	nice := 20 - current
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(nice+hashNice, 19))
}
