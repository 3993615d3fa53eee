package graph_test

import (
	"encoding/json"
	"entgo.io/ent/dialect/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

func TestMassAssignmentIsRefused(t *testing.T) {
	f := newFixture(t, "sqlite")
	for _, field := range []string{"tenantID", "departmentID", "createdBy", "createdAt", "deletedAt"} {
		t.Run(field, func(t *testing.T) {
			q := fmt.Sprintf(`mutation { createCustomer(input: {name: "x", %s: "ten01M8HMANG84Y22J4A8DCFPY91F"}) { id } }`, field)
			wantError(t, f.app.GraphQL(t, f.tokA, q, nil), "BAD_USER_INPUT")
		})
	}
	t.Run("tenant and creator come from the viewer", func(t *testing.T) {
		c, err := f.app.Client().Customer.Get(f.app.System(""), f.customerA)
		if err != nil {
			t.Fatal(err)
		}
		if c.TenantID != f.a.Tenant.ID || c.CreatedBy != f.a.Admin.ID || c.OwnerID != f.a.Admin.ID {
			t.Fatalf("tenant %s created_by %s owner %s", c.TenantID, c.CreatedBy, c.OwnerID)
		}
	})
}

func TestPagination(t *testing.T) {
	f := newFixture(t, "sqlite")
	for i := range 24 {
		f.app.GraphQL(t, f.tokA, fmt.Sprintf(`mutation { createCustomer(input: {name: "c%02d"}) { id } }`, i), nil).MustSucceed(t)
	}
	t.Run("default page size is 20", func(t *testing.T) {
		var out struct {
			Customers struct {
				Edges    []struct{ Node struct{ Name string } }
				PageInfo struct{ HasNextPage bool }
			}
		}
		f.app.GraphQL(t, f.tokA, `{ customers(orderBy: {field: NAME}) { edges { node { name } } pageInfo { hasNextPage } } }`, nil).MustSucceed(t).Decode(t, &out)
		if len(out.Customers.Edges) != 20 || !out.Customers.PageInfo.HasNextPage {
			t.Fatalf("got %d edges, hasNextPage %v", len(out.Customers.Edges), out.Customers.PageInfo.HasNextPage)
		}
	})
	t.Run("pageInfo alone still answers", func(t *testing.T) {
		var out struct {
			Customers struct{ PageInfo struct{ HasNextPage bool } }
		}
		f.app.GraphQL(t, f.tokA, `{ customers(first: 10) { pageInfo { hasNextPage } } }`, nil).MustSucceed(t).Decode(t, &out)
		if !out.Customers.PageInfo.HasNextPage {
			t.Fatal("hasNextPage false with 25 customers and first 10")
		}
	})
	t.Run("totalCount counts every row", func(t *testing.T) {
		var out struct{ Customers struct{ TotalCount int } }
		f.app.GraphQL(t, f.tokA, `{ customers(first: 1) { totalCount } }`, nil).MustSucceed(t).Decode(t, &out)
		if out.Customers.TotalCount != 25 {
			t.Fatalf("totalCount %d", out.Customers.TotalCount)
		}
	})
	for _, arg := range []string{"first", "last"} {
		t.Run(arg+" above 100", func(t *testing.T) {
			r := f.app.GraphQL(t, f.tokA, fmt.Sprintf(`{ customers(%s: 101) { totalCount } }`, arg), nil)
			wantError(t, r, "BAD_USER_INPUT", "/customers/"+arg)
		})
	}
	t.Run("page size is checked before cost", func(t *testing.T) {
		q := `{ departments(first: 500) { edges { node { members(first: 100) { edges { node { grants { role { name } } } } } } } } }`
		wantError(t, f.app.GraphQL(t, f.tokA, q, nil), "BAD_USER_INPUT", "/departments/first")
	})
	t.Run("cost limit", func(t *testing.T) {
		q := `{ departments(first: 100) { edges { node { members(first: 100) { edges { node { department { members(first: 100) { totalCount } } } } } } } } }`
		wantError(t, f.app.GraphQL(t, f.tokA, q, nil), "LIMIT_EXCEEDED")
	})
	t.Run("depth limit", func(t *testing.T) {
		q := `{ viewer { user { department { parent { parent { parent { parent { parent { parent { parent { parent { parent { name } } } } } } } } } } } } }`
		wantError(t, f.app.GraphQL(t, f.tokA, q, nil), "LIMIT_EXCEEDED")
	})
	t.Run("introspection is off", func(t *testing.T) {
		r := f.app.GraphQL(t, f.tokA, `{ __schema { types { name } } }`, nil)
		if len(r.Errors) == 0 {
			t.Fatalf("introspection answered: %.200s", r.Raw)
		}
	})
}

func TestErrorMasking(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		if _, err := f.app.Store.DB.Exec(`ALTER TABLE customers RENAME TO customers_moved`); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = f.app.Store.DB.Exec(`ALTER TABLE customers_moved RENAME TO customers`) })
		r := f.app.GraphQL(t, f.tokA, `{ customers { edges { node { name } } } }`, nil)
		wantError(t, r, "INTERNAL")
		ext, _ := json.Marshal(r.Errors[0].Extensions)
		body := strings.ToLower(r.Errors[0].Message + string(ext))
		for _, leak := range []string{"customers", "select", "sql", "table", "relation", "ent:", "goroutine"} {
			if strings.Contains(body, leak) {
				t.Errorf("response leaks %q: %s", leak, r.Raw)
			}
		}
		if len(r.Errors[0].Extensions) != 2 {
			t.Errorf("INTERNAL carries more than code and requestId: %v", r.Errors[0].Extensions)
		}
		id := r.Errors[0].Extensions["requestId"].(string)
		if !strings.Contains(f.app.Logs.String(), id) {
			t.Errorf("the log has no line for request %s", id)
		}
	})
}

