package schema

import (
	"context"
	"fmt"

	"entgo.io/ent"

	gen "github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/contact"
	"github.com/custos-crm/custos/ent/hook"
	entpicklist "github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// picklistHook checks that fields holding picklist keys (field → kind) name
// an active option of the tenant's list.
func picklistHook(kinds map[string]string) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			var bad []apierr.FieldError
			for f, kind := range kinds {
				v, ok := m.Field(f)
				if !ok {
					continue
				}
				key, _ := v.(string)
				if key == "" {
					continue
				}
				c, err := clientOf(m)
				if err != nil {
					return nil, err
				}
				tenantID, err := mutationTenant(ctx, m)
				if err != nil {
					return nil, err
				}
				pl, err := c.Picklist.Query().
					Where(entpicklist.TenantID(tenantID), entpicklist.KindEQ(choices.Kind(kind))).
					Only(ctx)
				if err != nil && !gen.IsNotFound(err) {
					return nil, fmt.Errorf("reading picklist %s: %w", kind, err)
				}
				if pl == nil || !choices.Allows(pl.Options, key) {
					bad = append(bad, apierr.Field("/input/"+f, "unknown_option", "value", key))
				}
			}
			if len(bad) > 0 {
				return nil, apierr.BadInput(bad...)
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)
}

// picklistOptionsHook validates a picklist's options.
func picklistOptionsHook(next ent.Mutator) ent.Mutator {
	return hook.PicklistFunc(func(ctx context.Context, m *gen.PicklistMutation) (ent.Value, error) {
		if opts, ok := m.Options(); ok {
			var bad []apierr.FieldError
			for _, p := range choices.Check(opts) {
				bad = append(bad, apierr.Field("/input/options"+p.Pointer, p.MessageKey))
			}
			if len(bad) > 0 {
				return nil, apierr.BadInput(bad...)
			}
		}
		return next.Mutate(ctx, m)
	})
}

// followUpHook sets the author from the viewer, checks that the contact
// belongs to the follow-up's customer, and moves the customer's last
// follow-up time.
func followUpHook(next ent.Mutator) ent.Mutator {
	return hook.FollowUpFunc(func(ctx context.Context, m *gen.FollowUpMutation) (ent.Value, error) {
		c := m.Client()
		if m.Op().Is(ent.OpCreate) {
			if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
				m.SetAuthorID(v.UserID)
			}
		}
		if contactID, ok := m.ContactID(); ok {
			customerID, ok := m.CustomerID()
			if !ok && m.Op().Is(ent.OpUpdateOne) {
				old, err := m.OldCustomerID(ctx)
				if err != nil {
					return nil, err
				}
				customerID = old
			}
			n, err := c.Contact.Query().Where(contact.ID(contactID), contact.CustomerID(customerID)).Count(ctx)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, apierr.BadInput(apierr.Field("/input/contactID", "contact_of_other_customer"))
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil || !m.Op().Is(ent.OpCreate) {
			return v, err
		}
		customerID, _ := m.CustomerID()
		if err := touchCustomer(ctx, c, customerID); err != nil {
			return nil, err
		}
		return v, nil
	})
}

// touchCustomer sets a customer's last follow-up time to the clock's now.
// Whoever may add a follow-up may update the customer, so this runs under
// the viewer's own rules.
func touchCustomer(ctx context.Context, c *gen.Client, id pulid.ID) error {
	err := c.Customer.UpdateOneID(id).SetLastFollowUpAt(c.Clock.Now().UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("updating last follow-up time: %w", err)
	}
	return nil
}
