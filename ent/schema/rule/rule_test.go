package rule_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// org is the organisation the matrix runs on:
//
//	root
//	├── east (led by manager)      manager, s1 (reports to manager), expired, norole
//	│   └── eastsub                s2 (reports to s1)
//	└── west                       lead, s3 (reports to lead), dept
//	    └── westsub (led by lead)  s4
type org struct {
	app    *apptest.App
	tn     *apptest.Tenant
	users  map[string]*ent.User
	owned  map[string]pulid.ID // customer id by owner key
	depts  map[string]*ent.Department
	others *apptest.Tenant
}

func newOrg(t *testing.T, dialect string) *org {
	a := apptest.New(t, dialect)
	tn := a.NewTenant(t, "acme")
	o := &org{app: a, tn: tn, users: map[string]*ent.User{}, owned: map[string]pulid.ID{}, depts: map[string]*ent.Department{}}
	ctx := a.System(tn.Tenant.ID)
	var lead, deptRole *ent.Role
	a.Tx(t, ctx, func(c *ent.Client) (err error) {
		lead, err = c.Role.Create().SetName("team lead").SetPermissions(tn.Role(tenancy.RoleSales).Permissions).
			SetScope(viewer.ScopeSelfAndSubordinates).Save(ctx)
		if err != nil {
			return err
		}
		deptRole, err = c.Role.Create().SetName("department clerk").SetPermissions(tn.Role(tenancy.RoleSales).Permissions).
			SetScope(viewer.ScopeDepartment).Save(ctx)
		return err
	})
	o.depts["east"] = a.NewDepartment(t, tn, "east", "", "")
	o.depts["eastsub"] = a.NewDepartment(t, tn, "eastsub", o.depts["east"].ID, "")
	o.depts["west"] = a.NewDepartment(t, tn, "west", "", "")
	add := func(key, dept, boss string, roles []*ent.Role, expires time.Time) {
		spec := apptest.UserSpec{Email: key + "@acme.test", Department: o.depts[dept].ID, Roles: roles, ExpiresAt: expires}
		if boss != "" {
			spec.ReportsTo = o.users[boss].ID
		}
		o.users[key] = a.NewUser(t, tn, spec)
	}
	o.users["admin"] = tn.Admin
	add("manager", "east", "", []*ent.Role{tn.Role(tenancy.RoleManager)}, time.Time{})
	add("s1", "east", "manager", []*ent.Role{tn.Role(tenancy.RoleSales)}, time.Time{})
	add("s2", "eastsub", "s1", []*ent.Role{tn.Role(tenancy.RoleSales)}, time.Time{})
	add("lead", "west", "", []*ent.Role{lead}, time.Time{})
	add("s3", "west", "lead", []*ent.Role{tn.Role(tenancy.RoleSales)}, time.Time{})
	add("dept", "west", "", []*ent.Role{deptRole}, time.Time{})
	add("expired", "east", "", []*ent.Role{tn.Role(tenancy.RoleManager)}, a.Clock.Now().Add(time.Hour))
	add("norole", "east", "", nil, time.Time{})
	o.depts["westsub"] = a.NewDepartment(t, tn, "westsub", o.depts["west"].ID, o.users["lead"].ID)
	add("s4", "westsub", "", []*ent.Role{tn.Role(tenancy.RoleSales)}, time.Time{})
	a.Tx(t, ctx, func(c *ent.Client) error {
		if _, err := c.Department.UpdateOne(o.depts["east"]).SetLeaderID(o.users["manager"].ID).Save(ctx); err != nil {
			return err
		}
		for _, key := range []string{"admin", "manager", "s1", "s2", "lead", "s3", "s4", "dept"} {
			cu, err := c.Customer.Create().SetName("c-" + key).SetOwnerID(o.users[key].ID).Save(ctx)
			if err != nil {
				return err
			}
			o.owned[key] = cu.ID
		}
		return nil
	})
	o.others = a.NewTenant(t, "other")
	return o
}

// as returns a context acting as the user with key, loaded the way a
// request loads it.
func (o *org) as(t *testing.T, key string) context.Context {
	t.Helper()
	u := o.users[key]
	loaded, err := authn.LoadViewer(context.Background(), o.app.Client(), u.TenantID, u.ID, o.app.Clock.Now())
	if err != nil {
		t.Fatalf("loading viewer %s: %v", key, err)
	}
	return viewer.NewContext(context.Background(), loaded.Viewer)
}

