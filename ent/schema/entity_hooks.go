package schema

import (
	"context"
	"slices"
	"strconv"

	"entgo.io/ent"

	gen "github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/department"
	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
)

// tenantSettingsHook validates the settings document on every write.
func tenantSettingsHook(next ent.Mutator) ent.Mutator {
	return hook.TenantFunc(func(ctx context.Context, m *gen.TenantMutation) (ent.Value, error) {
		if s, ok := m.Settings(); ok {
			var bad []apierr.FieldError
			for _, p := range s.Problems() {
				bad = append(bad, apierr.Field("/input"+p.Pointer, p.MessageKey))
			}
			if len(bad) > 0 {
				return nil, apierr.BadInput(bad...)
			}
		}
		return next.Mutate(ctx, m)
	})
}

// userHook derives the email lookup key and refuses reporting cycles.
func userHook(next ent.Mutator) ent.Mutator {
	return hook.UserFunc(func(ctx context.Context, m *gen.UserMutation) (ent.Value, error) {
		if err := checkUserTarget(ctx, m); err != nil {
			return nil, err
		}
		if loc, ok := m.Locale(); ok && loc != "" && loc != "zh-CN" && loc != "en" {
			return nil, apierr.BadInput(apierr.Field("/input/locale", "unsupported_locale"))
		}
		if boss, ok := m.ReportsToID(); ok && m.Op().Is(ent.OpUpdateOne) {
			id, _ := m.ID()
			c := m.Client()
			for cur, hops := boss, 0; cur != "" && hops < 1000; hops++ {
				if cur == id {
					return nil, apierr.BadInput(apierr.Field("/input/reportsToID", "reports_to_cycle"))
				}
				u, err := c.User.Query().Where(user.ID(cur)).Select(user.FieldReportsToID).Only(ctx)
				if err != nil {
					break // an unknown id is reported by the reference check
				}
				cur = u.ReportsToID
			}
		}
		return next.Mutate(ctx, m)
	})
}

// departmentHook refuses a parent that would make a department its own
// ancestor.
func departmentHook(next ent.Mutator) ent.Mutator {
	return hook.DepartmentFunc(func(ctx context.Context, m *gen.DepartmentMutation) (ent.Value, error) {
		if parent, ok := m.ParentID(); ok && m.Op().Is(ent.OpUpdateOne) {
			id, _ := m.ID()
			c := m.Client()
			for cur, hops := parent, 0; cur != "" && hops < 1000; hops++ {
				if cur == id {
					return nil, apierr.BadInput(apierr.Field("/input/parentID", "department_cycle"))
				}
				d, err := c.Department.Query().Where(department.ID(cur)).Select(department.FieldParentID).Only(ctx)
				if err != nil {
					break
				}
				cur = d.ParentID
			}
		}
		return next.Mutate(ctx, m)
	})
}

// roleHook accepts only known permissions and scopes, and keeps built-in
// roles as migrations define them.
func roleHook(next ent.Mutator) ent.Mutator {
	return hook.RoleFunc(func(ctx context.Context, m *gen.RoleMutation) (ent.Value, error) {
		var bad []apierr.FieldError
		if perms, ok := m.Permissions(); ok {
			for i, p := range perms {
				if !viewer.KnownPermission(p) {
					bad = append(bad, apierr.Field("/input/permissions/"+strconv.Itoa(i), "unknown_permission", "value", p))
				}
			}
		}
		appended, _ := m.AppendedPermissions()
		for i, p := range appended {
			if !viewer.KnownPermission(p) {
				bad = append(bad, apierr.Field("/input/appendPermissions/"+strconv.Itoa(i), "unknown_permission", "value", p))
			}
		}
		if len(bad) > 0 {
			return nil, apierr.BadInput(bad...)
		}
		if len(appended) > 0 {
			// An append becomes the whole new set, so that the checks
			// below judge what the role will hold.
			if err := mergeAppendedPermissions(ctx, m, appended); err != nil {
				return nil, err
			}
		}
		if v := viewer.FromContext(ctx); v != nil && !v.System {
			perms, _ := m.Permissions()
			scope, _ := m.Scope()
			if m.Op().Is(ent.OpUpdateOne) {
				if _, set := m.Permissions(); !set {
					perms, _ = m.OldPermissions(ctx)
				}
				if _, set := m.Scope(); !set {
					scope, _ = m.OldScope(ctx)
				}
			}
			if scope == "" {
				scope = viewer.ScopeSelf
			}
			if !rule.Covers(v, perms, scope) {
				return nil, apierr.New(apierr.Forbidden)
			}
		}
		if v := viewer.FromContext(ctx); !m.Op().Is(ent.OpCreate) && (v == nil || !v.System) {
			ids, err := m.IDs(ctx)
			if err != nil {
				return nil, err
			}
			n, err := m.Client().Role.Query().Where(role.IDIn(ids...), role.BuiltinNEQ("")).Count(ctx)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, apierr.BadInput(apierr.Field("/id", "builtin_role"))
			}
		}
		return next.Mutate(ctx, m)
	})
}

