package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-crm/custos/internal/seed"
)

// The request kinds of the load mix and their shares in twentieths.
var loadMix = []struct {
	kind  string
	share int
	read  bool
}{
	{"list", 10, true},        // customers(first: 20) with owner and last follow-up time
	{"read", 5, true},         // one customer with its contacts and follow-ups
	{"search-phone", 2, true}, // quick search by a mobile number (blind index)
	{"search-name", 1, true},  // quick search by a fragment of a name
	{"update", 2, false},      // updateCustomer (audited)
}

const (
	loadList   = `{ customers(first: 20) { edges { node { id name lastFollowUpAt owner { name } } } pageInfo { endCursor } } }`
	loadRead   = `query($id: ID!) { node(id: $id) { ... on Customer { id name mobile email address owner { name } contacts(first: 5) { edges { node { name title mobile } } } followUps(first: 5) { edges { node { type content createdAt } } } } } }`
	loadSearch = `query($q: String!) { search(query: $q) { customers { id name } contacts { id name } } }`
)

// LoadResult is what a load run measured, per request kind.
type LoadResult struct {
	Duration time.Duration
	Clients  int
	Kinds    map[string]Sample
	// Reads merges the read kinds.
	Reads Sample
	Total int
	// ReadsP50 and ReadsP99 are the reads' quantiles. A run cut into
	// windows keeps only these of each window and drops the latencies, so
	// that the driver's own samples do not show as memory growth.
	ReadsP50, ReadsP99 time.Duration
	// ResidentMiB is this process's resident memory at the end of the run.
	ResidentMiB float64
	// LiveHeapMiB is the Go heap still reachable at the end of the run,
	// measured right after a collection, and Goroutines the goroutines
	// then running: they tell a leak from memory the runtime keeps for
	// reuse, which the resident size includes.
	LiveHeapMiB float64
	Goroutines  int
}

// visible is what one manager's clients work on: customers the manager
// can see.
type visible struct {
	token        string
	ids, names   []string
	mobiles      []string
	nameFragment []string
}

// prepareLoad signs in every seeded manager and samples customers each
// can see.
func (e *Env) prepareLoad(ctx context.Context) ([]visible, error) {
	client := HTTPClient(2)
	var out []visible
	gen := e.Seeded.People
	for _, d := range gen.Departments {
		m := gen.People[d.Leader]
		token, err := e.Login(ctx, client, m.Email)
		if err != nil {
			return nil, err
		}
		// A 2 % sample of the table's pages spreads the requests over a
		// large tenant; a small one is read whole.
		sample := "TABLESAMPLE SYSTEM (2)"
		if e.Customers < 100_000 {
			sample = ""
		}
		rows, err := e.Pgx.QueryContext(ctx, `SELECT id, name FROM customers `+sample+` WHERE tenant_id = $1 AND department_id = $2 LIMIT 500`,
			string(e.Seeded.TenantID), string(d.ID))
		if err != nil {
			return nil, err
		}
		v := visible{token: token}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			v.ids, v.names = append(v.ids, id), append(v.names, name)
			if r := []rune(name); len(r) >= 4 {
				v.nameFragment = append(v.nameFragment, string(r[2:4]))
			}
		}
		rows.Close()
		if len(v.ids) == 0 {
			return nil, fmt.Errorf("bench: no customers sampled for %s", m.Email)
		}
		out = append(out, v)
	}
	// Mobile numbers as users type them: the generator's, most of which
	// belong to customers some manager can see.
	g := seed.NewGenerator(e.Config.Seed)
	for i := range 2000 {
		c := g.Customer(rand.IntN(e.Customers))
		out[i%len(out)].mobiles = append(out[i%len(out)].mobiles, strings.ReplaceAll(c.Mobile, " ", ""))
	}
	return out, nil
}

// Load runs the closed-loop load mix with clients concurrent clients for
// d; only names the request kinds to send (all when empty). When windows
// is above 1, the run is cut into that many windows, each reported (the
// soak test).
func (e *Env) Load(ctx context.Context, clients int, d time.Duration, windows int, only []string) ([]LoadResult, error) {
	op, err := e.loadOp(ctx, clients, only)
	if err != nil {
		return nil, err
	}
	if windows < 1 {
		windows = 1
	}
	var results []LoadResult
	n := make([]int, clients)
	for range windows {
		res := LoadResult{Duration: d / time.Duration(windows), Clients: clients, Kinds: map[string]Sample{}}
		record := res.recorder()
		wctx, cancel := context.WithTimeout(ctx, res.Duration)
		var wg sync.WaitGroup
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for wctx.Err() == nil {
					op(wctx, w, n[w], func(kind string, d time.Duration, err error) {
						if wctx.Err() == nil {
							record(kind, d, err)
						}
					})
					n[w]++
				}
			}()
		}
		wg.Wait()
		cancel()
		res.sum()
		res.ReadsP50, res.ReadsP99 = res.Reads.Quantile(0.5), res.Reads.Quantile(0.99)
		if windows > 1 {
			for k, s := range res.Kinds {
				s.Latencies = nil
				res.Kinds[k] = s
			}
			res.Reads.Latencies = nil
		}
		res.LiveHeapMiB, res.Goroutines = liveHeap()
		res.ResidentMiB = ResidentMiB()
		results = append(results, res)
	}
	return results, nil
}

// loadRequest sends one request of the load mix: the n-th of worker.
// record gets its kind, its latency and its error.
type loadRequest func(ctx context.Context, worker, n int, record func(kind string, d time.Duration, err error))