func (o *org) visible(t *testing.T, ctx context.Context) ([]string, error) {
	t.Helper()
	cs, err := o.app.Client().Customer.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name[2:])
	}
	sort.Strings(names)
	return names, nil
}

func TestCustomerScopeMatrix(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		o := newOrg(t, dialect)
		cases := []struct {
			viewer string
			want   []string // nil with forbidden
		}{
			{"admin", []string{"admin", "dept", "lead", "manager", "s1", "s2", "s3", "s4"}},
			{"manager", []string{"manager", "s1", "s2"}},
			{"s1", []string{"s1"}},
			{"s2", []string{"s2"}},
			{"lead", []string{"lead", "s3", "s4"}},
			{"dept", []string{"dept", "lead", "s3"}},
			{"norole", nil},
		}
		for _, tc := range cases {
			t.Run(tc.viewer, func(t *testing.T) {
				got, err := o.visible(t, o.as(t, tc.viewer))
				if tc.want == nil {
					if !errors.Is(err, privacy.Deny) {
						t.Fatalf("want privacy deny, got %v %v", got, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("visible = %v, want %v", got, tc.want)
				}
			})
		}
		t.Run("expired grant stops on the next request", func(t *testing.T) {
			got, err := o.visible(t, o.as(t, "expired"))
			if err != nil || len(got) != 3 {
				t.Fatalf("before expiry: %v %v", got, err)
			}
			o.app.Clock.Advance(2 * time.Hour)
			if _, err := o.visible(t, o.as(t, "expired")); !errors.Is(err, privacy.Deny) {
				t.Fatalf("after expiry: want deny, got %v", err)
			}
		})
		t.Run("revoked role stops on the next request", func(t *testing.T) {
			sys := o.app.System(o.tn.Tenant.ID)
			o.app.Tx(t, sys, func(c *ent.Client) error {
				n, err := c.RoleGrant.Delete().Where(rolegrant.UserID(o.users["s1"].ID)).Exec(sys)
				if err == nil && n != 1 {
					err = fmt.Errorf("revoked %d grants", n)
				}
				return err
			})
			if _, err := o.visible(t, o.as(t, "s1")); !errors.Is(err, privacy.Deny) {
				t.Fatalf("after revoke: want deny, got %v", err)
			}
		})
		t.Run("other tenant sees none of these", func(t *testing.T) {
			u := o.others.Admin
			loaded, err := authn.LoadViewer(context.Background(), o.app.Client(), u.TenantID, u.ID, o.app.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			ctx := viewer.NewContext(context.Background(), loaded.Viewer)
			got, err := o.visible(t, ctx)
			if err != nil || len(got) != 0 {
				t.Fatalf("other tenant sees %v %v", got, err)
			}
			if _, err := o.app.Client().Customer.Get(ctx, o.owned["admin"]); !ent.IsNotFound(err) {
				t.Fatalf("cross-tenant get: want not found, got %v", err)
			}
			var n int
			o.app.Tx(t, ctx, func(c *ent.Client) (err error) {
				n, err = c.Customer.Update().Where(customer.ID(o.owned["admin"])).SetName("x").Save(ctx)
				return err
			})
			if n != 0 {
				t.Fatalf("cross-tenant update changed %d rows", n)
			}
			if err := o.app.TryTx(ctx, func(c *ent.Client) error { return c.Customer.DeleteOneID(o.owned["admin"]).Exec(ctx) }); !ent.IsNotFound(err) {
				t.Fatalf("cross-tenant delete: want not found, got %v", err)
			}
		})
	})
}

func TestOwnerAssignmentFollowsScope(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		o := newOrg(t, dialect)
		c := o.app.Client()
		// write runs fn in a transaction as the viewer with key.
		write := func(as string, fn func(ctx context.Context, c *ent.Client) error) error {
			ctx := o.as(t, as)
			return o.app.TryTx(ctx, func(c *ent.Client) error { return fn(ctx, c) })
		}
		create := func(as, owner string) (cu *ent.Customer, err error) {
			err = write(as, func(ctx context.Context, c *ent.Client) error {
				cu, err = c.Customer.Create().SetName("new").SetOwnerID(o.users[owner].ID).Save(ctx)
				return err
			})
			return cu, err
		}
		cases := []struct {
			as, owner string
			ok        bool
		}{
			{"s1", "s1", true},
			{"s1", "s2", false},
			{"manager", "s2", true},
			{"manager", "s3", false},
			{"lead", "s3", true},
			{"lead", "s4", true},
			{"lead", "s1", false},
			{"dept", "s3", true},
			{"dept", "s4", false},
			{"admin", "s4", true},
		}
		for _, tc := range cases {
			t.Run(tc.as+" assigns "+tc.owner, func(t *testing.T) {
				cu, err := create(tc.as, tc.owner)
				if tc.ok {
					if err != nil {
						t.Fatal(err)
					}
					if cu.DepartmentID != o.users[tc.owner].DepartmentID {
						t.Fatalf("department %s, want the owner's %s", cu.DepartmentID, o.users[tc.owner].DepartmentID)
					}
					if cu.CreatedBy != o.users[tc.as].ID {
						t.Fatalf("created_by %s, want %s", cu.CreatedBy, o.users[tc.as].ID)
					}
					return
				}
				ae := apierr.As(err)
				if ae == nil || ae.Code != apierr.BadUserInput || ae.Fields[0].Pointer != "/input/ownerID" {
					t.Fatalf("want BAD_USER_INPUT at /input/ownerID, got %v", err)
				}
			})
		}
		t.Run("owner defaults to the viewer", func(t *testing.T) {
			var cu *ent.Customer
			err := write("s2", func(ctx context.Context, c *ent.Client) (err error) {
				cu, err = c.Customer.Create().SetName("mine").Save(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if cu.OwnerID != o.users["s2"].ID || cu.DepartmentID != o.depts["eastsub"].ID {
				t.Fatalf("owner %s dept %s", cu.OwnerID, cu.DepartmentID)
			}
		})
		t.Run("reassigning moves the department", func(t *testing.T) {
			var cu *ent.Customer
			err := write("manager", func(ctx context.Context, c *ent.Client) (err error) {
				cu, err = c.Customer.UpdateOneID(o.owned["s1"]).SetOwnerID(o.users["s2"].ID).Save(ctx)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if cu.DepartmentID != o.depts["eastsub"].ID {
				t.Fatalf("department %s, want eastsub", cu.DepartmentID)
			}
		})
		t.Run("updates and deletes outside the scope are not found", func(t *testing.T) {
			err := write("s1", func(ctx context.Context, c *ent.Client) error {
				return c.Customer.UpdateOneID(o.owned["s2"]).SetName("x").Exec(ctx)
			})
			if !ent.IsNotFound(err) {
				t.Fatalf("update: want not found, got %v", err)
			}
			err = write("dept", func(ctx context.Context, c *ent.Client) error {
				return c.Customer.DeleteOneID(o.owned["s4"]).Exec(ctx)
			})
			if !ent.IsNotFound(err) {
				t.Fatalf("delete: want not found, got %v", err)
			}
		})
		t.Run("soft delete hides the row from queries and counts", func(t *testing.T) {
			ctx := o.as(t, "s3")
			del := func(ctx context.Context, c *ent.Client) error { return c.Customer.DeleteOneID(o.owned["s3"]).Exec(ctx) }
			if err := write("s3", del); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Customer.Query().Where(customer.ID(o.owned["s3"])).Count(ctx); err != nil || n != 0 {
				t.Fatalf("count after delete: %d %v", n, err)
			}
			if _, err := c.Customer.Get(o.as(t, "admin"), o.owned["s3"]); !ent.IsNotFound(err) {
				t.Fatalf("get after delete: %v", err)
			}
			var deleted int
			row := o.app.Store.DB.QueryRow(`SELECT COUNT(*) FROM customers WHERE id = `+placeholder(dialect)+` AND deleted_at IS NOT NULL AND deleted_by IS NOT NULL`, string(o.owned["s3"]))
			if err := row.Scan(&deleted); err != nil || deleted != 1 {
				t.Fatalf("soft-deleted row kept: %d %v", deleted, err)
			}
			if err := write("s3", del); !ent.IsNotFound(err) {
				t.Fatalf("second delete: want not found, got %v", err)
			}
		})
	})
}

func placeholder(dialect string) string {
	if dialect == "postgres" {
		return "$1"
	}
	return "?"
}
