package bench_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/internal/bench"
)

func TestMedianAndQuantile(t *testing.T) {
	s := func(ms ...int) bench.Sample {
		var out bench.Sample
		for _, m := range ms {
			out.Latencies = append(out.Latencies, time.Duration(m)*time.Millisecond)
		}
		out.Ops, out.Elapsed = len(ms), time.Second
		return out
	}
	samples := []bench.Sample{s(1, 2, 3), s(5, 9, 7), s(4, 4, 100)}
	if got := bench.MedianOf(samples, bench.MedianMsOf); got != 4 {
		t.Errorf("median of the round medians 2, 7, 4 = %v, want 4", got)
	}
	if got := bench.MedianOf(samples[:2], bench.MedianMsOf); got != 4.5 {
		t.Errorf("median of 2 and 7 = %v, want 4.5", got)
	}
	if got := s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100).Quantile(0.95); got != 19*time.Millisecond {
		t.Errorf("p95 = %v, want 19ms", got)
	}
	if got := bench.MedianOf(samples, bench.ThroughputOf); got != 3 {
		t.Errorf("throughput = %v, want 3/s", got)
	}
}

func TestInterleaveAlternatesArms(t *testing.T) {
	var (
		mu    sync.Mutex
		order []string
	)
	arm := func(name string) bench.Arm {
		return bench.Arm{
			Op: func(ctx context.Context, _, _ int) error { time.Sleep(time.Millisecond); return nil },
			Around: func() func() {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				return func() {}
			},
		}
	}
	p := bench.Interleave(context.Background(), 4, 100*time.Millisecond, 2, arm("a"), arm("b"))
	if len(p.A) != 4 || len(p.B) != 4 || p.Err() != nil {
		t.Fatalf("%d and %d rounds, %v", len(p.A), len(p.B), p.Err())
	}
	// Warm-up a b, then a b, b a, a b, b a.
	want := []string{"a", "b", "a", "b", "b", "a", "a", "b", "b", "a"}
	if !slices.Equal(order, want) {
		t.Errorf("arms ran in order %v, want %v", order, want)
	}
	for _, s := range append(p.A, p.B...) {
		if s.Ops == 0 || s.Throughput() <= 0 {
			t.Errorf("a run measured nothing: %+v", s)
		}
	}
}

func TestV1ArmsValidate(t *testing.T) {
	a, b, err := bench.V1()
	if err != nil {
		t.Fatal(err)
	}
	for _, arm := range []bench.Arm{a, b} {
		if err := arm.Op(context.Background(), 0, 0); err != nil {
			t.Error(err)
		}
	}
}

// openEnv opens the bench database named by CUSTOS_BENCH_DATABASE_URL, or
// skips: the Go benchmarks below need a seeded database (`make bench`
// makes one).
func openEnv(b *testing.B) *bench.Env {
	b.Helper()
	url := os.Getenv(bench.EnvURL)
	if url == "" {
		b.Skipf("%s is not set", bench.EnvURL)
	}
	env, err := bench.Open(context.Background(), bench.Config{URL: url, Customers: 1_000_000, ContactsPerCustomer: 2, FollowUpsPerCustomer: 3, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(env.Close)
	return env
}

func runOp(b *testing.B, op bench.Op) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := op(ctx, 0, i); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkV1(b *testing.B) {
	cached, perCall, err := bench.V1()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) { runOp(b, cached.Op) })
	b.Run("compile-per-call", func(b *testing.B) { runOp(b, perCall.Op) })
}

func BenchmarkG1(b *testing.B) {
	env := openEnv(b)
	graphql, baseline, cleanup, err := env.G1(context.Background(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer cleanup()
	b.Run("graphql", func(b *testing.B) { runOp(b, graphql) })
	b.Run("pgx-json", func(b *testing.B) { runOp(b, baseline) })
}

func BenchmarkP1(b *testing.B) {
	env := openEnv(b)
	privacy, system, err := env.P1(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("privacy", func(b *testing.B) { runOp(b, privacy) })
	b.Run("system", func(b *testing.B) { runOp(b, system) })
}

func BenchmarkE1(b *testing.B) {
	env := openEnv(b)
	encrypted, plain, err := env.E1(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypted-fields", func(b *testing.B) { runOp(b, encrypted) })
	b.Run("plain-fields", func(b *testing.B) { runOp(b, plain) })
}
