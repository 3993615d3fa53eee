package tenancy_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
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

func TestEnsurePicklist(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		other := app.NewTenant(t, "other")
		ctx := app.System(tn.Tenant.ID)
		options := []choices.Option{{Key: "hardware", LabelZh: "硬件", LabelEn: "Hardware", Active: true}}
		ensure := func(kind choices.Kind, opts []choices.Option) (bool, error) {
			var created bool
			err := app.TryTx(ctx, func(c *ent.Client) error {
				var err error
				created, err = tenancy.EnsurePicklist(ctx, c, kind, opts)
				return err
			})
			return created, err
		}
		read := func(tenantID pulid.ID, kind choices.Kind) *ent.Picklist {
			pl, err := app.Client().Picklist.Query().Where(picklist.KindEQ(kind)).Only(app.System(tenantID))
			if ent.IsNotFound(err) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			return pl
		}

		// A new kind is created with the options given, in this tenant only.
		if created, err := ensure("ticket_category", options); err != nil || !created {
			t.Fatalf("EnsurePicklist = %v, %v", created, err)
		}
		if pl := read(tn.Tenant.ID, "ticket_category"); pl == nil || !reflect.DeepEqual(pl.Options, options) {
			t.Fatalf("ticket_category %+v", pl)
		}
		if read(other.Tenant.ID, "ticket_category") != nil {
			t.Fatal("the list reached another tenant")
		}
		// An existing list, built-in or not, is left as it is.
		if created, err := ensure("ticket_category", nil); err != nil || created {
			t.Fatalf("EnsurePicklist again = %v, %v", created, err)
		}
		if created, err := ensure(choices.CustomerLevel, options); err != nil || created {
			t.Fatalf("EnsurePicklist(customer_level) = %v, %v", created, err)
		}
		if pl := read(tn.Tenant.ID, "ticket_category"); !reflect.DeepEqual(pl.Options, options) {
			t.Errorf("ticket_category changed: %+v", pl.Options)
		}
		if pl := read(tn.Tenant.ID, choices.CustomerLevel); !reflect.DeepEqual(pl.Options, choices.Defaults()[choices.CustomerLevel]) {
			t.Errorf("customer_level changed: %+v", pl.Options)
		}
		// No options make an empty list; bad kinds and options are refused
		// by the schema and its hooks.
		if created, err := ensure("empty_list", nil); err != nil || !created {
			t.Fatalf("EnsurePicklist(empty_list) = %v, %v", created, err)
		}
		if pl := read(tn.Tenant.ID, "empty_list"); pl == nil || pl.Options == nil || len(pl.Options) != 0 {
			t.Errorf("empty_list %+v", pl)
		}
		for _, bad := range []choices.Kind{"Bad", "9lives", "a-b", "", choices.Kind(strings.Repeat("a", 65))} {
			if _, err := ensure(bad, nil); err == nil {
				t.Errorf("EnsurePicklist(%q) succeeded", bad)
			}
		}
		if _, err := ensure("bad_options", []choices.Option{{Key: "Bad Key", LabelZh: "x", LabelEn: "x"}}); apierr.As(err) == nil {
			t.Errorf("bad options: %v", err)
		}
		if read(tn.Tenant.ID, "bad_options") != nil {
			t.Error("a list with bad options was created")
		}
	})
}
