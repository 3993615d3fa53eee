// Command benchtable runs Custos's benchmark pairs interleaved on the bench
// database and prints one table row per target: the A and B medians, their
// ratio, the target and whether it is met. `make bench` runs it; `make
// soak` runs it with -soak.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/custos-crm/custos/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// row is one line of the table.
type row struct {
	id, what, a, b, ratio, target, verdict string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	customers := fs.Int("customers", 1_000_000, "customers in the bench tenant")
	contacts := fs.Int("contacts", 2, "contacts per customer")
	followUps := fs.Int("follow-ups", 3, "follow-ups per customer")
	seedValue := fs.Uint64("seed", 1, "seed of the bench data")
	rounds := fs.Int("rounds", 5, "rounds of each A/B pair (medians are over rounds)")
	d := fs.Duration("d", 3*time.Second, "length of one run of one arm")
	only := fs.String("only", "", "comma-separated target ids to run (default: all)")
	loadFor := fs.Duration("load", 60*time.Second, "length of the load test (0 skips it)")
	clients := fs.Int("clients", 64, "concurrent clients of the load test")
	loadRate := fs.Float64("load-rate", 200, "arrival rate (requests/s) of the open-loop load test that follows the closed-loop one (0 skips it)")
	verbose := fs.Bool("v", false, "print the statements G2 counts")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file at the end of the run")
	loadKinds := fs.String("load-kinds", "", "comma-separated request kinds of the load mix (default: all of "+strings.Join(bench.KindNames(), ", ")+")")
	soak := fs.Duration("soak", 0, "run only the soak test, this long (e.g. 30m)")
	serverLog := fs.String("server-log", "", "append the served application's warnings and errors to this file (default: discard them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	want := map[string]bool{}
	for _, id := range strings.Split(*only, ",") {
		if id = strings.TrimSpace(strings.ToUpper(id)); id != "" {
			want[id] = true
		}
	}
	selected := func(id string) bool { return len(want) == 0 || want[strings.ToUpper(id)] }

	var serverLogFile io.Writer
	if *serverLog != "" {
		f, err := os.OpenFile(*serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		serverLogFile = f
	}
	env, err := bench.Open(ctx, bench.Config{
		URL: getenv(bench.EnvURL), Customers: *customers, ContactsPerCustomer: *contacts,
		FollowUpsPerCustomer: *followUps, Seed: *seedValue, Log: stderr, ServerLog: serverLogFile,
	})
	if err != nil {
		return err
	}
	defer env.Close()
	if *memProfile != "" {
		// Written before the application is closed, so that it shows what
		// the server holds at the end of the run.
		defer func() {
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintln(stderr, "benchtable: heap profile:", err)
			}
		}()
	}
	host, _ := os.Hostname()
	fmt.Fprintf(stdout, "Custos benchmarks: %s, %d CPUs (GOMAXPROCS %d), %s, PostgreSQL bench tenant of %d customers (seed %d), %d rounds of %s per arm\n\n",
		host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), *customers, *seedValue, *rounds, *d)

	var kinds []string
	if *loadKinds != "" {
		kinds = strings.Split(*loadKinds, ",")
	}
	if *soak > 0 {
		return runSoak(ctx, env, *clients, *soak, kinds, stdout)
	}

	var rows []row
	add := func(r row) {
		rows = append(rows, r)
		fmt.Fprintf(stderr, "%s: %s %s ratio %s → %s\n", r.id, r.a, r.b, r.ratio, r.verdict)
	}
	fail := func(id, what string, err error) {
		add(row{id: id, what: what, a: "-", b: "-", ratio: "-", target: "-", verdict: "error: " + err.Error()})
	}
	pair := func(id, what, unit string, p bench.Pair, f func(bench.Sample) float64, target string, met func(ratio float64) bool) {
		if err := p.Err(); err != nil {
			fail(id, what, err)
			return
		}
		a, b := bench.MedianOf(p.A, f), bench.MedianOf(p.B, f)
		ratio := a / b
		add(row{id: id, what: what, a: fmt.Sprintf("%.2f %s", a, unit), b: fmt.Sprintf("%.2f %s", b, unit),
			ratio: fmt.Sprintf("%.2f", ratio), target: target, verdict: verdict(met(ratio))})
	}

	if selected("G1") {
		a, b, cleanup, err := env.G1(ctx, 4)
		if err != nil {
			fail("G1", "GraphQL list vs pgx+json", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 4, bench.Arm{Op: a}, bench.Arm{Op: b})
			cleanup()
			pair("G1", "customers(first: 50) + owner + last follow-up: GraphQL (A) vs pgx+encoding/json (B), 4 clients", "req/s",
				p, bench.ThroughputOf, "A/B ≥ 0.5", func(r float64) bool { return r >= 0.5 })
		}
	}
	if selected("G2") {
		small, large, err := env.G2(ctx)
		if err != nil {
			fail("G2", "statements at page size 10 vs 100", err)
		} else {
			add(row{id: "G2", what: "SQL statements of that request (session lookup included) at first: 10 (A) vs first: 100 (B)",
				a: fmt.Sprint(len(small)), b: fmt.Sprint(len(large)), ratio: fmt.Sprintf("%.2f", float64(len(small))/float64(len(large))),
				target: "equal", verdict: verdict(len(small) == len(large))})
			if *verbose {
				for i, list := range [][]string{small, large} {
					fmt.Fprintf(stderr, "G2 statements at first: %d:\n", []int{10, 100}[i])
					for _, s := range list {
						fmt.Fprintf(stderr, "  %s\n", oneLine(s))
					}
				}
			}
		}
	}
	if selected("P1") {
		a, b, err := env.P1(ctx)
		if err != nil {
			fail("P1", "privacy vs system context", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 1, bench.Arm{Op: a}, bench.Arm{Op: b})
			pair("P1", "the same ent list as the manager under privacy rules (A) vs system context + same predicate (B), median latency", "ms",
				p, bench.MedianMsOf, "A/B ≤ 1.15", func(r float64) bool { return r <= 1.15 })
		}
	}
	if selected("E1") && *verbose {
		if err := printE1Statements(ctx, env, stderr); err != nil {
			fmt.Fprintln(stderr, "E1 statements:", err)
		}
	}
	if selected("E1") {
		a, b, err := env.E1(ctx)
		if err != nil {
			fail("E1", "encrypted fields", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 1, bench.Arm{Op: a}, bench.Arm{Op: b})
			pair("E1", "50-row page with mobile, email, address (A) vs without (B), median latency", "ms",
				p, bench.MedianMsOf, "A/B ≤ 1.10", func(r float64) bool { return r <= 1.10 })
		}
	}
	if selected("L1") {
		a, b, err := env.L1(ctx, 1)
		if err != nil {
			fail("L1", "update with audit chain", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 1, a, b)
			pair("L1", "updateCustomer with the chained audit event (A) vs audit hook off (B), median latency", "ms",
				p, bench.MedianMsOf, "A/B ≤ 1.3", func(r float64) bool { return r <= 1.3 })
		}
		a, b, err = env.L1(ctx, 16)
		if err != nil {
			fail("L1c", "16 writers", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 16, a, b)
			pair("L1c", "16 concurrent writers in one tenant: with chain (A) vs audit hook off (B), throughput", "req/s",
				p, bench.ThroughputOf, "A/B ≥ 0.7", func(r float64) bool { return r >= 0.7 })
		}
	}
	if selected("V1") {
		a, b, err := bench.V1()
		if err != nil {
			fail("V1", "form validation", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 1, a, b)
			us := func(s bench.Sample) float64 { return bench.MedianMsOf(s) * 1000 }
			if err := p.Err(); err != nil {
				fail("V1", "form validation", err)
			} else {
				ca, pc := bench.MedianOf(p.A, us), bench.MedianOf(p.B, us)
				add(row{id: "V1", what: "validating a ticket submission: cached compiled schema (A) vs compiling per call (B), median latency",
					a: fmt.Sprintf("%.1f µs", ca), b: fmt.Sprintf("%.1f µs", pc), ratio: fmt.Sprintf("B/A %.1f×", pc/ca),
					target: "report both; never compile per call", verdict: "reported (the product uses the cache)"})
			}
		}
	}
	if selected("A1") {
		p := bench.Interleave(ctx, 1, *d*2, 1, bench.Arm{Op: env.SignIn()}, bench.Arm{Op: env.SignIn()})
		if err := p.Err(); err != nil {
			fail("A1", "sign-in", err)
		} else {
			all := append(p.A, p.B...)
			add(row{id: "A1a", what: "password sign-in alone (argon2id 19 MiB, t=2), p95 / p50", a: fmt.Sprintf("%.1f ms", bench.MedianOf(all, bench.P95MsOf)),
				b: fmt.Sprintf("%.1f ms", bench.MedianOf(all, bench.MedianMsOf)), ratio: "-", target: "report", verdict: "reported"})
		}
		var beside bench.Sample
		a, b, err := env.A1(ctx, 15, &beside)
		if err != nil {
			fail("A1", "GraphQL p95 beside sign-ins", err)
		} else {
			p := bench.Interleave(ctx, *rounds, *d, 1, a, b)
			pair("A1", fmt.Sprintf("G1 list p95 while 15 sign-ins/s run beside it (A; %d sign-ins, p95 %.0f ms, %d errors) vs alone (B)",
				len(beside.Latencies), float64(beside.Quantile(0.95))/1e6, beside.Errors), "ms",
				p, bench.P95MsOf, "A/B ≤ 1.5", func(r float64) bool { return r <= 1.5 })
		}
	}
	if selected("LOAD") && *loadFor > 0 {
		res, err := env.Load(ctx, *clients, *loadFor, 1, kinds)
		if err != nil {
			fail("Load", "load test", err)
		} else {
			r := res[0]
			mix := "all kinds"
			if len(kinds) > 0 {
				mix = strings.Join(kinds, ", ")
			}
			add(loadRow("Load", fmt.Sprintf("%d clients, %s, mixed reads and writes (%s)", *clients, *loadFor, mix), r))
			printKinds(stdout, "Load test by request kind:", r)
		}
	}
	if selected("LOAD") && *loadFor > 0 && *loadRate > 0 {
		r, err := env.LoadAtRate(ctx, *loadRate, *loadFor, *clients, 4096, kinds)
		if err != nil {
			fail("Load@rate", "open-loop load test", err)
		} else {
			add(loadRow("Load@rate", fmt.Sprintf("open loop at %.0f req/s for %s (the same mix; not an issue target, see docs/BENCHMARKS.md)", *loadRate, *loadFor), r))
			printKinds(stdout, fmt.Sprintf("Open-loop load test at %.0f req/s by request kind:", *loadRate), r)
		}
	}

	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tA median\tB median\tratio\ttarget\tresult\twhat")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.id, r.a, r.b, r.ratio, r.target, r.verdict, r.what)
	}
	return tw.Flush()
}