func TestMessagesFollowTheLocale(t *testing.T) {
	f := newFixture(t, "sqlite")
	q := `mutation { createCustomer(input: {name: ""}) { id } }`
	r := f.app.GraphQL(t, f.tokA, q, nil)
	wantError(t, r, "BAD_USER_INPUT", "/input/name")
	if r.Errors[0].Message != "部分输入无效。" {
		t.Fatalf("tenant default zh-CN: %q", r.Errors[0].Message)
	}
	f.app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateUser(id: $id, input: {locale: "en"}) { id } }`,
		map[string]any{"id": f.a.Admin.ID}).MustSucceed(t)
	r = f.app.GraphQL(t, f.tokA, q, nil)
	items := r.Errors[0].Extensions["errors"].([]any)
	if r.Errors[0].Message != "Some of the input is not valid." || items[0].(map[string]any)["message"] != "must not be empty" {
		t.Fatalf("user locale en: %s", r.Raw)
	}
	t.Run("anonymous requests follow Accept-Language", func(t *testing.T) {
		h := http.Header{"Accept-Language": {"en-GB,en;q=0.9"}}
		resp, body := f.app.Post(t, "/graphql", map[string]any{"query": "{ viewer { user { id } } }"}, h)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "Sign-in is required") {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestAdministration(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		app, a := f.app, f.a
		salesTok := app.Login(t, "alpha", "sales@alpha.test")

		t.Run("settings", func(t *testing.T) {
			r := app.GraphQL(t, f.tokA, `mutation { updateTenantSettings(input: {timeZone: "Mars/Olympus", locale: "fr"}) { id } }`, nil)
			wantError(t, r, "BAD_USER_INPUT", "/input/timeZone", "/input/locale")
			var out struct {
				UpdateTenantSettings struct {
					Settings struct{ TimeZone, Locale string }
				}
			}
			app.GraphQL(t, f.tokA, `mutation { updateTenantSettings(input: {timeZone: "Europe/Berlin"}) { settings { timeZone locale } } }`, nil).MustSucceed(t).Decode(t, &out)
			if out.UpdateTenantSettings.Settings.TimeZone != "Europe/Berlin" || out.UpdateTenantSettings.Settings.Locale != "zh-CN" {
				t.Fatalf("settings %+v", out)
			}
			wantError(t, app.GraphQL(t, salesTok, `mutation { updateTenantSettings(input: {locale: "en"}) { id } }`, nil), "FORBIDDEN")
		})

		t.Run("create a user who signs in", func(t *testing.T) {
			vars := map[string]any{"d": a.Department.ID, "r": a.Role(tenancy.RoleManager).ID}
			q := `mutation($d: ID!, $r: ID!, $pw: String!, $email: String!) { createUser(input: {email: $email, name: "Neu", password: $pw, departmentID: $d, roleIDs: [$r]}) { id email roles { name } } }`
			vars["pw"], vars["email"] = "short", "bad"
			wantError(t, app.GraphQL(t, f.tokA, q, vars), "BAD_USER_INPUT", "/input/password", "/input/email")
			vars["pw"], vars["email"] = apptest.Password, "Neu@Alpha.test "
			r := app.GraphQL(t, f.tokA, q, vars).MustSucceed(t)
			if !strings.Contains(string(r.Data), `"Manager"`) {
				t.Fatalf("roles not granted: %s", r.Data)
			}
			vars["email"] = "neu@alpha.TEST"
			wantError(t, app.GraphQL(t, f.tokA, q, vars), "BAD_USER_INPUT", "/input/email")
			tok := app.Login(t, "alpha", "NEU@alpha.test")
			var v struct {
				Viewer struct {
					Permissions []struct{ Permission, Scope string }
				}
			}
			app.GraphQL(t, tok, `{ viewer { permissions { permission scope } } }`, nil).MustSucceed(t).Decode(t, &v)
			if len(v.Viewer.Permissions) != 12 || v.Viewer.Permissions[0].Scope != "department_tree" { // customer, ticket and project: read, create, update, delete
				t.Fatalf("permissions %+v", v.Viewer.Permissions)
			}
			wantError(t, app.GraphQL(t, salesTok, q, vars), "FORBIDDEN")
		})

		t.Run("a failed createUser leaves nothing behind", func(t *testing.T) {
			q := `mutation($d: ID!, $r: ID!) { createUser(input: {email: "half@alpha.test", name: "Half", password: "long enough pw", departmentID: $d, roleIDs: [$r]}) { id } }`
			r := app.GraphQL(t, f.tokA, q, map[string]any{"d": a.Department.ID, "r": f.b.Role(tenancy.RoleAdmin).ID})
			wantError(t, r, "BAD_USER_INPUT", "/input/roleIDs/0")
			if _, err := app.Client().User.Query().Where(emailIs("half@alpha.test")).Only(app.System(a.Tenant.ID)); !ent.IsNotFound(err) {
				t.Fatalf("half-created user exists: %v", err)
			}
		})

		t.Run("disabling a user ends their sessions", func(t *testing.T) {
			u := app.NewUser(t, a, apptest.UserSpec{Email: "leaver@alpha.test", Roles: []*ent.Role{a.Role(tenancy.RoleSales)}})
			tok := app.Login(t, "alpha", "leaver@alpha.test")
			app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil).MustSucceed(t)
			app.GraphQL(t, f.tokA, `mutation($id: ID!) { disableUser(id: $id) { status } }`, map[string]any{"id": u.ID}).MustSucceed(t)
			if r := app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("disabled user's token still works: %d %s", r.Status, r.Raw)
			}
			resp, _ := app.Post(t, "/auth/login", map[string]string{"tenant": "alpha", "email": "leaver@alpha.test", "password": apptest.Password}, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("disabled user signed in: %d", resp.StatusCode)
			}
		})

		t.Run("built-in roles are read-only", func(t *testing.T) {
			r := app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateRole(id: $id, input: {scope: all}) { id } }`, map[string]any{"id": a.Role(tenancy.RoleSales).ID})
			wantError(t, r, "BAD_USER_INPUT")
			r = app.GraphQL(t, f.tokA, `mutation { createRole(input: {name: "auditor", permissions: ["audit:read", "customer:fly"], scope: all}) { id } }`, nil)
			wantError(t, r, "BAD_USER_INPUT", "/input/permissions/1")
			app.GraphQL(t, f.tokA, `mutation { createRole(input: {name: "auditor", permissions: ["audit:read"], scope: all}) { id } }`, nil).MustSucceed(t)
			wantError(t, app.GraphQL(t, salesTok, `mutation { createRole(input: {name: "x", permissions: []}) { id } }`, nil), "FORBIDDEN")
		})

		t.Run("appended permissions are checked and kept", func(t *testing.T) {
			var c struct{ CreateRole struct{ ID pulid.ID } }
			app.GraphQL(t, f.tokA, `mutation { createRole(input: {name: "reader", permissions: ["customer:read"], scope: self}) { id } }`, nil).MustSucceed(t).Decode(t, &c)
			r := app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateRole(id: $id, input: {appendPermissions: ["customer:update", "no:such"]}) { id } }`, map[string]any{"id": c.CreateRole.ID})
			wantError(t, r, "BAD_USER_INPUT", "/input/appendPermissions/1")
			var out struct {
				UpdateRole struct{ Permissions []string }
			}
			app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateRole(id: $id, input: {appendPermissions: ["customer:update", "customer:read"]}) { permissions } }`,
				map[string]any{"id": c.CreateRole.ID}).MustSucceed(t).Decode(t, &out)
			if got := strings.Join(out.UpdateRole.Permissions, ","); got != "customer:read,customer:update" {
				t.Fatalf("permissions after the append: %s", got)
			}
		})

		t.Run("departments cannot form a cycle", func(t *testing.T) {
			var out struct {
				CreateDepartment struct{ ID pulid.ID } `json:"createDepartment"`
			}
			app.GraphQL(t, f.tokA, `mutation($p: ID!) { createDepartment(input: {name: "child", parentID: $p}) { id } }`, map[string]any{"p": a.Department.ID}).MustSucceed(t).Decode(t, &out)
			r := app.GraphQL(t, f.tokA, `mutation($id: ID!, $p: ID!) { updateDepartment(id: $id, input: {parentID: $p}) { id } }`,
				map[string]any{"id": a.Department.ID, "p": out.CreateDepartment.ID})
			wantError(t, r, "BAD_USER_INPUT", "/input/parentID")
		})

		t.Run("sales users cannot manage people", func(t *testing.T) {
			wantError(t, app.GraphQL(t, salesTok, `mutation($id: ID!) { updateUser(id: $id, input: {name: "x"}) { id } }`, map[string]any{"id": a.Admin.ID}), "FORBIDDEN")
			wantError(t, app.GraphQL(t, salesTok, `mutation($id: ID!) { disableUser(id: $id) { id } }`, map[string]any{"id": a.Admin.ID}), "FORBIDDEN")
		})
	})
}

func emailIs(email string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(sql.EQ(s.C("email"), email)) }
}
