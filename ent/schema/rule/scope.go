package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// ScopeExtension widens a data-scope filter. It returns a predicate that
// matches the extra records v may reach, or nil for none.
type ScopeExtension func(ctx context.Context, v *viewer.Viewer) entql.P

// DataScope describes how an owned business record is guarded: the
// permission for each operation, and the named extension points later
// modules fill.
type DataScope struct {
	Read, Create, Update, Delete string

	// PoolMembership lets viewers reach records in a public pool they
	// belong to (the 公海 pool module fills it).
	PoolMembership ScopeExtension
	// RecordShares lets viewers reach records shared with them (the record
	// sharing module fills it).
	RecordShares ScopeExtension
	// Granted lets viewers read records handed to them, such as the record
	// of an approval task, even without the read permission. It widens
	// reads only, never writes.
	Granted GrantExtension
}

type softDeleteKey struct{}

// NewSoftDeleteContext marks ctx as carrying a soft delete, so that the
// update it turns into is judged by the delete permission.
func NewSoftDeleteContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, softDeleteKey{}, true)
}

// IsSoftDelete reports whether ctx carries a soft delete.
func IsSoftDelete(ctx context.Context) bool {
	v, _ := ctx.Value(softDeleteKey{}).(bool)
	return v
}

// Predicate returns the filter that confines records to what v reaches with
// scope s, or nil when s reaches every record of the tenant.
func Predicate(v *viewer.Viewer, s viewer.Scope) entql.P {
	owners := []any{string(v.UserID)}
	var departments []any
	switch s {
	case viewer.ScopeAll:
		return nil
	case viewer.ScopeSelf:
	case viewer.ScopeSelfAndSubordinates:
		for _, id := range v.Subordinates {
			owners = append(owners, string(id))
		}
		departments = ids(v.LedDepartments)
	case viewer.ScopeDepartment:
		if v.DepartmentID != "" {
			departments = []any{string(v.DepartmentID)}
		}
	case viewer.ScopeDepartmentTree:
		departments = ids(v.DepartmentTree)
	}
	p := entql.FieldIn("owner_id", owners...)
	if len(departments) > 0 {
		p = entql.Or(p, entql.FieldIn("department_id", departments...))
	}
	return p
}

func ids(in []pulid.ID) []any {
	out := make([]any, len(in))
	for i, id := range in {
		out[i] = string(id)
	}
	return out
}

// QueryRule filters reads to the records the viewer's scope for the read
// permission reaches, and denies viewers without it.
func (d DataScope) QueryRule() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		p, err := d.readPredicate(ctx, v)
		if err != nil {
			return err
		}
		if p != nil {
			f.Where(p)
		}
		return privacy.Allow
	})
}

// readPredicate returns the filter on the records v may read, nil when v
// reads every record of the tenant, or a deny decision when v reads none.
func (d DataScope) readPredicate(ctx context.Context, v *viewer.Viewer) (entql.P, error) {
	var p entql.P
	s, ok := v.ScopeFor(d.Read)
	if ok {
		if p = Predicate(v, s); p == nil {
			return nil, nil
		}
		for _, ext := range []ScopeExtension{d.PoolMembership, d.RecordShares} {
			if ext == nil {
				continue
			}
			if q := ext(ctx, v); q != nil {
				p = entql.Or(p, q)
			}
		}
	}
	if d.Granted != nil {
		q, err := d.Granted(ctx, v)
		if err != nil {
			return nil, err
		}
		switch {
		case q == nil:
		case p == nil:
			p = q
		default:
			p = entql.Or(p, q)
		}
	}
	if p == nil {
		return nil, privacy.Denyf("viewer lacks %s", d.Read)
	}
	return p, nil
}

// OwnedMutation is what the mutation rule needs of an owned record's
// mutation.
type OwnedMutation interface {
	ent.Mutation
	OwnerID() (pulid.ID, bool)
	Client() *ent.Client
}

// MutationRule checks writes: the permission for the operation, the scope
// filter on the rows changed, and that a newly assigned owner lies within
// the viewer's scope.
func (d DataScope) MutationRule() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		permission := d.Update
		switch {
		case m.Op().Is(ent.OpCreate):
			permission = d.Create
		case m.Op().Is(ent.OpDelete | ent.OpDeleteOne), IsSoftDelete(ctx):
			permission = d.Delete
		}
		s, ok := v.ScopeFor(permission)
		if !ok {
			return privacy.Denyf("viewer lacks %s", permission)
		}
		if om, ok := m.(OwnedMutation); ok {
			if owner, set := om.OwnerID(); set && owner != v.UserID {
				if err := ownerInScope(ctx, om.Client(), v, s, owner); err != nil {
					return err
				}
			}
		}
		if m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		p := Predicate(v, s)
		if p == nil {
			return privacy.Allow
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			f.Where(p)
			return privacy.Allow
		}).EvalMutation(ctx, m)
	})
}

// ownerInScope reports, as a BAD_USER_INPUT error, an owner the viewer may
// not assign records to.
func ownerInScope(ctx context.Context, client *ent.Client, v *viewer.Viewer, s viewer.Scope, owner pulid.ID) error {
	bad := apierr.BadInput(apierr.Field("/input/ownerID", "owner_out_of_scope"))
	u, err := client.User.Get(ctx, owner)
	if ent.IsNotFound(err) {
		return apierr.BadInput(apierr.Field("/input/ownerID", "unknown_reference"))
	}
	if err != nil {
		return err
	}
	in := func(list []pulid.ID, id pulid.ID) bool {
		for _, x := range list {
			if x == id {
				return true
			}
		}
		return false
	}
	switch s {
	case viewer.ScopeAll:
		return nil
	case viewer.ScopeSelfAndSubordinates:
		if in(v.Subordinates, owner) || in(v.LedDepartments, u.DepartmentID) {
			return nil
		}
	case viewer.ScopeDepartment:
		if u.DepartmentID == v.DepartmentID {
			return nil
		}
	case viewer.ScopeDepartmentTree:
		if in(v.DepartmentTree, u.DepartmentID) {
			return nil
		}
	}
	return bad
}
