package password

import (
	"context"
	"syscall"
	"testing"
)

// TestHashingRunsAtLowerPriority checks that the derivation runs on a thread
// of lower priority than the caller's, and that the caller's thread keeps
// its priority.
func TestHashingRunsAtLowerPriority(t *testing.T) {
	nice := func() int {
		raw, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - raw
	}
	caller := nice()
	h := NewHasher(cheapParams(), 1)
	var during int
	next := h.kdf
	h.kdf = func(password, salt []byte, p Params) []byte {
		during = nice()
		return next(password, salt, p)
	}
	if _, err := h.Hash(context.Background(), "correct horse"); err != nil {
		t.Fatal(err)
	}
	if want := min(caller+hashNice, 19); during != want {
		t.Errorf("the hash ran at nice %d, want %d (caller at %d)", during, want, caller)
	}
	if after := nice(); after != caller {
		t.Errorf("the caller's thread is at nice %d after hashing, was %d", after, caller)
	}
}
