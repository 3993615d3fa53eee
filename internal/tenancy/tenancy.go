// Package tenancy owns tenants as whole operations: creating one with its
// built-in roles, root department and first administrator, keeping built-in
// roles current as modules add permissions, and changing tenant settings.
package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/settings"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/workcal"
)

// ErrTenantExists is returned when a tenant with the slug already exists.
var ErrTenantExists = errors.New("tenancy: a tenant with this slug already exists")

// BuiltinRole describes a role every tenant gets.
type BuiltinRole struct {
	Key         string
	Name        string
	Permissions []string
	Scope       viewer.Scope
}

// The built-in role keys.
const (
	RoleAdmin   = "admin"
	RoleManager = "manager"
	RoleSales   = "sales"
)

// BuiltinRoles returns the built-in roles as this version of Custos defines
// them. The administrator holds every permission.
func BuiltinRoles() []BuiltinRole {
	customer := []string{viewer.PermCustomerRead, viewer.PermCustomerCreate, viewer.PermCustomerUpdate, viewer.PermCustomerDelete,
		viewer.PermTicketRead, viewer.PermTicketCreate, viewer.PermTicketUpdate, viewer.PermTicketDelete,
		viewer.PermProjectRead, viewer.PermProjectCreate, viewer.PermProjectUpdate, viewer.PermProjectDelete}
	return []BuiltinRole{
		{Key: RoleAdmin, Name: "Administrator", Permissions: viewer.AllPermissions(), Scope: viewer.ScopeAll},
		{Key: RoleManager, Name: "Manager", Permissions: customer, Scope: viewer.ScopeDepartmentTree},
		{Key: RoleSales, Name: "Sales", Permissions: customer, Scope: viewer.ScopeSelf},
	}
}

// Spec describes a new tenant and its first administrator.
type Spec struct {
	Slug, Name string
	AdminEmail string
	AdminName  string
	// AdminPasswordHash is the argon2id hash of the administrator's password.
	AdminPasswordHash string
}

// Created is what Create made.
type Created struct {
	Tenant     *ent.Tenant
	Department *ent.Department
	Admin      *ent.User
	// Roles maps built-in role keys to the roles created.
	Roles map[string]*ent.Role
}

