package store_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// withParam returns the URL u with the query parameter k set to v.
func withParam(t *testing.T, u, k, v string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := parsed.Query()
	q.Set(k, v)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

func TestPostgresPoolMaxConns(t *testing.T) {
	u := storetest.NewURL(t, storetest.Postgres)
	ctx := context.Background()

	s, err := store.Open(ctx, u, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.DB.Stats().MaxOpenConnections; got != store.DefaultPoolMaxConns {
		t.Errorf("default pool: %d connections at most, want %d", got, store.DefaultPoolMaxConns)
	}
	s.Close()

	s, err = store.Open(ctx, withParam(t, u, store.PoolMaxConnsParam, "3"), clock.System{})
	if err != nil {
		t.Fatalf("the server must not see %s: %v", store.PoolMaxConnsParam, err)
	}
	if got := s.DB.Stats().MaxOpenConnections; got != 3 {
		t.Errorf("pool_max_conns=3: %d connections at most", got)
	}
	s.Close()

	badURL := "postgres://custos:s3cret@127.0.0.1:5432/x y%zz"
	if s, err := store.Open(ctx, badURL, clock.System{}); err == nil {
		s.Close()
		t.Error("an unparsable URL opened")
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the password", err)
	}

	for _, bad := range []string{"0", "-1", "many", "2.5"} {
		withPassword := strings.Replace(withParam(t, u, store.PoolMaxConnsParam, bad), "://", "://custos:s3cret@", 1)
		s, err := store.Open(ctx, withPassword, clock.System{})
		if err == nil {
			s.Close()
			t.Errorf("pool_max_conns=%s: no error", bad)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, store.PoolMaxConnsParam) || strings.Contains(msg, "s3cret") {
			t.Errorf("pool_max_conns=%s: error %q should name the parameter and not show the password", bad, msg)
		}
	}
}

// TestPostgresPoolDropsConnectionsOfCancelledQueries checks that a
// connection pgx closed because its query was cancelled does not go back
// into the pool: a request that drew such connections failed with
// "driver: bad connection" once database/sql's retries ran out.
func TestPostgresPoolDropsConnectionsOfCancelledQueries(t *testing.T) {
	u := storetest.NewURL(t, storetest.Postgres)
	ctx := context.Background()
	s, err := store.Open(ctx, withParam(t, u, store.PoolMaxConnsParam, "3"), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, errs[i] = s.DB.ExecContext(qctx, "SELECT pg_sleep(30)")
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("query %d: %v, want it cancelled", i, err)
		}
	}
	if st := s.DB.Stats(); st.OpenConnections != 0 || st.Idle != 0 {
		t.Errorf("after three cancelled queries the pool holds %d connections (%d idle), want the closed ones dropped", st.OpenConnections, st.Idle)
	}
	var one int
	if err := s.DB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query after the cancelled ones: %d, %v", one, err)
	}
}
