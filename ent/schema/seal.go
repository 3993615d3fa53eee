package schema

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent"

	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/vault"
)

// errBulkPersonal refuses bulk updates of personal fields: each record has
// its own key.
var errBulkPersonal = errors.New("schema: personal fields can be changed one record at a time only")

// sealHook encrypts the personal fields a mutation sets under the record's
// data key (creating the key with the record) and computes the blind
// indexes of searchable ones from their normalised form.
func sealHook(fields []personalField) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			var (
				plain   = map[string]string{}
				cleared []personalField
				order   []personalField
			)
			for _, f := range fields {
				if v, ok := m.Field(f.name); ok {
					t, _ := v.(secret.Text)
					if s, isPlain := t.Plaintext(); isPlain {
						plain[f.name] = normalize.Text(s)
						order = append(order, f)
					}
				} else if m.FieldCleared(f.name) {
					cleared = append(cleared, f)
				}
			}
			for _, f := range cleared {
				if f.index != noIndex {
					if err := m.ClearField(f.name + "_bidx"); err != nil {
						return nil, err
					}
				}
			}
			// Every record gets its key when it is created, so that the
			// audit trail can seal its free text even before it holds any
			// personal field.
			if len(order) == 0 && !m.Op().Is(ent.OpCreate) {
				return next.Mutate(ctx, m)
			}
			if m.Op().Is(ent.OpUpdate) {
				return nil, errBulkPersonal
			}
			c, err := clientOf(m)
			if err != nil {
				return nil, err
			}
			if c.Vault == nil {
				return nil, errors.New("schema: no vault configured for personal fields")
			}
			ref, key, err := recordKey(ctx, c.Vault, m)
			if err != nil {
				return nil, err
			}
			region := ""
			var bad []apierr.FieldError
			for _, f := range order {
				value := plain[f.name]
				if value == "" {
					if err := clearPersonal(m, f); err != nil {
						return nil, err
					}
					continue
				}
				norm, ok := value, true
				if f.index != noIndex {
					if f.index == phoneIndex && region == "" {
						if region, err = personal.PhoneRegion(ctx, c, pulid.ID(ref.TenantID)); err != nil {
							return nil, err
						}
					}
					norm, ok = personal.Normalize(f.index, value, region)
				}
				if !ok {
					bad = append(bad, apierr.Field("/input/"+f.name, "invalid_format"))
					continue
				}
				sealed, err := c.Vault.Seal(ctx, ref, key, f.name, []byte(value))
				if err != nil {
					return nil, fmt.Errorf("sealing %s: %w", f.name, err)
				}
				if err := m.SetField(f.name, secret.Sealed(sealed)); err != nil {
					return nil, err
				}
				if f.index != noIndex {
					idx, err := personal.Index(ctx, c.Vault, pulid.ID(ref.TenantID), f.index, norm)
					if err != nil {
						return nil, err
					}
					if err := m.SetField(f.name+"_bidx", idx); err != nil {
						return nil, err
					}
				}
			}
			if len(bad) > 0 {
				return nil, apierr.BadInput(bad...)
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)
}

func clearPersonal(m ent.Mutation, f personalField) error {
	if err := m.ClearField(f.name); err != nil {
		return err
	}
	if f.index != noIndex {
		return m.ClearField(f.name + "_bidx")
	}
	return nil
}

// recordKey returns the reference of the record m writes and its wrapped
// data key, creating the key for new records and for old ones without one.
func recordKey(ctx context.Context, v *vault.Vault, m ent.Mutation) (vault.Ref, []byte, error) {
	idm, ok := m.(interface{ ID() (pulid.ID, bool) })
	if !ok {
		return vault.Ref{}, nil, fmt.Errorf("schema: mutation %T has no id", m)
	}
	id, _ := idm.ID()
	tenantID, err := mutationTenant(ctx, m)
	if err != nil {
		return vault.Ref{}, nil, err
	}
	ref := vault.Ref{TenantID: string(tenantID), Table: m.Type(), RowID: string(id)}
	var key []byte
	// A key another hook created for this mutation is the record's key.
	if v, ok := m.Field("data_key"); ok {
		key, _ = v.([]byte)
	}
	if len(key) == 0 && m.Op().Is(ent.OpUpdateOne) {
		old, err := m.OldField(ctx, "data_key")
		if err != nil {
			return ref, nil, fmt.Errorf("reading data key: %w", err)
		}
		key, _ = old.([]byte)
	}
	if len(key) == 0 {
		if key, err = v.NewRecordKey(ctx, ref); err != nil {
			return ref, nil, fmt.Errorf("creating data key: %w", err)
		}
		if err := m.SetField("data_key", key); err != nil {
			return ref, nil, err
		}
	}
	return ref, key, nil
}

// mutationTenant returns the tenant of the single record m creates or
// updates.
func mutationTenant(ctx context.Context, m ent.Mutation) (pulid.ID, error) {
	if m.Type() == "Tenant" {
		id, _ := m.(interface{ ID() (pulid.ID, bool) }).ID()
		return id, nil
	}
	if v, ok := m.Field("tenant_id"); ok {
		return v.(pulid.ID), nil
	}
	if m.Op().Is(ent.OpUpdateOne) {
		v, err := m.OldField(ctx, "tenant_id")
		if err != nil {
			return "", fmt.Errorf("reading tenant: %w", err)
		}
		return v.(pulid.ID), nil
	}
	return "", fmt.Errorf("schema: cannot tell the tenant of %s %s", m.Type(), m.Op())
}
