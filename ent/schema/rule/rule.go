// Package rule owns the privacy rules of every entity: tenant isolation,
// the pre-authentication lookups, the audited system context, permissions
// and data scopes. Schemas list these rules in their Policy(); nothing else
// decides who may read or change a row.
package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

type preAuthKey struct{}

// NewPreAuthContext returns a copy of ctx for the sign-in subsystem: it may
// read the rows that identify a person (sessions, tenants, users, roles,
// grants, departments, passkeys, API tokens, identity providers and their
// links) in any tenant, and write the sign-in bookkeeping (sessions, lock
// counters, second factors, passkeys, links). It is the one
// pre-authentication path: only the authn packages use it, before a viewer
// exists or for rows the viewer's own rights do not reach. The rules that
// honour it apply only when ctx carries no viewer.
func NewPreAuthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, preAuthKey{}, true)
}

// IsPreAuth reports whether ctx is a pre-authentication context.
func IsPreAuth(ctx context.Context) bool {
	v, _ := ctx.Value(preAuthKey{}).(bool)
	return v
}

// DenyIfNoViewer denies when ctx carries neither a viewer nor the
// pre-authentication mark.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil && !IsPreAuth(ctx) {
			return privacy.Denyf("no viewer in context")
		}
		return privacy.Skip
	})
}

// AllowIfSystem allows the audited system context.
func AllowIfSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v := viewer.FromContext(ctx); v != nil && v.System {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowPreAuthQuery allows reads in a pre-authentication context.
func AllowPreAuthQuery() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		if IsPreAuth(ctx) && viewer.FromContext(ctx) == nil {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowPreAuthMutation allows writes in a pre-authentication context.
func AllowPreAuthMutation() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if IsPreAuth(ctx) && viewer.FromContext(ctx) == nil {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

type tenantFilter interface {
	WhereTenantID(entql.StringP)
}

// FilterTenant confines queries, updates and deletes to the viewer's tenant.
// Creates are checked by the tenant hook, which sets tenant_id from the
// viewer. A pre-authentication context is not filtered (it is not a viewer
// and may only read), and neither is a system context for all tenants.
func FilterTenant() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			if IsPreAuth(ctx) {
				return privacy.Skip
			}
			return privacy.Denyf("no viewer in context")
		}
		if v.System && v.TenantID == "" {
			return privacy.Skip
		}
		if v.TenantID == "" {
			return privacy.Denyf("viewer has no tenant")
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		tf.WhereTenantID(entql.StringEQ(string(v.TenantID)))
		return privacy.Skip
	})
}

// AllowTenantMember allows reads by any signed-in user of the tenant; the
// tenant filter has already confined them to the tenant.
func AllowTenantMember() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		if v := viewer.FromContext(ctx); v != nil && v.Authenticated() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowIfPermission allows mutations by viewers holding permission in any
// scope.
func AllowIfPermission(permission string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if v := viewer.FromContext(ctx); v != nil && v.Authenticated() && v.Can(permission) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// FilterOwnTenant confines reads of tenants to the viewer's own tenant.
func FilterOwnTenant() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		return whereID(f, v.TenantID)
	})
}

// AllowOwnTenantUpdate lets viewers holding permission update their own
// tenant. Creating and deleting tenants is left to the system context.
func AllowOwnTenantUpdate(permission string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		if !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) || !v.Can(permission) {
			return privacy.Denyf("viewer may not change the tenant")
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			return whereID(f, v.TenantID)
		}).EvalMutation(ctx, m)
	})
}

func whereID(f privacy.Filter, id pulid.ID) error {
	idf, ok := f.(interface{ WhereID(entql.StringP) })
	if !ok {
		return privacy.Denyf("unexpected filter type %T", f)
	}
	idf.WhereID(entql.StringEQ(string(id)))
	return privacy.Allow
}

// FilterOwnRows confines reads to rows whose user_id is the viewer, for
// things such as sessions that only their user may see.
func FilterOwnRows() privacy.QueryRule {
	type userFilter interface {
		WhereUserID(entql.StringP)
	}
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		uf, ok := f.(userFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		uf.WhereUserID(entql.StringEQ(string(v.UserID)))
		return privacy.Allow
	})
}

// AllowQueryIfPermission allows reads by viewers holding any of permissions;
// the tenant filter has already confined them to their tenant.
func AllowQueryIfPermission(permissions ...string) privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		for _, p := range permissions {
			if v.Can(p) {
				return privacy.Allow
			}
		}
		return privacy.Skip
	})
}

// AllowOwnRows lets signed-in users change rows whose user_id is their own
// (their passkeys and API tokens): creates must name the viewer, updates and
// deletes are filtered to the viewer's rows.
func AllowOwnRows() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		if m.Op().Is(ent.OpCreate) {
			if id, ok := m.Field("user_id"); ok && id == v.UserID {
				return privacy.Allow
			}
			return privacy.Denyf("rows may be created only for the viewer")
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			uf, ok := f.(interface{ WhereUserID(entql.StringP) })
			if !ok {
				return privacy.Denyf("unexpected filter type %T", f)
			}
			uf.WhereUserID(entql.StringEQ(string(v.UserID)))
			return privacy.Allow
		}).EvalMutation(ctx, m)
	})
}

// AllowIfAllPermissions allows mutations by viewers holding every one of
// permissions, for operations that would otherwise let one delegated
// permission reach the others (identity providers can link any account and
// grant any role).
func AllowIfAllPermissions(permissions ...string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		for _, p := range permissions {
			if !v.Can(p) {
				return privacy.Skip
			}
		}
		return privacy.Allow
	})
}

// Covers reports whether v holds every permission of a role with scope s at
// a scope at least as wide, so that granting or defining the role gives
// nobody more than v has. The system covers everything.
func Covers(v *viewer.Viewer, permissions []string, s viewer.Scope) bool {
	if v == nil || v.System {
		return v != nil
	}
	for _, p := range permissions {
		have, ok := v.ScopeFor(p)
		if !ok || s.Wider(have) {
			return false
		}
	}
	return true
}
