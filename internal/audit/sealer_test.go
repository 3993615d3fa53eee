package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// chainState is what the tests read about a tenant's events.
type chainState struct {
	events, unsealed, distinctSeqs int
	maxSeq, headSeq                int64
}

func readChain(t *testing.T, db *sql.DB, tenantID string) chainState {
	t.Helper()
	var s chainState
	err := db.QueryRow(`SELECT COUNT(*), COUNT(*) - COUNT(seq), COUNT(DISTINCT seq), COALESCE(MAX(seq), 0) FROM audit_events WHERE tenant_id = $1`, tenantID).
		Scan(&s.events, &s.unsealed, &s.distinctSeqs, &s.maxSeq)
	if err != nil {
		t.Fatal(err)
	}
	err = db.QueryRow(`SELECT seq FROM audit_chains WHERE tenant_id = $1`, tenantID).Scan(&s.headSeq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatal(err)
	}
	return s
}

func mustVerify(t *testing.T, db *sql.DB, tenantID string) int {
	t.Helper()
	n, problem, err := audit.Verify(context.Background(), db, tenantID)
	if err != nil || problem != nil {
		t.Fatalf("chain: %v %v", problem, err)
	}
	return n
}

// TestSixteenWritersInOneTenant has 16 writers update customers of one
// tenant at once while a verifier runs beside them: no writer fails, the
// verifier never reports a problem for events merely waiting to be
// linked, and after SealPending every event has its own position and the
// chain verifies.
func TestSixteenWritersInOneTenant(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		// No background jobs: the sealer does not run, so what the
		// writers leave is left for SealPending.
		app := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		tn := app.NewTenant(t, "acme")
		ctx := app.System(tn.Tenant.ID)
		tid := string(tn.Tenant.ID)
		const writers, each = 16, 12
		ids := make([]pulid.ID, writers)
		app.Tx(t, ctx, func(c *ent.Client) error {
			for w := range writers {
				cu, err := c.Customer.Create().SetName(fmt.Sprintf("customer %d", w)).Save(ctx)
				if err != nil {
					return err
				}
				ids[w] = cu.ID
			}
			return nil
		})
		stop := make(chan struct{})
		verified := make(chan error, 1)
		go func() {
			var err error
			defer func() { verified <- err }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var problem *audit.Problem
				if _, problem, err = audit.Verify(context.Background(), app.Store.DB, tid); err != nil {
					return
				}
				if problem != nil {
					err = problem
					return
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					err := app.TryTx(ctx, func(tc *ent.Client) error {
						return tc.Customer.UpdateOneID(ids[w]).SetName(fmt.Sprintf("customer %d, version %d", w, i)).Exec(ctx)
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if err := <-verified; err != nil {
			t.Fatalf("verifying beside the writers: %v", err)
		}
		before := readChain(t, app.Store.DB, tid)
		t.Logf("%s: %d events, %d left unsealed by their commits", dialect, before.events, before.unsealed)
		if _, err := audit.SealPending(context.Background(), app.Store.DB); err != nil {
			t.Fatal(err)
		}
		after := readChain(t, app.Store.DB, tid)
		if after.unsealed != 0 || after.distinctSeqs != after.events || after.maxSeq != int64(after.events) || after.headSeq != after.maxSeq {
			t.Fatalf("after SealPending: %+v", after)
		}
		if after.events < writers*(each+1) {
			t.Fatalf("%d events, want at least %d", after.events, writers*(each+1))
		}
		if n := mustVerify(t, app.Store.DB, tid); n != after.events {
			t.Fatalf("verified %d of %d events", n, after.events)
		}
	})
}

// holdHead locks the chain head of tenantID in a transaction of its own,
// as a committing writer or the sealer would, until release is called.
func holdHead(t *testing.T, db *sql.DB, tenantID string) (release func()) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := tx.QueryRow(`SELECT seq FROM audit_chains WHERE tenant_id = $1 FOR UPDATE`, tenantID).Scan(&seq); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// TestLockedHeadDoesNotDelayCommit commits an audited change while another
// transaction holds the tenant's chain head: the commit goes through at
// once with its event unsealed, and a verify once the head is free links
// it and passes.
func TestLockedHeadDoesNotDelayCommit(t *testing.T) {
	app := apptest.NewWith(t, storetest.Postgres, apptest.Options{NoJobs: true})
	tn := app.NewTenant(t, "acme")
	ctx := app.System(tn.Tenant.ID)
	tid := string(tn.Tenant.ID)
	mustVerify(t, app.Store.DB, tid)
	before := readChain(t, app.Store.DB, tid)

	release := holdHead(t, app.Store.DB, tid)
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	err := app.TryTx(wctx, func(c *ent.Client) error {
		_, err := c.Customer.Create().SetName("written while the head is held").Save(wctx)
		return err
	})
	if err != nil {
		t.Fatalf("a commit waited for the held chain head: %v", err)
	}
	t.Logf("committed in %v with the head held", time.Since(start))
	held := readChain(t, app.Store.DB, tid)
	if held.unsealed == 0 || held.events <= before.events || held.headSeq != before.headSeq {
		t.Fatalf("with the head held: before %+v, after %+v", before, held)
	}
	release()

	if n := mustVerify(t, app.Store.DB, tid); n != held.events {
		t.Fatalf("verified %d of %d events", n, held.events)
	}
	if after := readChain(t, app.Store.DB, tid); after.unsealed != 0 || after.headSeq != int64(after.events) {
		t.Fatalf("after verify: %+v", after)
	}
}

// TestSealerLinksDeferredEvents checks the running server's sealer: an
// event left unsealed behind a held head is linked once the head is free,
// without anyone calling SealPending.
func TestSealerLinksDeferredEvents(t *testing.T) {
	app := apptest.New(t, storetest.Postgres)
	tn := app.NewTenant(t, "acme")
	ctx := app.System(tn.Tenant.ID)
	tid := string(tn.Tenant.ID)
	mustVerify(t, app.Store.DB, tid)

	release := holdHead(t, app.Store.DB, tid)
	app.Tx(t, ctx, func(c *ent.Client) error {
		_, err := c.Customer.Create().SetName("deferred").Save(ctx)
		return err
	})
	if s := readChain(t, app.Store.DB, tid); s.unsealed == 0 {
		t.Fatalf("the event was sealed past a held head: %+v", s)
	}
	release()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := readChain(t, app.Store.DB, tid)
		if s.unsealed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sealer left events unsealed: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustVerify(t, app.Store.DB, tid)
}

var errRollback = errors.New("rolled back on purpose")

// TestRolledBackTransactionLeavesNothing checks that an audited change
// that rolls back leaves no event and does not move the head.
func TestRolledBackTransactionLeavesNothing(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		tn := app.NewTenant(t, "acme")
		ctx := app.System(tn.Tenant.ID)
		tid := string(tn.Tenant.ID)
		mustVerify(t, app.Store.DB, tid)
		before := readChain(t, app.Store.DB, tid)
		err := app.TryTx(ctx, func(c *ent.Client) error {
			if _, err := c.Customer.Create().SetName("never was").Save(ctx); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if n, err := audit.SealPending(context.Background(), app.Store.DB); err != nil || n != 0 {
			t.Fatalf("SealPending after a rollback linked %d events, %v", n, err)
		}
		if after := readChain(t, app.Store.DB, tid); after != before {
			t.Fatalf("a rolled-back change left %+v, before %+v", after, before)
		}
		mustVerify(t, app.Store.DB, tid)
	})
}

// TestVerifyFindsTampering changes a sealed event and clears an event's
// position: linking pending events first must not hide either.
func TestVerifyFindsTampering(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		tn := app.NewTenant(t, "acme")
		ctx := app.System(tn.Tenant.ID)
		tid := string(tn.Tenant.ID)
		for i := range 3 {
			app.Tx(t, ctx, func(c *ent.Client) error {
				_, err := c.Customer.Create().SetName(fmt.Sprintf("c%d", i)).Save(ctx)
				return err
			})
		}
		mustVerify(t, app.Store.DB, tid)
		db := app.Store.DB
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		verify := func() *audit.Problem {
			t.Helper()
			_, p, err := audit.Verify(context.Background(), db, tid)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}

		var id, action string
		if err := db.QueryRow(`SELECT id, action FROM audit_events WHERE tenant_id = $1 AND seq = 2`, tid).Scan(&id, &action); err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE audit_events SET action = 'read' WHERE id = $1`, id)
		if p := verify(); p == nil || p.EventID != id || p.Seq != 2 {
			t.Fatalf("a changed event: %+v", p)
		}
		exec(`UPDATE audit_events SET action = $1 WHERE id = $2`, action, id)
		mustVerify(t, db, tid)

		// An event taken out of the chain is linked again at its end by
		// the verify, and the gap it left is reported.
		exec(`UPDATE audit_events SET seq = NULL WHERE id = $1`, id)
		if p := verify(); p == nil || p.Seq != 3 {
			t.Fatalf("an event taken out of the chain: %+v", p)
		}
	})
}
