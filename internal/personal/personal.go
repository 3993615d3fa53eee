// Package personal owns finding records by personal values without reading
// them: normalising a value the way every blind index does, and computing
// the index a record carries for it. The seal hook, GraphQL filters and
// quick search all go through it, so a phone number written three ways
// finds the same record.
package personal

import (
	"context"
	"fmt"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/vault"
)

// Kind names an index space; fields of one kind share it.
type Kind string

// The indexed kinds of personal value.
const (
	Phone  Kind = "phone"
	Email  Kind = "email"
	WeChat Kind = "wechat"
)

// Normalize returns the canonical form of value for kind; phone numbers
// without a calling code belong to phoneRegion. It reports false for a
// value that is not of the kind.
func Normalize(kind Kind, value, phoneRegion string) (string, bool) {
	switch kind {
	case Phone:
		return normalize.Phone(value, phoneRegion)
	case Email:
		return normalize.Email(value)
	case WeChat:
		return normalize.WeChat(value)
	}
	return "", false
}

// Index returns the blind index of a normalised value of kind in a tenant.
func Index(ctx context.Context, v *vault.Vault, tenantID pulid.ID, kind Kind, normalized string) ([]byte, error) {
	idx, err := v.BlindIndex(ctx, string(tenantID), string(kind), normalize.Version, normalized)
	if err != nil {
		return nil, fmt.Errorf("computing %s index: %w", kind, err)
	}
	return idx, nil
}

// PhoneRegion returns the calling code a tenant's phone numbers default to.
func PhoneRegion(ctx context.Context, client *ent.Client, tenantID pulid.ID) (string, error) {
	t, err := client.Tenant.Query().Where(tenant.ID(tenantID)).Select(tenant.FieldSettings).Only(ctx)
	if err != nil {
		return "", fmt.Errorf("reading tenant settings: %w", err)
	}
	return t.Settings.WithDefaults().PhoneRegion, nil
}

// QueryIndex normalises a value someone searches for and returns its blind
// index, or false when the value cannot be of the kind (nothing matches).
func QueryIndex(ctx context.Context, client *ent.Client, v *vault.Vault, tenantID pulid.ID, kind Kind, raw string) ([]byte, bool, error) {
	region := ""
	if kind == Phone {
		var err error
		if region, err = PhoneRegion(ctx, client, tenantID); err != nil {
			return nil, false, err
		}
	}
	norm, ok := Normalize(kind, normalize.Text(raw), region)
	if !ok {
		return nil, false, nil
	}
	idx, err := Index(ctx, v, tenantID, kind, norm)
	return idx, err == nil, err
}
