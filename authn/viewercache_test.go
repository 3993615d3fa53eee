package authn_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	entsession "github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// countingDriver counts the SQL statements run through it, in transactions
// too.
type countingDriver struct {
	dialect.Driver
	n atomic.Int64
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

func (d *countingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, n: &d.n}, nil
}

// ExecContext and QueryContext serve the SQL below the ent layer (the
// audit sealer).
func (d *countingDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.n.Add(1)
	return d.Driver.(execQuerier).ExecContext(ctx, query, args...)
}

func (d *countingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.n.Add(1)
	return d.Driver.(execQuerier).QueryContext(ctx, query, args...)
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (t *countingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.n.Add(1)
	return t.Tx.(execQuerier).ExecContext(ctx, query, args...)
}

func (t *countingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.n.Add(1)
	return t.Tx.(execQuerier).QueryContext(ctx, query, args...)
}

// SQLTx returns the database/sql transaction, for the job queue.
func (t *countingTx) SQLTx() (*sql.Tx, bool) {
	etx, ok := t.Tx.(*entsql.Tx)
	if !ok {
		return nil, false
	}
	stx, ok := etx.Tx.(*sql.Tx)
	return stx, ok
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, query, args, v)
}

// viewerRig is an authn.Service of its own on the app's database, behind a
// statement counter, answering every authenticated request with the
// request's viewer. The handler then scribbles on that viewer, which must
// not reach any other request.
type viewerRig struct {
	app    *apptest.App
	tn     *apptest.Tenant
	client *ent.Client
	stmts  *countingDriver
	svc    *authn.Service
	srv    *httptest.Server

	lead, report *ent.User
	role         *ent.Role
	token        string
}

func newViewerRig(t *testing.T, dialectName string, ttl time.Duration) *viewerRig {
	t.Helper()
	app := apptest.New(t, dialectName)
	rg := &viewerRig{app: app, tn: app.NewTenant(t, "acme")}
	rg.stmts = &countingDriver{Driver: entsql.OpenDB(app.Store.Dialect, app.Store.DB)}
	rg.client = ent.NewClient(ent.Driver(rg.stmts), ent.Clock(app.Clock), ent.Vault(app.Vault))
	svc, err := authn.NewService(authn.Config{
		Client: rg.client, Hasher: app.Hasher, Clock: app.Clock, Logger: app.Logger(), ViewerCacheTTL: ttl,
	})
	if err != nil {
		t.Fatal(err)
	}
	rg.svc = svc
	rg.srv = httptest.NewServer(svc.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewer.FromContext(r.Context())
		if v == nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
		v.Grants = append(v.Grants, viewer.Grant{Permissions: []string{"tampered"}, Scope: viewer.ScopeAll})
		v.Grants[0].Permissions[0] = "tampered"
		v.Subordinates = append(v.Subordinates[:0], "usr_tampered")
		v.Now = time.Time{}
	})))
	t.Cleanup(rg.srv.Close)

	// A team lead whose role reaches their reports: loading them reads the
	// user, tenant, grants, roles, departments and reporting lines.
	sys := rg.system()
	app.Tx(t, sys, func(c *ent.Client) (err error) {
		rg.role, err = c.Role.Create().SetName("team lead").
			SetPermissions([]string{viewer.PermCustomerRead, viewer.PermCustomerCreate}).
			SetScope(viewer.ScopeSelfAndSubordinates).Save(sys)
		return err
	})
	rg.lead = app.NewUser(t, rg.tn, apptest.UserSpec{Email: "lead@acme.test", Roles: []*ent.Role{rg.role}})
	rg.report = app.NewUser(t, rg.tn, apptest.UserSpec{Email: "report@acme.test", ReportsTo: rg.lead.ID,
		Roles: []*ent.Role{rg.tn.Role(tenancy.RoleSales)}})
	rg.token = app.Login(t, "acme", "lead@acme.test")
	return rg
}

func (rg *viewerRig) system() context.Context { return rg.app.System(rg.tn.Tenant.ID) }

