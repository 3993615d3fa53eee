package outbox

import (
	"context"
	"fmt"
	"slices"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/webhooks"
)

// watched maps the entity types whose changes are webhook events to their
// event prefix and table.
var watched = map[string]struct{ prefix, table string }{
	"Customer": {"customer", "customers"},
	"Contact":  {"contact", "contacts"},
	"FollowUp": {"followup", "follow_ups"},
}

// bookkeeping are fields whose change alone is no event.
var bookkeeping = []string{"updated_at", "data_key", "last_follow_up_at"}

// Install adds the hook that records customer, contact and follow-up
// changes as webhook events in the transaction of the change. Install it on
// the store's client once; transactions inherit it.
func (s *Service) Install(client *ent.Client) {
	h := s.eventHook()
	client.Customer.Use(h)
	client.Contact.Use(h)
	client.FollowUp.Use(h)
}

type idsMutation interface {
	ID() (pulid.ID, bool)
	IDs(ctx context.Context) ([]pulid.ID, error)
	Tx() (*ent.Tx, error)
}

func (s *Service) eventHook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			w, ok := watched[m.Type()]
			im, isIDs := m.(idsMutation)
			op := m.Op()
			// The watched entities are soft-deleted: a delete comes back
			// through the client as an update that sets deleted_at, and
			// that update is the event.
			if !ok || !isIDs || op.Is(ent.OpDelete|ent.OpDeleteOne) {
				return next.Mutate(ctx, m)
			}
			var changed []string
			for _, f := range append(m.Fields(), m.ClearedFields()...) {
				if !slices.Contains(bookkeeping, f) {
					changed = append(changed, f)
				}
			}
			slices.Sort(changed)
			name := w.prefix + ".updated"
			switch {
			case op.Is(ent.OpCreate):
				name = w.prefix + ".created"
			case slices.Contains(changed, "deleted_at"):
				if v, _ := m.Field("deleted_at"); v != nil {
					name, changed = w.prefix+".deleted", nil
				}
			}
			if name == w.prefix+".updated" && len(changed) == 0 {
				return next.Mutate(ctx, m)
			}
			// Bulk changes name their rows before they run (afterwards the
			// predicates may match nothing).
			var ids []pulid.ID
			if op.Is(ent.OpUpdate) {
				var err error
				if ids, err = im.IDs(ctx); err != nil {
					return nil, err
				}
			}
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if id, ok := im.ID(); ok && !op.Is(ent.OpUpdate) {
				ids = []pulid.ID{id}
			}
			if len(ids) == 0 {
				return v, nil
			}
			tx, err := im.Tx()
			if err != nil {
				return nil, errNoTx
			}
			if name != w.prefix+".updated" {
				changed = nil
			}
			for _, id := range ids {
				tenantID, err := tenantOf(ctx, tx, w.table, id)
				if err != nil {
					return nil, err
				}
				err = s.EmitTx(ctx, tx, Event{TenantID: tenantID, Name: name,
					Subject: webhooks.Subject{Type: m.Type(), ID: string(id), ChangedFields: changed}})
				if err != nil {
					return nil, err
				}
			}
			return v, nil
		})
	}
}

// tenantOf returns the tenant of a row: the viewer's, or for the system
// context of every tenant, the row's own.
func tenantOf(ctx context.Context, tx *ent.Tx, table string, id pulid.ID) (pulid.ID, error) {
	if v := viewer.FromContext(ctx); v != nil && v.TenantID != "" {
		return v.TenantID, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT tenant_id FROM "+table+" WHERE id = $1", string(id))
	if err != nil {
		return "", fmt.Errorf("outbox: tenant of %s: %w", id, err)
	}
	defer rows.Close()
	var tenantID string
	if rows.Next() {
		if err := rows.Scan(&tenantID); err != nil {
			return "", fmt.Errorf("outbox: tenant of %s: %w", id, err)
		}
	}
	return pulid.ID(tenantID), rows.Err()
}
