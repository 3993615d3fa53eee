package tenancy_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

func TestCreateGivesBuiltinRoles(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	if got := tn.Role(tenancy.RoleAdmin); got.Scope != viewer.ScopeAll || !slices.Equal(got.Permissions, viewer.AllPermissions()) {
		t.Fatalf("admin role %+v", got)
	}
	for _, key := range []string{tenancy.RoleManager, tenancy.RoleSales} {
		r := tn.Role(key)
		for _, p := range []string{viewer.PermUserManage, viewer.PermRoleManage, viewer.PermAuditRead} {
			if slices.Contains(r.Permissions, p) {
				t.Errorf("%s holds %s", key, p)
			}
		}
	}
	if tn.Role(tenancy.RoleManager).Scope != viewer.ScopeDepartmentTree || tn.Role(tenancy.RoleSales).Scope != viewer.ScopeSelf {
		t.Fatal("manager or sales scope wrong")
	}
	_, err := tenancy.Create(app.System(""), app.Client(), tenancy.Spec{Slug: "acme", Name: "again", AdminEmail: "x@y.z", AdminPasswordHash: "x"})
	if !errors.Is(err, tenancy.ErrTenantExists) {
		t.Fatalf("second create: %v", err)
	}
}

func TestSyncBuiltinRolesRestoresDefinitions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		ctx := app.System("")
		// An older release's admin role lacked permissions added since, and
		// the sales role was lost.
		app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
			if err := c.Role.UpdateOne(tn.Role(tenancy.RoleAdmin)).SetPermissions([]string{viewer.PermCustomerRead}).Exec(app.System(tn.Tenant.ID)); err != nil {
				return err
			}
			_, err := c.Role.Delete().Where(role.Builtin(tenancy.RoleSales)).Exec(app.System(tn.Tenant.ID))
			return err
		})
		if err := tenancy.SyncBuiltinRoles(ctx, app.Client()); err != nil {
			t.Fatal(err)
		}
		admin, err := app.Client().Role.Get(ctx, tn.Role(tenancy.RoleAdmin).ID)
		if err != nil || !slices.Equal(admin.Permissions, viewer.AllPermissions()) {
			t.Fatalf("admin after sync: %v %v", admin, err)
		}
		n, err := app.Client().Role.Query().Where(role.Builtin(tenancy.RoleSales), role.TenantID(tn.Tenant.ID)).Count(ctx)
		if err != nil || n != 1 {
			t.Fatalf("sales roles after sync: %d %v", n, err)
		}
	})
}