// mergeAppendedPermissions turns an append to a role's permissions into
// setting the whole list: the set or stored permissions plus the appended
// ones not already held, in order. Only a single role's update can append.
func mergeAppendedPermissions(ctx context.Context, m *gen.RoleMutation, appended []string) error {
	perms, set := m.Permissions()
	if !set {
		if !m.Op().Is(ent.OpUpdateOne) {
			return apierr.BadInput(apierr.Field("/input/appendPermissions", "invalid"))
		}
		old, err := m.OldPermissions(ctx)
		if err != nil {
			return err
		}
		perms = old
	}
	merged := append([]string(nil), perms...)
	for _, p := range appended {
		if !slices.Contains(merged, p) {
			merged = append(merged, p)
		}
	}
	m.SetPermissions(merged)
	return nil
}

// grantHook records who granted a role and refuses grants that have already
// expired.
func grantHook(next ent.Mutator) ent.Mutator {
	return hook.RoleGrantFunc(func(ctx context.Context, m *gen.RoleGrantMutation) (ent.Value, error) {
		if v := viewer.FromContext(ctx); v != nil && v.UserID != "" && m.Op().Is(ent.OpCreate) {
			m.SetGrantedBy(v.UserID)
			// Nobody grants themselves a role, nor a role reaching further
			// than their own rights.
			if uid, _ := m.UserID(); uid == v.UserID {
				return nil, apierr.New(apierr.Forbidden)
			}
			roleID, _ := m.RoleID()
			r, err := m.Client().Role.Get(ctx, roleID)
			if gen.IsNotFound(err) {
				return nil, apierr.BadInput(apierr.Field("/input/roleID", "unknown_reference"))
			}
			if err != nil {
				return nil, err
			}
			if !rule.Covers(v, r.Permissions, r.Scope) {
				return nil, apierr.New(apierr.Forbidden)
			}
		}
		if exp, ok := m.ExpiresAt(); ok && !exp.After(m.Client().Clock.Now()) {
			return nil, apierr.BadInput(apierr.Field("/input/expiresAt", "expired"))
		}
		return next.Mutate(ctx, m)
	})
}

// checkUserTarget stops user managers from acting on users with rights they
// do not hold themselves (resetting an administrator's password, say) and
// from moving themselves to widen their own data scope.
func checkUserTarget(ctx context.Context, m *gen.UserMutation) error {
	v := viewer.FromContext(ctx)
	if v == nil || v.System || !m.Op().Is(ent.OpUpdateOne) {
		return nil
	}
	id, _ := m.ID()
	if id == v.UserID {
		_, dept := m.DepartmentID()
		_, boss := m.ReportsToID()
		if dept || boss || m.ReportsToCleared() {
			return apierr.New(apierr.Forbidden)
		}
		return nil
	}
	grants, err := m.Client().RoleGrant.Query().Where(rolegrant.UserID(id)).WithRole().All(ctx)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g.Edges.Role != nil && !rule.Covers(v, g.Edges.Role.Permissions, g.Edges.Role.Scope) {
			return apierr.New(apierr.Forbidden)
		}
	}
	return nil
}
