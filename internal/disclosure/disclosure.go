// Package disclosure owns the one policy point that decides how a personal
// value is shown to a viewer: in clear, masked, or not at all. Every read
// path that returns personal data (GraphQL today; exports, duplicate views
// and audit views later) asks it, and it alone opens ciphertexts for
// display.
package disclosure

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/custos-crm/custos/ent/schema/customfields"

	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/mask"
	"github.com/custos-crm/custos/internal/vault"
)

// Decision is how a value is shown.
type Decision int

// The decisions.
const (
	Clear Decision = iota
	Masked
	Hidden
)

// Policy decides, per viewer and field, how values are shown. Field names
// are "<Entity>.<field>", such as "Customer.mobile".
type Policy interface {
	Decide(ctx context.Context, v *viewer.Viewer, field string) Decision
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(ctx context.Context, v *viewer.Viewer, field string) Decision

// Decide calls f.
func (f PolicyFunc) Decide(ctx context.Context, v *viewer.Viewer, field string) Decision {
	return f(ctx, v, field)
}

// ClearToReaders shows every value in clear to whoever may read the record:
// the policy of this release, until field permissions arrive.
func ClearToReaders() Policy {
	return PolicyFunc(func(context.Context, *viewer.Viewer, string) Decision { return Clear })
}

// kinds tells how each personal field is masked.
var kinds = map[string]mask.Kind{
	"mobile": mask.KindPhone, "telephone": mask.KindPhone, "email": mask.KindEmail,
	"wechat": mask.KindWeChat, "address": mask.KindText, "notes": mask.KindText, "content": mask.KindText,
	"name": mask.KindText, "title": mask.KindText, "filename": mask.KindText,
}

// Discloser opens personal values for display under a Policy.
type Discloser struct {
	vault  *vault.Vault
	policy Policy
}

// New returns a Discloser.
func New(v *vault.Vault, p Policy) *Discloser { return &Discloser{vault: v, policy: p} }

// Text returns field of the record ref as the viewer in ctx may see it: nil
// when empty or hidden. column is the column the value was sealed for
// (usually field itself).
func (d *Discloser) Text(ctx context.Context, ref vault.Ref, recordKey []byte, field, column string, value secret.Text) (*string, error) {
	ct := value.Ciphertext()
	if len(ct) == 0 {
		return nil, nil
	}
	f := Field{table: ref.Table, name: field, column: column, policyName: ref.Table + "." + field, kind: kindOf(field)}
	return d.Reveal(ctx, &f, ref.TenantID, ref.RowID, recordKey, ct)
}

// Field is a personal field of one entity, described once so that reading
// it builds no strings: the name the policy decides on ("<Entity>.<field>"),
// the column its values are sealed for and how they are masked.
type Field struct {
	table, name, column, policyName string
	kind                            mask.Kind
}

// NewField describes field of table (an entity name such as "Customer"),
// sealed for column.
func NewField(table, field, column string) *Field {
	return &Field{table: table, name: field, column: column, policyName: table + "." + field, kind: kindOf(field)}
}

// Reveal returns field f of the record (tenantID, rowID), sealed in
// ciphertext under the record's wrapped key, as the viewer in ctx may see
// it: nil when empty or hidden.
//
// GraphQL resolves each personal field through Reveal in a goroutine of its
// own, whose stack starts small (4 KiB as a rule), and copying a stack that
// outgrows it costs more than opening the value. So the frames on this path
// are kept small: no strings are built, and errors are wrapped apart.
func (d *Discloser) Reveal(ctx context.Context, f *Field, tenantID, rowID string, recordKey, ciphertext []byte) (*string, error) {
	if len(ciphertext) == 0 {
		return nil, nil
	}
	decision := d.policy.Decide(ctx, viewer.FromContext(ctx), f.policyName)
	if decision == Hidden {
		return nil, nil
	}
	plain, err := d.vault.Open(ctx, vault.Ref{TenantID: tenantID, Table: f.table, RowID: rowID}, recordKey, f.column, ciphertext)
	if err != nil {
		return nil, openError(f, err)
	}
	s := string(plain)
	if decision == Masked {
		s = mask.Mask(f.kind, s)
	}
	return &s, nil
}

// openError wraps a failure to open a value of f.
//
//go:noinline
func openError(f *Field, err error) error {
	return fmt.Errorf("opening %s.%s: %w", f.table, f.name, err)
}

// Decide returns the decision for a plain (unencrypted) value, for read
// paths that show values that are not sealed, such as audit values of
// non-personal fields.
func (d *Discloser) Decide(ctx context.Context, table, field string) Decision {
	return d.policy.Decide(ctx, viewer.FromContext(ctx), table+"."+field)
}

// MaskPlain applies decision to a plain value.
func MaskPlain(decision Decision, field, value string) *string {
	switch decision {
	case Hidden:
		return nil
	case Masked:
		s := mask.Mask(kindOf(field), value)
		return &s
	}
	return &value
}

func kindOf(field string) mask.Kind {
	if k, ok := kinds[field]; ok {
		return k
	}
	return mask.KindText
}

// CustomFields returns a record's stored custom fields as the viewer in ctx
// may see them: plain values as stored, sealed ones opened, masked or left
// out by the policy (field "<Entity>.customFields.<key>"). formats names
// each field's JSON Schema format, which picks how a value is masked.
func (d *Discloser) CustomFields(ctx context.Context, ref vault.Ref, recordKey []byte, stored map[string]any, formats map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(stored))
	v := viewer.FromContext(ctx)
	for k, val := range stored {
		b64, sealed := customfields.IsSealed(val)
		if !sealed {
			out[k] = val
			continue
		}
		decision := d.policy.Decide(ctx, v, ref.Table+".customFields."+k)
		if decision == Hidden {
			continue
		}
		ct, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("custom field %s: %w", k, err)
		}
		plain, err := d.vault.Open(ctx, ref, recordKey, customfields.Column(k), ct)
		if err != nil {
			return nil, fmt.Errorf("opening %s.customFields.%s: %w", ref.Table, k, err)
		}
		var value any
		if err := json.Unmarshal(plain, &value); err != nil {
			return nil, fmt.Errorf("custom field %s: %w", k, err)
		}
		if decision == Masked {
			text, ok := value.(string)
			if !ok {
				text = string(plain)
			}
			kind := mask.KindText
			switch formats[k] {
			case "cn_mobile":
				kind = mask.KindPhone
			case "email":
				kind = mask.KindEmail
			}
			value = mask.Mask(kind, text)
		}
		out[k] = value
	}
	return out, nil
}
