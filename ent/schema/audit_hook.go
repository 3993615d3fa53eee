package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent"

	gen "github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/vault"
)

// auditSkip lists columns never copied into events: keys and derived
// values.
// Sign-in bookkeeping (failed attempts, lock counters, the last TOTP step)
// is recorded by the sign-in events themselves.
var auditSkip = []string{
	"data_key", "updated_at", "created_at", "recovery_codes", "name_tokens",
	"failed_logins", "lock_count", "totp_last_step", "last_used_at", "sign_count", "backup_state",
}

// auditHook writes one audit event per changed row in the mutation's own
// transaction, after the change succeeded. Values of sensitive fields
// (free text such as names) are sealed under the record's data key;
// encrypted columns are copied as the ciphertexts they already are.
func auditHook(entity string, sensitive ...string) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			if onlyBookkeeping(m) {
				return next.Mutate(ctx, m)
			}
			txm, ok := m.(interface{ Tx() (*gen.Tx, error) })
			if !ok {
				return nil, fmt.Errorf("schema: mutation %T has no transaction", m)
			}
			tx, err := txm.Tx()
			if err != nil {
				return nil, audit.ErrNoTx
			}
			c, err := clientOf(m)
			if err != nil {
				return nil, err
			}
			rows, before, err := auditTargets(ctx, m)
			if err != nil {
				return nil, err
			}
			value, err := next.Mutate(ctx, m)
			if err != nil {
				return nil, err
			}
			if m.Op().Is(ent.OpCreate) {
				id, _ := m.(interface{ ID() (pulid.ID, bool) }).ID()
				rows = []pulid.ID{id}
			}
			action := auditAction(ctx, m)
			for _, id := range rows {
				changes, err := auditChanges(ctx, c, m, entity, id, before, sensitive)
				if err != nil {
					return nil, err
				}
				if action == "update" && len(changes) == 0 {
					continue // only bookkeeping changed
				}
				if err := writeEvent(ctx, tx, m, entity, id, action, changes); err != nil {
					return nil, err
				}
			}
			return value, nil
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)
}

// onlyBookkeeping reports whether an update touches nothing but
// bookkeeping columns, which need no event.
func onlyBookkeeping(m ent.Mutation) bool {
	if !m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
		return false
	}
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		if !slices.Contains(auditSkip, f) {
			return false
		}
	}
	return true
}

// auditTargets returns the rows an update or delete will touch, and the
// old values of a single-row update.
func auditTargets(ctx context.Context, m ent.Mutation) ([]pulid.ID, map[string]ent.Value, error) {
	if m.Op().Is(ent.OpCreate) {
		return nil, nil, nil
	}
	idsm, ok := m.(interface {
		IDs(context.Context) ([]pulid.ID, error)
	})
	if !ok {
		return nil, nil, fmt.Errorf("schema: mutation %T cannot list its rows", m)
	}
	ids, err := idsm.IDs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing changed rows: %w", err)
	}
	if !m.Op().Is(ent.OpUpdateOne) {
		return ids, nil, nil
	}
	before := map[string]ent.Value{}
	for _, f := range m.Fields() {
		if slices.Contains(auditSkip, f) {
			continue
		}
		if old, err := m.OldField(ctx, f); err == nil {
			before[f] = old
		}
	}
	for _, f := range m.ClearedFields() {
		if old, err := m.OldField(ctx, f); err == nil {
			before[f] = old
		}
	}
	return ids, before, nil
}

func auditAction(ctx context.Context, m ent.Mutation) string {
	switch {
	case m.Op().Is(ent.OpCreate):
		return "create"
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne), rule.IsSoftDelete(ctx):
		return "delete"
	}
	return "update"
}

