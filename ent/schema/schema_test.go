package schema_test

import (
	"context"
	"errors"
	"testing"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
)

// TestEveryEntityHasAPolicy loads the schema graph and fails when an entity
// has no privacy policy of its own (one inherited from a mixin is not
// enough: the entity must say who may do what).
func TestEveryEntityHasAPolicy(t *testing.T) {
	graph, err := entc.LoadGraph("github.com/custos-crm/custos/ent/schema", &gen.Config{})
	if err != nil {
		t.Fatalf("loading schema graph: %v", err)
	}
	if len(graph.Nodes) < 6 {
		t.Fatalf("only %d entities loaded", len(graph.Nodes))
	}
	for _, n := range graph.Nodes {
		own := 0
		for _, p := range n.PolicyPositions() {
			if !p.MixedIn {
				own++
			}
		}
		if own == 0 {
			t.Errorf("entity %s has no privacy policy of its own", n.Name)
		}
	}
}

// TestDenyByDefault queries every entity without a viewer, and as a signed-in
// user holding no role in another tenant: nothing may come back.
func TestDenyByDefault(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	other := app.NewTenant(t, "other")
	stranger := app.NewUser(t, other, apptest.UserSpec{Email: "nobody@other.test"})
	c := app.Client()
	queries := map[string]func(context.Context) (int, error){
		"Tenant":     func(ctx context.Context) (int, error) { return c.Tenant.Query().Count(ctx) },
		"Department": func(ctx context.Context) (int, error) { return c.Department.Query().Count(ctx) },
		"User":       func(ctx context.Context) (int, error) { return c.User.Query().Count(ctx) },
		"Role":       func(ctx context.Context) (int, error) { return c.Role.Query().Count(ctx) },
		"RoleGrant":  func(ctx context.Context) (int, error) { return c.RoleGrant.Query().Count(ctx) },
		"Session":    func(ctx context.Context) (int, error) { return c.Session.Query().Count(ctx) },
		"Customer":   func(ctx context.Context) (int, error) { return c.Customer.Query().Count(ctx) },
	}
	for name, q := range queries {
		t.Run(name+" without a viewer", func(t *testing.T) {
			if _, err := q(context.Background()); !errors.Is(err, privacy.Deny) {
				t.Fatalf("want deny, got %v", err)
			}
		})
		t.Run(name+" as a stranger", func(t *testing.T) {
			// A user of "other" holding no role: directory data of their
			// own tenant only, none of their colleagues' grants or
			// sessions, and no business records at all.
			want := map[string]int{"Tenant": 1, "Department": 1, "User": 2, "Role": 3, "RoleGrant": 0, "Session": 0}
			v := &viewer.Viewer{TenantID: other.Tenant.ID, UserID: stranger.ID, Now: app.Clock.Now()}
			n, err := q(viewer.NewContext(context.Background(), v))
			w, readable := want[name]
			switch {
			case !readable && !errors.Is(err, privacy.Deny):
				t.Fatalf("want deny, got %d rows, %v", n, err)
			case readable && (err != nil || n != w):
				t.Fatalf("want %d rows, got %d, %v", w, n, err)
			}
		})
	}
}
