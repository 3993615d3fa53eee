package bench_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/bench"
)

// TestStatementShapes checks, on a small seeded tenant, the statements two
// hot requests send to PostgreSQL: the shapes the benchmarks found costly
// must not come back.
func TestStatementShapes(t *testing.T) {
	env := openSmallTenant(t)
	ctx := context.Background()
	counted, err := env.Counted(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer counted.Close()
	client := bench.HTTPClient(1)
	token, err := env.Login(ctx, client, env.Manager())
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, query string, vars map[string]any) []string {
		t.Helper()
		stmts, err := counted.Statements(ctx, client, token, query, vars)
		if err != nil {
			t.Fatal(err)
		}
		return stmts
	}
	counts := func(stmts []string) int {
		n := 0
		for _, s := range stmts {
			if strings.Contains(strings.ToUpper(s), "COUNT(") {
				n++
			}
		}
		return n
	}

	t.Run("L1's audit switch finds the audit hook", func(t *testing.T) {
		// L1 switches the hook off and on and checks that exactly the
		// "on" update wrote an event.
		if _, _, err := env.L1(ctx, 1); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a list counts only when totalCount is selected", func(t *testing.T) {
		page := `{ customers(first: 10) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`
		if stmts := run(t, page, nil); counts(stmts) != 0 {
			t.Errorf("pageInfo alone ran a count:\n%s", strings.Join(stmts, "\n"))
		}
		total := `{ customers(first: 10) { edges { node { id } } totalCount } }`
		if stmts := run(t, total, nil); counts(stmts) != 1 {
			t.Errorf("totalCount ran %d counts, want 1:\n%s", counts(stmts), strings.Join(stmts, "\n"))
		}
	})

	t.Run("a personal field loads its own ciphertext, not the whole row", func(t *testing.T) {
		stmts := run(t, `{ customers(first: 10) { edges { node { id name mobile customFields } } } }`, nil)
		var lists int
		for _, s := range stmts {
			if !strings.HasPrefix(strings.ToUpper(s), "SELECT") || !strings.Contains(s, `FROM "customers"`) {
				continue
			}
			lists++
			cols := s[:strings.Index(s, `FROM "customers"`)]
			for _, want := range []string{`"mobile"`, `"data_key"`, `"tenant_id"`, `"custom_fields"`, `"custom_form_version_id"`} {
				if !strings.Contains(cols, want) {
					t.Errorf("the page does not load %s: %s", want, s)
				}
			}
			for _, other := range []string{`"notes"`, `"address"`, `"email"`, `"mobile_bidx"`, `"name_tokens"`} {
				if strings.Contains(cols, other) {
					t.Errorf("the page loads %s, which no selected field reads: %s", other, s)
				}
			}
		}
		if lists != 1 {
			t.Errorf("%d statements listed customers, want 1:\n%s", lists, strings.Join(stmts, "\n"))
		}
	})

	t.Run("quick search by phone uses only the blind indexes", func(t *testing.T) {
		stmts := run(t, `query($q: String!) { search(query: $q) { customers { id } contacts { id } } }`, map[string]any{"q": "13812345678"})
		var searches int
		for _, s := range stmts {
			upper := strings.ToUpper(s)
			if strings.Contains(where(upper), "LIKE") {
				t.Errorf("a phone search matched names: %s", s)
			}
			if strings.Contains(where(s), "mobile_bidx") {
				searches++
			}
		}
		if searches != 2 {
			t.Errorf("%d statements looked up mobile_bidx, want 2 (customers, contacts):\n%s", searches, strings.Join(stmts, "\n"))
		}
	})

	t.Run("quick search by a name fragment uses the name tokens", func(t *testing.T) {
		stmts := run(t, `query($q: String!) { search(query: $q) { customers { id } contacts { id } } }`, map[string]any{"q": "科技"})
		var likes int
		for _, s := range stmts {
			if strings.Contains(strings.ToUpper(where(s)), "LIKE") {
				likes++
				if strings.Contains(where(s), "_bidx") {
					t.Errorf("a name search also looked up blind indexes: %s", s)
				}
				if !strings.Contains(where(s), `"name_tokens" @>`) {
					t.Errorf("a name search does not narrow by the name tokens' index: %s", s)
				}
			}
		}
		if likes != 2 {
			t.Errorf("%d statements matched names, want 2:\n%s", likes, strings.Join(stmts, "\n"))
		}
	})
}

// openSmallTenant serves the application on the 200-customer bench tenant
// (seeded on first use on the local PostgreSQL), closed when t ends; it
// skips t without CUSTOS_TEST_DATABASE_URL, as the bench needs PostgreSQL.
func openSmallTenant(t *testing.T) *bench.Env {
	t.Helper()
	if os.Getenv("CUSTOS_TEST_DATABASE_URL") == "" {
		t.Skip("CUSTOS_TEST_DATABASE_URL is not set: the bench environment needs PostgreSQL")
	}
	env, err := bench.Open(context.Background(), bench.Config{Customers: 200, ContactsPerCustomer: 1, FollowUpsPerCustomer: 1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	return env
}

// where returns the part of statement s after its first WHERE: the
// selected columns name every blind index.
func where(s string) string {
	if i := strings.Index(strings.ToUpper(s), " WHERE "); i >= 0 {
		return s[i:]
	}
	return ""
}
