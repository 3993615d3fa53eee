package graph_test

import (
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// wantError checks that r failed with code and, when given, these pointers.
func wantError(t *testing.T, r apptest.Result, code string, pointers ...string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("want %s, got success: %s", code, r.Raw)
	}
	e := r.Errors[0]
	if e.Code() != code {
		t.Fatalf("want %s, got %s: %s", code, e.Code(), r.Raw)
	}
	if id, _ := e.Extensions["requestId"].(string); id == "" {
		t.Fatalf("error without requestId: %s", r.Raw)
	}
	got := e.Pointers()
	for _, p := range pointers {
		found := false
		for _, g := range got {
			found = found || g == p
		}
		if !found {
			t.Fatalf("want pointer %s, got %v: %s", p, got, r.Raw)
		}
	}
}

type fixture struct {
	app        *apptest.App
	a, b       *apptest.Tenant
	tokA, tokB string
	customerA  pulid.ID
	salesA     pulid.ID
}

func newFixture(t *testing.T, dialect string) *fixture {
	app := apptest.New(t, dialect)
	f := &fixture{app: app, a: app.NewTenant(t, "alpha"), b: app.NewTenant(t, "beta")}
	f.tokA = app.Login(t, "alpha", "admin@alpha.test")
	f.tokB = app.Login(t, "beta", "admin@beta.test")
	f.salesA = app.NewUser(t, f.a, apptest.UserSpec{Email: "sales@alpha.test", Roles: []*ent.Role{f.a.Role(tenancy.RoleSales)}}).ID
	var out struct {
		CreateCustomer struct{ ID pulid.ID } `json:"createCustomer"`
	}
	app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "Alpha Customer"}) { id } }`, nil).MustSucceed(t).Decode(t, &out)
	f.customerA = out.CreateCustomer.ID
	return f
}

func TestTenantIsolation(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		a := f.a
		var grantA pulid.ID
		{
			var out struct {
				GrantRole struct{ ID pulid.ID } `json:"grantRole"`
			}
			f.app.GraphQL(t, f.tokA, `mutation($u: ID!, $r: ID!) { grantRole(input: {userID: $u, roleID: $r}) { id } }`,
				map[string]any{"u": f.salesA, "r": a.Role(tenancy.RoleManager).ID}).MustSucceed(t).Decode(t, &out)
			grantA = out.GrantRole.ID
		}
		ids := map[string]any{
			"customer": f.customerA, "user": a.Admin.ID, "dept": a.Department.ID,
			"role": a.Role(tenancy.RoleAdmin).ID, "grant": grantA, "tenant": a.Tenant.ID,
		}
		for name, id := range ids {
			t.Run("node "+name, func(t *testing.T) {
				r := f.app.GraphQL(t, f.tokB, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
				wantError(t, r, "NOT_FOUND")
				if strings.Contains(string(r.Data), string(id.(pulid.ID))) {
					t.Fatalf("foreign node leaked: %s", r.Raw)
				}
			})
		}
		t.Run("nodes", func(t *testing.T) {
			r := f.app.GraphQL(t, f.tokB, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
				map[string]any{"ids": []any{f.customerA, a.Admin.ID}})
			if strings.Contains(string(r.Raw), string(f.customerA)) || strings.Contains(string(r.Raw), string(a.Admin.ID)) {
				t.Fatalf("foreign nodes leaked: %s", r.Raw)
			}
		})
		t.Run("lists", func(t *testing.T) {
			r := f.app.GraphQL(t, f.tokB, `{ customers { totalCount } users { edges { node { email } } } roles { totalCount } departments { edges { node { name members { totalCount } } } } }`, nil).MustSucceed(t)
			if strings.Contains(string(r.Data), "alpha") {
				t.Fatalf("alpha data in beta's lists: %s", r.Data)
			}
			var out struct {
				Customers struct{ TotalCount int } `json:"customers"`
				Roles     struct{ TotalCount int } `json:"roles"`
			}
			r.Decode(t, &out)
			if out.Customers.TotalCount != 0 || out.Roles.TotalCount != 3 {
				t.Fatalf("beta sees %d customers and %d roles", out.Customers.TotalCount, out.Roles.TotalCount)
			}
		})
		mutations := []struct {
			name, query string
			vars        map[string]any
			code        string
			pointer     string
		}{
			{"updateCustomer", `mutation($id: ID!) { updateCustomer(id: $id, input: {name: "x"}) { id } }`, map[string]any{"id": f.customerA}, "NOT_FOUND", ""},
			{"deleteCustomer", `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": f.customerA}, "NOT_FOUND", ""},
			{"updateUser", `mutation($id: ID!) { updateUser(id: $id, input: {name: "x"}) { id } }`, map[string]any{"id": a.Admin.ID}, "NOT_FOUND", ""},
			{"disableUser", `mutation($id: ID!) { disableUser(id: $id) { id } }`, map[string]any{"id": a.Admin.ID}, "NOT_FOUND", ""},
			{"updateDepartment", `mutation($id: ID!) { updateDepartment(id: $id, input: {name: "x"}) { id } }`, map[string]any{"id": a.Department.ID}, "NOT_FOUND", ""},
			{"updateRole", `mutation($id: ID!) { updateRole(id: $id, input: {name: "x"}) { id } }`, map[string]any{"id": a.Role(tenancy.RoleSales).ID}, "NOT_FOUND", ""},
			{"revokeRole", `mutation($id: ID!) { revokeRole(id: $id) }`, map[string]any{"id": grantA}, "NOT_FOUND", ""},
			{"createCustomer with a foreign owner", `mutation($o: ID!) { createCustomer(input: {name: "x", ownerID: $o}) { id } }`, map[string]any{"o": a.Admin.ID}, "BAD_USER_INPUT", "/input/ownerID"},
			{"grantRole of a foreign role", `mutation($u: ID!, $r: ID!) { grantRole(input: {userID: $u, roleID: $r}) { id } }`, map[string]any{"u": f.b.Admin.ID, "r": a.Role(tenancy.RoleAdmin).ID}, "BAD_USER_INPUT", "/input/roleID"},
			{"grantRole to a foreign user", `mutation($u: ID!, $r: ID!) { grantRole(input: {userID: $u, roleID: $r}) { id } }`, map[string]any{"u": a.Admin.ID, "r": f.b.Role(tenancy.RoleAdmin).ID}, "BAD_USER_INPUT", "/input/userID"},
			{"createDepartment under a foreign parent", `mutation($p: ID!) { createDepartment(input: {name: "x", parentID: $p}) { id } }`, map[string]any{"p": a.Department.ID}, "BAD_USER_INPUT", "/input/parentID"},
			{"createUser in a foreign department", `mutation($d: ID!) { createUser(input: {email: "n@beta.test", name: "n", password: "long enough pw", departmentID: $d}) { id } }`, map[string]any{"d": a.Department.ID}, "BAD_USER_INPUT", "/input/departmentID"},
		}
		for _, m := range mutations {
			t.Run(m.name, func(t *testing.T) {
				r := f.app.GraphQL(t, f.tokB, m.query, m.vars)
				if m.pointer != "" {
					wantError(t, r, m.code, m.pointer)
				} else {
					wantError(t, r, m.code)
				}
			})
		}
		// Nothing of alpha's changed.
		var check struct {
			Node struct{ Name string } `json:"node"`
		}
		f.app.GraphQL(t, f.tokA, `query($id: ID!) { node(id: $id) { ... on Customer { name } } }`, map[string]any{"id": f.customerA}).MustSucceed(t).Decode(t, &check)
		if check.Node.Name != "Alpha Customer" {
			t.Fatalf("alpha's customer changed: %+v", check)
		}
	})
}