// auditChanges lists what m changed on row id.
func auditChanges(ctx context.Context, c *gen.Client, m ent.Mutation, entity string, id pulid.ID, before map[string]ent.Value, sensitive []string) ([]audit.Change, error) {
	if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
		return nil, nil
	}
	var (
		out    []audit.Change
		key    []byte
		keyErr error
		loaded bool
	)
	recordKey := func() ([]byte, error) {
		if !loaded {
			loaded = true
			if v, ok := m.Field("data_key"); ok {
				key, _ = v.([]byte)
			} else if m.Op().Is(ent.OpUpdateOne) {
				v, err := m.OldField(ctx, "data_key")
				keyErr = err
				key, _ = v.([]byte)
			}
		}
		return key, keyErr
	}
	encode := func(field string, v ent.Value, present bool) (json.RawMessage, string, error) {
		if !present || v == nil {
			return nil, "", nil
		}
		switch t := v.(type) {
		case secret.Text:
			if len(t.Ciphertext()) == 0 {
				return nil, "", nil
			}
			b, err := json.Marshal(t.Ciphertext())
			return b, audit.SealedRecord, err
		case []byte:
			return nil, "", nil // index columns and other derived bytes
		case time.Time:
			v = t.UTC()
		}
		if slices.Contains(sensitive, field) {
			k, err := recordKey()
			if err != nil || len(k) == 0 || c.Vault == nil {
				return nil, "", fmt.Errorf("schema: no data key to seal %s.%s in the audit trail", entity, field)
			}
			// Sealed values are stored as the text a reader will see.
			plain := []byte(fmt.Sprint(v))
			if str, ok := v.(string); ok {
				plain = []byte(str)
			}
			tenantID, err := mutationTenant(ctx, m)
			if err != nil {
				return nil, "", err
			}
			sealed, err := c.Vault.Seal(ctx, vault.Ref{TenantID: string(tenantID), Table: entity, RowID: string(id)}, k, "audit:"+field, plain)
			if err != nil {
				return nil, "", err
			}
			b, err := json.Marshal(sealed)
			return b, audit.SealedAudit, err
		}
		b, err := json.Marshal(v)
		return b, "", err
	}
	fields := append(m.Fields(), m.ClearedFields()...)
	slices.Sort(fields)
	for _, f := range slices.Compact(fields) {
		if slices.Contains(auditSkip, f) || (len(f) > 5 && f[len(f)-5:] == "_bidx") {
			continue
		}
		ch := audit.Change{Field: f}
		if audit.IsSecretField(f) {
			out = append(out, ch) // that it changed, never its value
			continue
		}
		var err error
		after, ok := m.Field(f)
		if ch.After, ch.Sealed, err = encode(f, after, ok); err != nil {
			return nil, err
		}
		old, hadOld := before[f]
		var sealedBefore string
		if ch.Before, sealedBefore, err = encode(f, old, hadOld); err != nil {
			return nil, err
		}
		if ch.Sealed == "" {
			ch.Sealed = sealedBefore
		}
		out = append(out, ch)
	}
	return out, nil
}

// writeEvent inserts one unsealed event.
func writeEvent(ctx context.Context, tx *gen.Tx, m ent.Mutation, entity string, id pulid.ID, action string, changes []audit.Change) error {
	tenantID, err := eventTenant(ctx, m, id)
	if err != nil {
		return err
	}
	return audit.Write(ctx, tx, audit.Event{
		TenantID: tenantID, Category: auditevent.CategoryData, Action: action,
		EntityType: entity, EntityID: id, Changes: changes,
	})
}

// eventTenant returns the tenant an event about row id belongs to.
func eventTenant(ctx context.Context, m ent.Mutation, id pulid.ID) (pulid.ID, error) {
	if m.Type() == "Tenant" {
		return id, nil
	}
	if m.Op().Is(ent.OpCreate | ent.OpUpdateOne | ent.OpDeleteOne) {
		if t, err := mutationTenant(ctx, m); err == nil {
			return t, nil
		}
	}
	if v := viewer.FromContext(ctx); v != nil && v.TenantID != "" {
		return v.TenantID, nil
	}
	return "", fmt.Errorf("schema: bulk change of %s without a tenant in the viewer", m.Type())
}
