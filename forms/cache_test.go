package forms

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheCompilesOncePerVersion(t *testing.T) {
	k := NewCache(NewCompiler(CompilerOptions{}), 16)
	var loads atomic.Int64
	schema := func() ([]byte, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond) // the other callers arrive meanwhile
		return []byte(`{"type": "object", "properties": {"a": {"type": "string"}}}`), nil
	}
	const callers = 64
	var wg sync.WaitGroup
	got := make([]Validator, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			v, err := k.Get("fv1", schema)
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		})
	}
	close(start)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("compiled %d times, want 1", n)
	}
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("caller %d got another validator", i)
		}
	}
	if _, err := k.Get("fv1", schema); err != nil || loads.Load() != 1 {
		t.Errorf("a later Get compiled again (%d) or failed: %v", loads.Load(), err)
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	k := NewCache(NewCompiler(CompilerOptions{}), 2)
	loads := make(map[string]int)
	get := func(id string) {
		t.Helper()
		if _, err := k.Get(id, func() ([]byte, error) { loads[id]++; return []byte(`{}`), nil }); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("a") // a is now the most recently used
	get("c") // evicts b
	get("a")
	if k.Len() != 2 {
		t.Errorf("Len = %d, want 2", k.Len())
	}
	get("b")
	if loads["a"] != 1 || loads["b"] != 2 || loads["c"] != 1 {
		t.Errorf("loads = %v, want a:1 b:2 c:1", loads)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	k := NewCache(NewCompiler(CompilerOptions{}), 4)
	boom := errors.New("database is down")
	if _, err := k.Get("fv", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("Get = %v, want the loading error", err)
	}
	if _, err := k.Get("fv", func() ([]byte, error) { return []byte(`{"$ref": "http://example.com/"}`), nil }); !errors.Is(err, ErrExternalRef) {
		t.Errorf("Get = %v, want ErrExternalRef", err)
	}
	if k.Len() != 0 {
		t.Errorf("Len = %d after failures, want 0", k.Len())
	}
	if _, err := k.Get("fv", func() ([]byte, error) { return []byte(`{}`), nil }); err != nil {
		t.Errorf("Get after failures = %v", err)
	}
}

func TestCacheConcurrentVersions(t *testing.T) {
	k := NewCache(NewCompiler(CompilerOptions{}), 8)
	var loads [20]atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			id := i % len(loads)
			_, err := k.Get(fmt.Sprintf("fv%d", id), func() ([]byte, error) {
				loads[id].Add(1)
				return []byte(`{"type": "string"}`), nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if k.Len() > 8 {
		t.Errorf("Len = %d, more than the bound", k.Len())
	}
}