// view sends a request with token and returns the viewer it ran as, the
// statements it ran and its status.
func (rg *viewerRig) view(t *testing.T, token string) (viewer.Viewer, int64, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rg.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	before := rg.stmts.n.Load()
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ran := rg.stmts.n.Load() - before
	var v viewer.Viewer
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return v, ran, resp.StatusCode
}

// mustView is view for a request that must succeed.
func (rg *viewerRig) mustView(t *testing.T) (viewer.Viewer, int64) {
	t.Helper()
	v, n, status := rg.view(t, rg.token)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	return v, n
}

func permissions(v viewer.Viewer) []string {
	var out []string
	for _, g := range v.Grants {
		out = append(out, g.Permissions...)
	}
	slices.Sort(out)
	return out
}

func TestViewerCache(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialectName string) {
		rg := newViewerRig(t, dialectName, 0)
		first, loaded := rg.mustView(t)
		if loaded < 6 {
			t.Fatalf("a cold request ran %d statements; expected the session and the viewer's records", loaded)
		}
		if !slices.Equal(first.Subordinates, []pulid.ID{rg.report.ID}) {
			t.Fatalf("subordinates %v", first.Subordinates)
		}

		t.Run("a cached viewer costs only the session lookup", func(t *testing.T) {
			_, n := rg.mustView(t)
			if n != 1 {
				t.Fatalf("a warm request ran %d statements, want 1 (the session)", n)
			}
			t.Logf("statements: %d cold, %d warm", loaded, n)
		})

		t.Run("each request gets its own viewer as of now", func(t *testing.T) {
			rg.app.Clock.Advance(time.Second)
			v, n := rg.mustView(t)
			if n != 1 {
				t.Fatalf("%d statements", n)
			}
			if !v.Now.Equal(rg.app.Clock.Now()) {
				t.Fatalf("viewer.Now %v, want %v", v.Now, rg.app.Clock.Now())
			}
			if got := permissions(v); !slices.Equal(got, []string{viewer.PermCustomerCreate, viewer.PermCustomerRead}) {
				t.Fatalf("another request's changes leaked into this one: %v", got)
			}
			if !slices.Equal(v.Subordinates, []pulid.ID{rg.report.ID}) || v.SessionID == "" {
				t.Fatalf("viewer %+v", v)
			}
		})

		t.Run("an API token narrows its own copy only", func(t *testing.T) {
			const tok = authn.APITokenPrefix + "viewer-cache-test"
			rg.app.Tx(t, rg.system(), func(c *ent.Client) error {
				_, err := c.APIToken.Create().SetUserID(rg.lead.ID).SetName("erp").
					SetPermissions([]string{viewer.PermCustomerRead}).SetTokenHash(session.HashToken(tok)).Save(rg.system())
				return err
			})
			v, _, status := rg.view(t, tok)
			if status != http.StatusOK || !v.APIToken || !slices.Equal(permissions(v), []string{viewer.PermCustomerRead}) {
				t.Fatalf("token viewer %d %+v", status, v)
			}
			v, n := rg.mustView(t)
			if v.APIToken || !slices.Equal(permissions(v), []string{viewer.PermCustomerCreate, viewer.PermCustomerRead}) {
				t.Fatalf("the session saw the token's narrowing: %+v", v)
			}
			if n != 1 {
				t.Fatalf("%d statements", n)
			}
		})

		t.Run("changes through this process apply on the next request", func(t *testing.T) {
			sys := rg.system()
			steps := []struct {
				name   string
				change func(c *ent.Client) error
				check  func(v viewer.Viewer) bool
			}{
				{"role permissions", func(c *ent.Client) error {
					return c.Role.UpdateOne(rg.role).SetPermissions([]string{viewer.PermCustomerRead}).Exec(sys)
				}, func(v viewer.Viewer) bool {
					return slices.Equal(permissions(v), []string{viewer.PermCustomerRead})
				}},
				{"a new report", func(c *ent.Client) error {
					_, err := c.User.Create().SetEmail(secret.Plain("new@acme.test")).SetName("new").
						SetDepartmentID(rg.tn.Department.ID).SetReportsToID(rg.lead.ID).Save(sys)
					return err
				}, func(v viewer.Viewer) bool { return len(v.Subordinates) == 2 }},
				{"a department led", func(c *ent.Client) error {
					_, err := c.Department.Create().SetName("team").SetParentID(rg.tn.Department.ID).SetLeaderID(rg.lead.ID).Save(sys)
					return err
				}, func(v viewer.Viewer) bool { return len(v.LedDepartments) == 1 }},
				{"the grant revoked", func(c *ent.Client) error {
					_, err := c.RoleGrant.Delete().Where(rolegrant.UserID(rg.lead.ID)).Exec(sys)
					return err
				}, func(v viewer.Viewer) bool { return len(v.Grants) == 0 }},
				{"the role granted again", func(c *ent.Client) error {
					_, err := c.RoleGrant.Create().SetUserID(rg.lead.ID).SetRoleID(rg.role.ID).Save(sys)
					return err
				}, func(v viewer.Viewer) bool { return len(v.Grants) == 1 }},
				{"the tenant's locale", func(c *ent.Client) error {
					t, err := c.Tenant.Get(sys, rg.tn.Tenant.ID)
					if err != nil {
						return err
					}
					st := t.Settings
					st.Locale = "en"
					return c.Tenant.UpdateOne(t).SetSettings(st).Exec(sys)
				}, func(v viewer.Viewer) bool { return v.Locale == "en" }},
			}
			for _, step := range steps {
				t.Run(step.name, func(t *testing.T) {
					rg.mustView(t) // cached
					tx, err := rg.client.Tx(sys)
					if err != nil {
						t.Fatal(err)
					}
					if err := step.change(tx.Client()); err != nil {
						_ = tx.Rollback()
						t.Fatal(err)
					}
					if err := tx.Commit(); err != nil {
						t.Fatal(err)
					}
					if v, _ := rg.mustView(t); !step.check(v) {
						t.Fatalf("the change is not seen: %+v", v)
					}
				})
			}
			t.Run("sign-in bookkeeping keeps the cache", func(t *testing.T) {
				rg.mustView(t)
				if err := rg.client.User.UpdateOne(rg.lead).AddFailedLogins(1).Exec(sys); err != nil {
					t.Fatal(err)
				}
				if _, n := rg.mustView(t); n != 1 {
					t.Fatalf("a failed-login count reloaded the viewer: %d statements", n)
				}
			})
		})

		t.Run("changes through another process apply within the TTL", func(t *testing.T) {
			rg.mustView(t)
			// The app's own client stands in for another server: its
			// changes do not reach this Service's cache.
			rg.app.Tx(t, rg.system(), func(c *ent.Client) error {
				return c.Role.UpdateOne(rg.role).
					SetPermissions([]string{viewer.PermCustomerRead, viewer.PermCustomerUpdate}).Exec(rg.system())
			})
			if v, n := rg.mustView(t); n != 1 || slices.Contains(permissions(v), viewer.PermCustomerUpdate) {
				t.Fatalf("expected the cached viewer within the TTL: %d statements, %v", n, permissions(v))
			}
			rg.app.Clock.Advance(authn.DefaultViewerCacheTTL)
			if v, n := rg.mustView(t); n < 6 || !slices.Contains(permissions(v), viewer.PermCustomerUpdate) {
				t.Fatalf("the change is not seen after the TTL: %d statements, %v", n, permissions(v))
			}
		})

		t.Run("a revoked session fails at once", func(t *testing.T) {
			rg.mustView(t)
			// Revoked by another process: nothing tells this Service.
			_, err := rg.app.Client().Session.Update().Where(entsession.TokenHash(session.HashToken(rg.token))).
				SetRevokedAt(rg.app.Clock.Now()).Save(rule.NewPreAuthContext(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, status := rg.view(t, rg.token); status != http.StatusUnauthorized {
				t.Fatalf("a revoked session still works: %d", status)
			}
		})
	})
}