// loadRow is the table row of a load test: throughput, errors and the
// reads' quantiles against the target of reads p99 ≤ 50 ms.
func loadRow(id, what string, r bench.LoadResult) row {
	p99 := ms(r.Reads.Quantile(0.99))
	return row{id: id, what: fmt.Sprintf("%s: %.0f req/s, %d errors; reads p50/p95/p99", what, float64(r.Total)/r.Duration.Seconds(), r.Errors()),
		a: fmt.Sprintf("%.1f / %.1f / %.1f ms", ms(r.Reads.Quantile(0.5)), ms(r.Reads.Quantile(0.95)), p99), b: "-", ratio: "-",
		target: "reads p99 ≤ 50 ms", verdict: verdict(p99 <= 50 && r.Errors() == 0)}
}

// printKinds prints a load test's figures by request kind under title,
// with the first error of each kind that had one (requests the open loop
// did not send because too many were in flight count as "saturated").
func printKinds(w io.Writer, title string, r bench.LoadResult) {
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\trequests\terrors\tp50\tp95\tp99")
	for _, k := range append(bench.KindNames(), "saturated") {
		s, ok := r.Kinds[k]
		if !ok && k == "saturated" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f ms\t%.1f ms\t%.1f ms\n", k, s.Ops, s.Errors, ms(s.Quantile(0.5)), ms(s.Quantile(0.95)), ms(s.Quantile(0.99)))
		if s.FirstErr != nil {
			fmt.Fprintf(tw, "  first error:\t%v\n", s.FirstErr)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
}

// oneLine puts a statement on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// runSoak runs the load mix for d in six windows and reports errors, the
// reads' p99 per window and resident memory at the start and the end.
func runSoak(ctx context.Context, env *bench.Env, clients int, d time.Duration, kinds []string, stdout io.Writer) error {
	const windows = 6
	res, err := env.Load(ctx, clients, d, windows, kinds)
	if err != nil {
		return err
	}
	// Memory is compared from the end of the first window, once caches
	// and pools have filled, to the end of the last.
	startRSS, endRSS := res[0].ResidentMiB, res[len(res)-1].ResidentMiB
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "window\trequests\terrors\treads p50\treads p99\tresident\tlive Go heap\tgoroutines")
	errs := 0
	for i, r := range res {
		errs += r.Errors()
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f ms\t%.1f ms\t%.0f MiB\t%.0f MiB\t%d\n", i+1, r.Total, r.Errors(),
			ms(r.ReadsP50), ms(r.ReadsP99), r.ResidentMiB, r.LiveHeapMiB, r.Goroutines)
	}
	tw.Flush()
	for _, k := range bench.KindNames() {
		for _, r := range res {
			if s := r.Kinds[k]; s.FirstErr != nil {
				fmt.Fprintf(stdout, "first %s error: %v\n", k, s.FirstErr)
				break
			}
		}
	}
	first, last := ms(res[0].ReadsP99), ms(res[len(res)-1].ReadsP99)
	drift := (last - first) / first
	rssDrift := (endRSS - startRSS) / startRSS
	fmt.Fprintf(stdout, "\nSoak: %d clients for %s: %d errors (target 0); reads p99 %.1f ms → %.1f ms (%+.0f%%); resident memory (server and clients in one process) %.0f MiB → %.0f MiB (%+.0f%%; target within 10%%) → %s\n",
		clients, d, errs, first, last, drift*100, startRSS, endRSS, rssDrift*100,
		verdict(errs == 0 && rssDrift <= 0.10 && drift <= 0.10))
	return nil
}

// writeHeapProfile writes the heap profile (what is live after a
// collection, and what was allocated over the run) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// printE1Statements prints the statements of both E1 queries and of a
// quick search by phone number.
func printE1Statements(ctx context.Context, env *bench.Env, w io.Writer) error {
	c, err := env.Counted(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	client := bench.HTTPClient(1)
	token, err := env.Login(ctx, client, env.Manager())
	if err != nil {
		return err
	}
	with, without := bench.E1Queries()
	for _, q := range []string{with, without, `{ search(query: "13812345678") { customers { id } contacts { id } } }`} {
		list, err := c.Statements(ctx, client, token, q, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "E1 statements of %s:\n", q)
		for _, s := range list {
			fmt.Fprintf(w, "  %s\n", oneLine(s))
		}
	}
	return nil
}
