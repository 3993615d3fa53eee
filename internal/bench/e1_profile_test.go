package bench_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/bench"
)

// e1URL names a small seeded database for profiling E1 alone (2,000
// customers), so that E1 can be measured without the 1,000,000-customer
// bench database. The database must exist; it is seeded on first use.
const e1URL = "CUSTOS_E1_DATABASE_URL"

func openSmallE1(tb testing.TB) (encrypted, plain bench.Op) {
	tb.Helper()
	url := os.Getenv(e1URL)
	if url == "" {
		tb.Skipf("%s is not set", e1URL)
	}
	env, err := bench.Open(context.Background(), bench.Config{URL: url, Customers: 2000, ContactsPerCustomer: 2, FollowUpsPerCustomer: 3, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(env.Close)
	encrypted, plain, err = env.E1(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return encrypted, plain
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkE1Small runs E1's two arms on the small database of
// CUSTOS_E1_DATABASE_URL, for -cpuprofile and -memprofile. Besides ns/op
// it reports the CPU time of the whole process (client, server and
// driver) per operation, which the other work on a shared machine
// disturbs less than latency.
func BenchmarkE1Small(b *testing.B) {
	encrypted, plain := openSmallE1(b)
	run := func(op bench.Op) func(b *testing.B) {
		return func(b *testing.B) {
			ctx := context.Background()
			start := cpuTime()
			n := 0
			for b.Loop() {
				if err := op(ctx, 0, n); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
		}
	}
	b.Run("encrypted-fields", run(encrypted))
	b.Run("plain-fields", run(plain))
}

// TestE1Interleaved measures E1 as the bench driver does (median latency
// of each round, arms alternated) and also the CPU time per request, on
// the small database. Rounds and the length of a run come from
// CUSTOS_E1_ROUNDS (default 9) and CUSTOS_E1_RUN (default 1s).
func TestE1Interleaved(t *testing.T) {
	encrypted, plain := openSmallE1(t)
	rounds, d := 9, time.Second
	if v, err := strconv.Atoi(os.Getenv("CUSTOS_E1_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	if v, err := time.ParseDuration(os.Getenv("CUSTOS_E1_RUN")); err == nil && v > 0 {
		d = v
	}
	var cpuA, cpuB []bench.Sample
	withCPU := func(op bench.Op, into *[]bench.Sample) bench.Arm {
		var start time.Duration
		return bench.Arm{Op: op, Around: func() func() {
			start = cpuTime()
			return func() {
				// One latency per sample: the CPU time of the run, read
				// back as a per-operation figure below.
				*into = append(*into, bench.Sample{Latencies: []time.Duration{cpuTime() - start}})
			}
		}}
	}
	a, b := withCPU(encrypted, &cpuA), withCPU(plain, &cpuB)
	p := bench.Interleave(context.Background(), rounds, d, 1, a, b)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	// Drop the warm-up runs and divide each run's CPU time by its ops.
	perOp := func(cpu, s []bench.Sample) []bench.Sample {
		cpu = cpu[1:]
		out := make([]bench.Sample, len(s))
		for i := range s {
			out[i] = bench.Sample{Latencies: []time.Duration{cpu[i].Latencies[0] / time.Duration(max(s[i].Ops, 1))}}
		}
		return out
	}
	la, lb := bench.MedianOf(p.A, bench.MedianMsOf), bench.MedianOf(p.B, bench.MedianMsOf)
	ca, cb := bench.MedianOf(perOp(cpuA, p.A), bench.MedianMsOf), bench.MedianOf(perOp(cpuB, p.B), bench.MedianMsOf)
	t.Logf("E1 small: latency A %.3f ms B %.3f ms ratio %.2f; CPU/op A %.3f ms B %.3f ms ratio %.2f (%d rounds of %s)",
		la, lb, la/lb, ca, cb, ca/cb, rounds, d)
}
