package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one operation of a benchmark arm; worker tells concurrent workers
// apart and n counts the calls of that worker.
type Op func(ctx context.Context, worker, n int) error

// Sample is what one timed run of an arm measured.
type Sample struct {
	Ops       int
	Errors    int
	Elapsed   time.Duration
	Latencies []time.Duration
	FirstErr  error
}

// Throughput returns operations per second.
func (s Sample) Throughput() float64 { return float64(s.Ops) / s.Elapsed.Seconds() }

// Quantile returns the q-quantile of the latencies (0 when there are
// none).
func (s Sample) Quantile(q float64) time.Duration { return quantile(s.Latencies, q) }

func quantile(ls []time.Duration, q float64) time.Duration {
	if len(ls) == 0 {
		return 0
	}
	sorted := slices.Clone(ls)
	slices.Sort(sorted)
	i := int(q * float64(len(sorted)-1))
	return sorted[i]
}

// Run calls op from workers goroutines in a closed loop for d and records
// every latency.
func Run(ctx context.Context, d time.Duration, workers int, op Op) Sample {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu      sync.Mutex
		out     Sample
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []time.Duration
			errs := 0
			var first error
			for n := 0; !stopped.Load() && ctx.Err() == nil; n++ {
				t := time.Now()
				err := op(ctx, w, n)
				if ctx.Err() != nil {
					break // the run ended during the call: not counted
				}
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, local...)
			out.Errors += errs
			if out.FirstErr == nil {
				out.FirstErr = first
			}
			mu.Unlock()
		}()
	}
	<-ctx.Done()
	stopped.Store(true)
	out.Elapsed = time.Since(start)
	wg.Wait()
	out.Ops = len(out.Latencies)
	return out
}

// Pair is an A/B pair measured in alternating rounds.
type Pair struct {
	A, B []Sample
}

// Arm is one side of a pair: its operation and, optionally, what runs
// beside it while it is measured (Around starts it and returns its stop).
type Arm struct {
	Op     Op
	Around func() (stop func())
}

func (a Arm) run(ctx context.Context, d time.Duration, workers int) Sample {
	if a.Around != nil {
		stop := a.Around()
		defer stop()
	}
	return Run(ctx, d, workers, a.Op)
}

// Interleave runs a and b alternately, rounds times each, each run lasting
// d with workers goroutines, so that both arms see the same machine
// conditions. A short warm-up of each arm comes first.
func Interleave(ctx context.Context, rounds int, d time.Duration, workers int, a, b Arm) Pair {
	a.run(ctx, d/4, workers)
	b.run(ctx, d/4, workers)
	var p Pair
	for r := range rounds {
		// Alternate which arm goes first, so that neither always follows
		// the other.
		if r%2 == 0 {
			p.A = append(p.A, a.run(ctx, d, workers))
			p.B = append(p.B, b.run(ctx, d, workers))
		} else {
			p.B = append(p.B, b.run(ctx, d, workers))
			p.A = append(p.A, a.run(ctx, d, workers))
		}
	}
	return p
}

// Err returns the first error either arm met.
func (p Pair) Err() error {
	for _, s := range append(slices.Clone(p.A), p.B...) {
		if s.FirstErr != nil {
			return fmt.Errorf("%d errors, the first: %w", s.Errors, s.FirstErr)
		}
	}
	return nil
}

// MedianOf returns the median of f over samples.
func MedianOf(samples []Sample, f func(Sample) float64) float64 {
	vs := make([]float64, len(samples))
	for i, s := range samples {
		vs[i] = f(s)
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// Throughput and latency quantiles of a sample, as MedianOf arguments.
var (
	ThroughputOf = func(s Sample) float64 { return s.Throughput() }
	MedianMsOf   = func(s Sample) float64 { return ms(s.Quantile(0.5)) }
	P95MsOf      = func(s Sample) float64 { return ms(s.Quantile(0.95)) }
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
