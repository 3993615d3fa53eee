package schema

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	gen "github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/schema/collect"
	"github.com/custos-crm/custos/ent/schema/customfields"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/vault"
)

// identifier is a key admins choose: a letter, then letters, digits and
// underscores.
var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// frozenVersionHook keeps published versions frozen, for form and workflow
// versions alike: only a draft's document changes; a draft may be
// published and a published version retired, and nothing else; only drafts
// are deleted.
var frozenVersionHook = hook.On(func(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if m.Op().Is(ent.OpUpdate | ent.OpDelete) {
			return nil, errors.New("schema: versions change one at a time")
		}
		oldValue, err := m.OldField(ctx, "state")
		if err != nil {
			return nil, err
		}
		old := fmt.Sprint(oldValue)
		if m.Op().Is(ent.OpDeleteOne) {
			if old != "draft" {
				return nil, apierr.BadInput(apierr.Field("/id", "form_version_frozen"))
			}
			return next.Mutate(ctx, m)
		}
		if _, changes := m.Field("document"); changes && old != "draft" {
			return nil, apierr.BadInput(apierr.Field("/input/document", "form_version_frozen"))
		}
		if v, ok := m.Field("state"); ok {
			s := fmt.Sprint(v)
			allowed := s == old || (old == "draft" && s == "published") || (old == "published" && s == "retired")
			if !allowed {
				return nil, apierr.BadInput(apierr.Field("/state", "invalid"))
			}
		}
		return next.Mutate(ctx, m)
	})
}, ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne)

// CustomFieldsMixin gives customers and contacts custom fields: a JSON
// document validated against the tenant's active form for the module and
// the form version it was written with.
type CustomFieldsMixin struct {
	mixin.Schema
	module string
}

// Fields returns custom_fields and custom_form_version_id.
func (CustomFieldsMixin) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("custom_fields", map[string]any{}).Optional().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipOrderField)),
		field.String("custom_form_version_id").GoType(pulid.ID("")).Optional().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}

// Annotations names the columns the customFields resolver of customers and
// contacts reads, so that a page selecting it loads no other encrypted
// column. Tickets and projects are left out on purpose: their resolver also
// reads the workflow version and state to hide fields, and without the
// annotation entgql loads their whole row.
func (m CustomFieldsMixin) Annotations() []schema.Annotation {
	if m.module != "customer" && m.module != "contact" {
		return nil
	}
	return []schema.Annotation{
		collect.Field("customFields", "custom_fields", "custom_form_version_id", "data_key", "tenant_id"),
	}
}

// Hooks validates and seals custom fields.
func (m CustomFieldsMixin) Hooks() []ent.Hook {
	return []ent.Hook{customFieldsHook(m.module)}
}

// customFieldsHook hands the custom fields a mutation sets to the form
// processor and stores what it returns, sensitive values sealed under the
// record's key. An update merges the given fields into the stored ones (a
// null value removes a field) and validates the result as a whole.
func customFieldsHook(module string) ent.Hook {
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, ok := m.Field("custom_fields")
			cleared := m.FieldCleared("custom_fields")
			switch {
			case ok:
			case cleared, m.Op().Is(ent.OpCreate):
				// A new record without custom fields, or cleared ones,
				// must still satisfy the form (its required fields).
				v = map[string]any{}
			default:
				return next.Mutate(ctx, m)
			}
			if m.Op().Is(ent.OpUpdate) {
				return nil, errors.New("schema: custom fields change one record at a time")
			}
			given, _ := v.(map[string]any)
			c, err := clientOf(m)
			if err != nil {
				return nil, err
			}
			if c.Forms == nil || c.Vault == nil {
				if !ok {
					// Tools that run without forms (bootstrap, the demo
					// seed) write records without custom fields.
					return next.Mutate(ctx, m)
				}
				return nil, errors.New("schema: no form processor configured for custom fields")
			}
			tenantID, err := mutationTenant(ctx, m)
			if err != nil {
				return nil, err
			}
			ref, key, err := recordKey(ctx, c.Vault, m)
			if err != nil {
				return nil, err
			}
			data := map[string]any{}
			if m.Op().Is(ent.OpUpdateOne) && !cleared {
				old, err := m.OldField(ctx, "custom_fields")
				if err != nil {
					return nil, err
				}
				stored, _ := old.(map[string]any)
				if data, err = OpenCustomFields(ctx, c.Vault, ref, key, stored); err != nil {
					return nil, err
				}
			}
			var written []string
			for k, val := range given {
				if val == nil {
					delete(data, k)
				} else {
					data[k] = val
					written = append(written, k)
				}
			}
			p, err := c.Forms.Prepare(ctx, c, tenantID, module, data, written)
			if err != nil {
				return nil, err
			}
			stored, err := sealCustomFields(ctx, c, ref, key, p)
			if err != nil {
				return nil, err
			}
			if err := m.SetField("custom_fields", stored); err != nil {
				return nil, err
			}
			if err := m.SetField("custom_form_version_id", p.VersionID); err != nil {
				return nil, err
			}
			return next.Mutate(ctx, m)
		})
	}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)
}