// loadOp signs the managers in, samples what they see and returns the
// function that sends the load mix's requests (only the kinds in only,
// all when empty) over a client of conns connections.
func (e *Env) loadOp(ctx context.Context, conns int, only []string) (loadRequest, error) {
	vis, err := e.prepareLoad(ctx)
	if err != nil {
		return nil, err
	}
	client := HTTPClient(conns)
	var kinds []string
	for _, m := range loadMix {
		if len(only) > 0 && !slices.Contains(only, m.kind) {
			continue
		}
		for range m.share {
			kinds = append(kinds, m.kind)
		}
	}
	return func(ctx context.Context, worker, n int, record func(kind string, d time.Duration, err error)) {
		v := vis[worker%len(vis)]
		r := rand.New(rand.NewPCG(uint64(worker), uint64(n)))
		kind := kinds[(worker+n)%len(kinds)]
		var (
			query string
			vars  map[string]any
		)
		switch kind {
		case "list":
			query = loadList
		case "read":
			query, vars = loadRead, map[string]any{"id": v.ids[r.IntN(len(v.ids))]}
		case "search-phone":
			query, vars = loadSearch, map[string]any{"q": v.mobiles[r.IntN(len(v.mobiles))]}
		case "search-name":
			query, vars = loadSearch, map[string]any{"q": v.nameFragment[r.IntN(len(v.nameFragment))]}
		case "update":
			i := r.IntN(len(v.ids))
			query, vars = updateMutation, map[string]any{"id": v.ids[i], "name": v.names[i]}
		}
		t := time.Now()
		_, err := GraphQL(ctx, client, e.Server.URL, v.token, query, vars)
		record(kind, time.Since(t), err)
	}, nil
}

// LoadAtRate runs the load mix open-loop: requests start at rate per
// second for d whether or not earlier ones have finished, as independent
// users would send them, over at most conns connections (a request waiting
// for a connection counts that wait in its latency). Unlike Load's closed
// loop, where the clients' own pace sets the throughput, this measures the
// latency users see at a given arrival rate. A request that would be the
// maxOutstanding-th in flight is not sent and counts as an error: the
// server is then saturated at this rate.
func (e *Env) LoadAtRate(ctx context.Context, rate float64, d time.Duration, conns, maxOutstanding int, only []string) (LoadResult, error) {
	res := LoadResult{Duration: d, Clients: conns, Kinds: map[string]Sample{}}
	if rate <= 0 {
		return res, fmt.Errorf("bench: arrival rate %v must be positive", rate)
	}
	op, err := e.loadOp(ctx, conns, only)
	if err != nil {
		return res, err
	}
	record := res.recorder()
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	// Requests in flight when the run ends may finish: they were sent
	// inside it.
	reqCtx := context.WithoutCancel(ctx)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var wg sync.WaitGroup
	outstanding := make(chan struct{}, maxOutstanding)
	for n := 0; ; n++ {
		next := start.Add(time.Duration(n) * interval)
		if wait := time.Until(next); wait > 0 {
			select {
			case <-rctx.Done():
			case <-time.After(wait):
			}
		}
		if rctx.Err() != nil {
			break
		}
		select {
		case outstanding <- struct{}{}:
		default:
			record("saturated", 0, fmt.Errorf("bench: %d requests in flight at %.0f req/s", maxOutstanding, rate))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-outstanding }()
			// Workers stand for the managers in turn; n picks the kind.
			op(reqCtx, n%conns, n/conns, record)
		}()
	}
	wg.Wait()
	res.sum()
	res.ReadsP50, res.ReadsP99 = res.Reads.Quantile(0.5), res.Reads.Quantile(0.99)
	res.ResidentMiB = ResidentMiB()
	return res, nil
}

// recorder returns the function the load's requests report to, safe for
// concurrent use: a latency per success, a count and the first error per
// kind.
func (r *LoadResult) recorder() func(kind string, latency time.Duration, err error) {
	var mu sync.Mutex
	return func(kind string, latency time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		s := r.Kinds[kind]
		if err != nil {
			s.Errors++
			if s.FirstErr == nil {
				s.FirstErr = err
			}
		} else {
			s.Latencies = append(s.Latencies, latency)
			s.Ops++
		}
		r.Kinds[kind] = s
	}
}

// sum fills Total and Reads from the kinds, once the requests are done.
func (r *LoadResult) sum() {
	for _, m := range loadMix {
		s := r.Kinds[m.kind]
		s.Elapsed = r.Duration
		r.Kinds[m.kind] = s
		r.Total += s.Ops
		if m.read {
			r.Reads.Latencies = append(r.Reads.Latencies, s.Latencies...)
			r.Reads.Ops += s.Ops
			r.Reads.Errors += s.Errors
		}
	}
	r.Reads.Elapsed = r.Duration
}

// Errors returns the failed requests of every kind.
func (r LoadResult) Errors() int {
	n := 0
	for _, s := range r.Kinds {
		n += s.Errors
	}
	return n
}

// KindNames returns the request kinds in mix order.
func KindNames() []string {
	var out []string
	for _, m := range loadMix {
		out = append(out, m.kind)
	}
	return out
}

// liveHeap collects garbage and returns the Go heap still reachable, in
// MiB, and the number of goroutines.
func liveHeap() (float64, int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20), runtime.NumGoroutine()
}

// ResidentMiB returns this process's resident memory (VmRSS) in MiB, or 0
// when it cannot be read.
func ResidentMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