func TestViewerCacheOff(t *testing.T) {
	rg := newViewerRig(t, "sqlite", authn.ViewerCacheOff)
	_, cold := rg.mustView(t)
	for range 3 {
		if v, n := rg.mustView(t); n != cold || !v.Now.Equal(rg.app.Clock.Now()) {
			t.Fatalf("with the cache off a request ran %d statements, want %d", n, cold)
		}
	}
	// A change through another client is seen at once.
	rg.app.Tx(t, rg.system(), func(c *ent.Client) error {
		return c.Role.UpdateOne(rg.role).SetPermissions([]string{viewer.PermCustomerRead}).Exec(rg.system())
	})
	if v, _ := rg.mustView(t); !slices.Equal(permissions(v), []string{viewer.PermCustomerRead}) {
		t.Fatalf("permissions %v", permissions(v))
	}
}

// TestRoleChangesApplyOnTheNextRequest goes through the whole application:
// GraphQL mutations by an administrator change what a signed-in user may do
// from that user's next request, while the clock (and so the cache's TTL)
// stands still.
func TestRoleChangesApplyOnTheNextRequest(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialectName string) {
		app := apptest.New(t, dialectName)
		tn := app.NewTenant(t, "acme")
		u := app.NewUser(t, tn, apptest.UserSpec{Email: "sam@acme.test", Roles: []*ent.Role{tn.Role(tenancy.RoleSales)}})
		admin := app.Login(t, "acme", "admin@acme.test")
		sam := app.Login(t, "acme", "sam@acme.test")
		can := func() []string {
			t.Helper()
			var out struct {
				Viewer struct{ Permissions []struct{ Permission string } }
			}
			app.GraphQL(t, sam, `{ viewer { permissions { permission } } }`, nil).MustSucceed(t).Decode(t, &out)
			var ps []string
			for _, p := range out.Viewer.Permissions {
				ps = append(ps, p.Permission)
			}
			return ps
		}
		if !slices.Contains(can(), viewer.PermCustomerRead) {
			t.Fatal("sales cannot read customers")
		}
		can() // served from the cache
		grant, err := app.Client().RoleGrant.Query().Where(rolegrant.UserID(u.ID)).Only(app.System(tn.Tenant.ID))
		if err != nil {
			t.Fatal(err)
		}
		app.GraphQL(t, admin, `mutation($id: ID!) { revokeRole(id: $id) }`, map[string]any{"id": grant.ID}).MustSucceed(t)
		if ps := can(); len(ps) != 0 {
			t.Fatalf("revoked role still in force: %v", ps)
		}
		var role struct{ CreateRole struct{ ID string } }
		app.GraphQL(t, admin, `mutation { createRole(input: {name: "readers", permissions: ["customer:read"]}) { id } }`, nil).
			MustSucceed(t).Decode(t, &role)
		app.GraphQL(t, admin, `mutation($u: ID!, $r: ID!) { grantRole(input: {userID: $u, roleID: $r}) { id } }`,
			map[string]any{"u": u.ID, "r": role.CreateRole.ID}).MustSucceed(t)
		if ps := can(); !slices.Equal(ps, []string{viewer.PermCustomerRead}) {
			t.Fatalf("granted role not in force: %v", ps)
		}
		app.GraphQL(t, admin, `mutation($id: ID!) { updateRole(id: $id, input: {permissions: ["customer:read", "customer:create"]}) { id } }`,
			map[string]any{"id": role.CreateRole.ID}).MustSucceed(t)
		if ps := can(); !slices.Contains(ps, viewer.PermCustomerCreate) {
			t.Fatalf("role change not in force: %v", ps)
		}
		app.GraphQL(t, admin, `mutation($id: ID!) { disableUser(id: $id) { id } }`, map[string]any{"id": u.ID}).MustSucceed(t)
		if r := app.GraphQL(t, sam, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a disabled user's session still works: %d", r.Status)
		}
	})
}