// sealCustomFields returns p's document with its sensitive values sealed
// and, when searchable, blind-indexed.
func sealCustomFields(ctx context.Context, c *gen.Client, ref vault.Ref, key []byte, p *customfields.Prepared) (map[string]any, error) {
	out := make(map[string]any, len(p.Data))
	for k, val := range p.Data {
		if !slices.Contains(p.Sensitive, k) {
			out[k] = val
			continue
		}
		plain, err := json.Marshal(val)
		if err != nil {
			return nil, err
		}
		sealed, err := c.Vault.Seal(ctx, ref, key, customfields.Column(k), plain)
		if err != nil {
			return nil, fmt.Errorf("sealing custom field %s: %w", k, err)
		}
		obj := map[string]any{customfields.SealedKey: base64.StdEncoding.EncodeToString(sealed)}
		if slices.Contains(p.Searchable, k) {
			s, _ := val.(string)
			idx, err := CustomFieldIndex(ctx, c, pulid.ID(ref.TenantID), k, p.Formats[k], s)
			if err != nil {
				return nil, err
			}
			if idx != "" {
				obj[customfields.IndexKey] = idx
			}
		}
		out[k] = obj
	}
	return out, nil
}

// CustomFieldIndex returns the blind index of a searchable sensitive custom
// field's value, normalised by its format, or "" when the value cannot be
// indexed (it then matches nothing). Searches compute it the same way.
func CustomFieldIndex(ctx context.Context, c *gen.Client, tenantID pulid.ID, field, format, value string) (string, error) {
	kind := personal.Kind("custom." + field)
	norm := normalize.Text(value)
	switch format {
	case "cn_resident_id", "uscc":
		norm = strings.ToUpper(norm)
	case "cn_mobile":
		region, err := personal.PhoneRegion(ctx, c, tenantID)
		if err != nil {
			return "", err
		}
		n, ok := personal.Normalize(personal.Phone, value, region)
		if !ok {
			return "", nil
		}
		norm = n
	case "email":
		n, ok := personal.Normalize(personal.Email, value, "")
		if !ok {
			return "", nil
		}
		norm = n
	}
	idx, err := personal.Index(ctx, c.Vault, tenantID, kind, norm)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(idx), nil
}

// OpenCustomFields returns a stored custom-fields document with its sealed
// values opened.
func OpenCustomFields(ctx context.Context, v *vault.Vault, ref vault.Ref, key []byte, stored map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(stored))
	for k, val := range stored {
		b64, sealed := customfields.IsSealed(val)
		if !sealed {
			out[k] = val
			continue
		}
		ct, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("custom field %s: %w", k, err)
		}
		plain, err := v.Open(ctx, ref, key, customfields.Column(k), ct)
		if err != nil {
			return nil, fmt.Errorf("opening custom field %s: %w", k, err)
		}
		var value any
		if err := json.Unmarshal(plain, &value); err != nil {
			return nil, fmt.Errorf("custom field %s: %w", k, err)
		}
		out[k] = value
	}
	return out, nil
}
