package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// CustomerScope returns how customers are guarded.
func CustomerScope() DataScope {
	return DataScope{
		Read:   viewer.PermCustomerRead,
		Create: viewer.PermCustomerCreate,
		Update: viewer.PermCustomerUpdate,
		Delete: viewer.PermCustomerDelete,
	}
}

// ChildScope guards records that belong to a customer (contacts,
// follow-ups, attachments): they are visible exactly when their customer
// is, and may be written by whoever may update the customer.
type ChildScope struct {
	Parent DataScope
}

// CustomerChild returns the scope of records that belong to a customer.
func CustomerChild() ChildScope { return ChildScope{Parent: CustomerScope()} }

// parentPredicate returns the predicate on the customer edge for
// permission, or an error when the viewer lacks it.
func (c ChildScope) parentPredicate(ctx context.Context, v *viewer.Viewer, permission string) (entql.P, error) {
	s, ok := v.ScopeFor(permission)
	if !ok {
		return nil, privacy.Denyf("viewer lacks %s", permission)
	}
	live := entql.FieldNil(customer.FieldDeletedAt)
	p := Predicate(v, s)
	if p == nil {
		return live, nil
	}
	for _, ext := range []ScopeExtension{c.Parent.PoolMembership, c.Parent.RecordShares} {
		if ext == nil {
			continue
		}
		if q := ext(ctx, v); q != nil {
			p = entql.Or(p, q)
		}
	}
	return entql.And(live, p), nil
}

// QueryRule filters reads to children of customers the viewer can read.
func (c ChildScope) QueryRule() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		p, err := c.parentPredicate(ctx, v, c.Parent.Read)
		if err != nil {
			return err
		}
		f.Where(entql.HasEdgeWith("customer", p))
		return privacy.Allow
	})
}

// MutationRule lets viewers write children of customers they may update.
// A create names its customer, which must be such a customer.
func (c ChildScope) MutationRule() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		p, err := c.parentPredicate(ctx, v, c.Parent.Update)
		if err != nil {
			return err
		}
		if m.Op().Is(ent.OpCreate) {
			cm, ok := m.(interface {
				CustomerID() (pulid.ID, bool)
				Client() *ent.Client
			})
			if !ok {
				return privacy.Denyf("unexpected mutation type %T", m)
			}
			id, set := cm.CustomerID()
			if !set {
				return apierr.BadInput(apierr.Field("/input/customerID", "required"))
			}
			q := cm.Client().Customer.Query().Where(customer.ID(id))
			q.Filter().Where(p)
			ok, err := q.Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return apierr.BadInput(apierr.Field("/input/customerID", "unknown_reference"))
			}
			return privacy.Allow
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			f.Where(entql.HasEdgeWith("customer", p))
			return privacy.Allow
		}).EvalMutation(ctx, m)
	})
}

type auditWriteKey struct{}

// NewAuditWriteContext marks ctx as the audit hook writing events. Only the
// audit hook may call it.
func NewAuditWriteContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditWriteKey{}, true)
}

// AllowAuditWrite lets the audit hook create events; nothing else writes
// them, and nothing updates or deletes them.
func AllowAuditWrite() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if ok, _ := ctx.Value(auditWriteKey{}).(bool); ok && m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Denyf("audit events are written only by the audit hook")
	})
}