// Create creates a tenant with its built-in roles, a root department named
// after the tenant and its administrator, all in one transaction. ctx must
// be a system context for all tenants.
func Create(ctx context.Context, client *ent.Client, spec Spec) (*Created, error) {
	exists, err := client.Tenant.Query().Where(tenant.Slug(spec.Slug)).Exist(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up tenant: %w", err)
	}
	if exists {
		return nil, ErrTenantExists
	}
	// The tenant's keys are made first, outside the transaction: keys of a
	// tenant that then fails to be created are never used.
	id := pulid.New("ten", client.Clock.Now())
	if client.Vault == nil {
		return nil, errors.New("tenancy: no vault configured")
	}
	if err := client.Vault.EnsureTenant(ctx, string(id)); err != nil {
		return nil, fmt.Errorf("creating tenant keys: %w", err)
	}
	var out *Created
	err = withTx(ctx, client, func(c *ent.Client) error {
		out, err = create(ctx, c, id, spec)
		return err
	})
	if ent.IsConstraintError(err) {
		return nil, ErrTenantExists
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func create(ctx context.Context, c *ent.Client, id pulid.ID, spec Spec) (*Created, error) {
	t, err := c.Tenant.Create().SetID(id).SetSlug(spec.Slug).SetName(spec.Name).SetSettings(settings.Defaults()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating tenant: %w", err)
	}
	// Everything else is created as the system within the new tenant.
	ctx = viewer.NewSystemContext(ctx, t.ID, "create tenant "+spec.Slug, c.Clock.Now())
	out := &Created{Tenant: t, Roles: map[string]*ent.Role{}}
	for _, br := range BuiltinRoles() {
		r, err := c.Role.Create().SetName(br.Name).SetBuiltin(br.Key).
			SetPermissions(br.Permissions).SetScope(br.Scope).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("creating role %s: %w", br.Key, err)
		}
		out.Roles[br.Key] = r
	}
	for kind, options := range choices.Defaults() {
		if _, err := c.Picklist.Create().SetKind(kind).SetOptions(options).Save(ctx); err != nil {
			return nil, fmt.Errorf("creating picklist %s: %w", kind, err)
		}
	}
	if out.Department, err = c.Department.Create().SetName(spec.Name).Save(ctx); err != nil {
		return nil, fmt.Errorf("creating root department: %w", err)
	}
	name := spec.AdminName
	if name == "" {
		name = "Administrator"
	}
	out.Admin, err = c.User.Create().SetEmail(secret.Plain(spec.AdminEmail)).SetName(name).
		SetPasswordHash(spec.AdminPasswordHash).SetDepartmentID(out.Department.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("creating administrator: %w", err)
	}
	if _, err := c.RoleGrant.Create().SetUserID(out.Admin.ID).SetRoleID(out.Roles[RoleAdmin].ID).Save(ctx); err != nil {
		return nil, fmt.Errorf("granting administrator role: %w", err)
	}
	return out, nil
}

// SyncBuiltinRoles brings every tenant's built-in roles in line with
// BuiltinRoles, creating missing ones, each tenant in its own transaction.
// `custos migrate` runs it, so that permissions added by new modules reach
// existing tenants; roles that are already current are not written. ctx
// must be a system context for all tenants.
func SyncBuiltinRoles(ctx context.Context, client *ent.Client) error {
	tenants, err := client.Tenant.Query().IDs(ctx)
	if err != nil {
		return fmt.Errorf("listing tenants: %w", err)
	}
	for _, tid := range tenants {
		tctx := viewer.NewSystemContext(ctx, tid, "sync built-in roles", client.Clock.Now())
		if err := withTx(tctx, client, func(c *ent.Client) error { return syncRoles(tctx, c, tid) }); err != nil {
			return fmt.Errorf("tenant %s: %w", tid, err)
		}
	}
	return nil
}

func syncRoles(ctx context.Context, c *ent.Client, tid pulid.ID) error {
	current, err := c.Role.Query().Where(role.TenantID(tid), role.BuiltinNEQ("")).All(ctx)
	if err != nil {
		return fmt.Errorf("reading roles: %w", err)
	}
	byKey := map[string]*ent.Role{}
	for _, r := range current {
		byKey[r.Builtin] = r
	}
	for _, br := range BuiltinRoles() {
		r, ok := byKey[br.Key]
		switch {
		case !ok:
			_, err = c.Role.Create().SetTenantID(tid).SetName(br.Name).SetBuiltin(br.Key).
				SetPermissions(br.Permissions).SetScope(br.Scope).Save(ctx)
		case !slices.Equal(r.Permissions, br.Permissions) || r.Scope != br.Scope:
			_, err = c.Role.UpdateOne(r).SetPermissions(br.Permissions).SetScope(br.Scope).Save(ctx)
		}
		if err != nil {
			return fmt.Errorf("role %s: %w", br.Key, err)
		}
	}
	return nil
}

// withTx runs fn on a transactional client and commits when it succeeds.
func withTx(ctx context.Context, client *ent.Client, fn func(*ent.Client) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	if err := fn(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// SettingsChange holds the settings a client wants to change; nil fields
// keep their value.
type SettingsChange struct {
	TimeZone    *string
	Locale      *string
	PhoneRegion *string
	// Auth, when given, replaces the sign-in rules (zero fields take their
	// defaults). Changing them needs a recent strong sign-in.
	Auth *settings.Auth
	// ReminderHour is the local hour at which follow-up reminders go out.
	ReminderHour *int
	// WorkingCalendar, when given, replaces the working calendar of SLA
	// timers; an empty object restores the default.
	WorkingCalendar map[string]any
}

// UpdateSettings applies change to the viewer's tenant settings. The tenant
// hook validates the result, so a bad value names its field and nothing is
// written.
func UpdateSettings(ctx context.Context, client *ent.Client, tenantID pulid.ID, change SettingsChange) (*ent.Tenant, error) {
	t, err := client.Tenant.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	s := t.Settings.WithDefaults()
	if change.PhoneRegion != nil {
		s.PhoneRegion = *change.PhoneRegion
	}
	if change.Auth != nil {
		if err := rule.RecentAuth(ctx); err != nil {
			return nil, err
		}
		s.Auth = *change.Auth
		s = s.WithDefaults()
	}
	if change.TimeZone != nil {
		s.TimeZone = *change.TimeZone
	}
	if change.Locale != nil {
		s.Locale = *change.Locale
	}
	if change.WorkingCalendar != nil {
		cal, err := parseCalendar(change.WorkingCalendar)
		if err != nil {
			return nil, err
		}
		s.WorkingCalendar = cal
	}
	if change.ReminderHour != nil {
		s.ReminderHour = change.ReminderHour
	}
	return client.Tenant.UpdateOneID(tenantID).SetSettings(s).Save(ctx)
}

// EnsurePicklist makes sure the tenant in ctx has the picklist kind: when
// it has none, it creates one holding options (which may be empty) and
// reports true; an existing list, its options included, is left as it is.
// Publishing a form whose select fields name a list calls it, through the
// form's Provision step, inside the publishing transaction. The kind and
// the options are checked by the picklist's schema and hooks.
func EnsurePicklist(ctx context.Context, client *ent.Client, kind choices.Kind, options []choices.Option) (bool, error) {
	exists, err := client.Picklist.Query().Where(picklist.KindEQ(kind)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("looking up picklist %s: %w", kind, err)
	}
	if exists {
		return false, nil
	}
	if options == nil {
		options = []choices.Option{}
	}
	if err := client.Picklist.Create().SetKind(kind).SetOptions(options).Exec(ctx); err != nil {
		return false, fmt.Errorf("creating picklist %s: %w", kind, err)
	}
	return true, nil
}

// UpdatePicklist replaces the options of the viewer's picklist of kind: a
// built-in one or one a form's publication created.
func UpdatePicklist(ctx context.Context, client *ent.Client, kind choices.Kind, options []*choices.Option) (*ent.Picklist, error) {
	opts := make([]choices.Option, len(options))
	for i, o := range options {
		opts[i] = *o
	}
	pl, err := client.Picklist.Query().Where(picklist.KindEQ(kind)).Only(ctx)
	if err != nil {
		return nil, err
	}
	return pl.Update().SetOptions(opts).Save(ctx)
}

// parseCalendar checks a working calendar given as JSON; an empty object
// means the default one (nil).
func parseCalendar(m map[string]any) (*workcal.Calendar, error) {
	if len(m) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, apierr.BadInput(apierr.Field("/input/workingCalendar", "invalid"))
	}
	cal, err := workcal.Parse(raw)
	var problems workcal.Problems
	if errors.As(err, &problems) {
		var fields []apierr.FieldError
		for _, p := range problems {
			fields = append(fields, apierr.Field("/input/workingCalendar"+p.Pointer, "invalid", "reason", p.Message))
		}
		return nil, apierr.BadInput(fields...)
	}
	if err != nil {
		return nil, apierr.BadInput(apierr.Field("/input/workingCalendar", "invalid"))
	}
	return cal, nil
}
