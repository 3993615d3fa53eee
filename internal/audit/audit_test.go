package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/store/storetest"
)

func TestConcurrentWritersKeepOneChain(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		ctx := app.System(tn.Tenant.ID)
		const writers, each = 50, 3
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := app.TryTx(ctx, func(c *ent.Client) error {
						_, err := c.Customer.Create().SetName(fmt.Sprintf("w%d-%d", w, i)).Save(ctx)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		n, problem, err := audit.Verify(context.Background(), app.Store.DB, string(tn.Tenant.ID))
		if err != nil || problem != nil {
			t.Fatalf("chain: %v %v", problem, err)
		}
		var events int
		if err := app.Store.DB.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE tenant_id = $1`, string(tn.Tenant.ID)).Scan(&events); err != nil {
			t.Fatal(err)
		}
		if n != events || events < writers*each {
			t.Fatalf("verified %d of %d events", n, events)
		}
	})
}

// TestOpenTransactionDoesNotBlockOthers holds one audited transaction open
// while another commits: the chain lock is taken at commit only.
func TestOpenTransactionDoesNotBlockOthers(t *testing.T) {
	app := apptest.New(t, storetest.Postgres)
	tn := app.NewTenant(t, "acme")
	ctx := app.System(tn.Tenant.ID)
	slow, err := app.Client().Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Client().Customer.Create().SetName("slow").Save(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- app.TryTx(ctx, func(c *ent.Client) error {
			_, err := c.Customer.Create().SetName("fast").Save(ctx)
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second writer waited for an open transaction")
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, problem, err := audit.Verify(context.Background(), app.Store.DB, string(tn.Tenant.ID)); err != nil || problem != nil {
		t.Fatalf("chain: %v %v", problem, err)
	}
}

func TestVerifyFindsRemovedAndReorderedEvents(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		tid := string(tn.Tenant.ID)
		verify := func() *audit.Problem {
			_, p, err := audit.Verify(context.Background(), app.Store.DB, tid)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if p := verify(); p != nil {
			t.Fatalf("fresh chain: %v", p)
		}
		exec := func(q string, args ...any) {
			if _, err := app.Store.DB.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		var last int64
		if err := app.Store.DB.QueryRow(`SELECT MAX(seq) FROM audit_events WHERE tenant_id = $1`, tid).Scan(&last); err != nil {
			t.Fatal(err)
		}
		exec(`DELETE FROM audit_events WHERE tenant_id = $1 AND seq = $2`, tid, last)
		if p := verify(); p == nil {
			t.Fatal("removing the last event went unnoticed")
		}
		exec(`DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 2`, tid)
		if p := verify(); p == nil || p.Seq != 3 {
			t.Fatalf("removing event 2: %+v", p)
		}
	})
}
