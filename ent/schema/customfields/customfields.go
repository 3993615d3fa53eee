// Package customfields owns the seam between the ent hooks of customers and
// contacts and the form builder: the hooks hand a record's custom fields to
// a Processor (implemented by internal/formdefs), which validates them
// against the tenant's active published form for the module, and then seal
// the sensitive ones under the record's key. Stored custom fields are a
// JSON object; a sensitive value is stored as {"$sealed": base64
// ciphertext, "$bidx": base64 blind index when searchable}.
package customfields

import (
	"context"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// Modules whose records carry custom fields.
const (
	ModuleCustomer = "customer"
	ModuleContact  = "contact"
)

// Keys of a sealed value's object.
const (
	SealedKey = "$sealed"
	IndexKey  = "$bidx"
)

// Prepared is a custom-fields document ready to store.
type Prepared struct {
	// VersionID is the form version the record now pins.
	VersionID pulid.ID
	// Data is the validated document with computed values set, in clear.
	Data map[string]any
	// Sensitive lists the top-level fields to seal.
	Sensitive []string
	// Searchable lists the top-level fields equality filters may use.
	Searchable []string
	// Formats maps fields to their JSON Schema format, which picks the
	// normalisation of their blind index (cn_mobile, email).
	Formats map[string]string
}

// Processor validates custom fields.
type Processor interface {
	// Prepare validates data against the tenant's active published form
	// for module, reading the form through client (the mutation's
	// *ent.Client: inside a transaction only the transaction may be
	// used). A tenant without an active form accepts no custom fields.
	// written names the top-level fields the mutation sets; the picklist
	// keys below them must be active options, while keys stored earlier
	// stay valid when their option is deactivated.
	Prepare(ctx context.Context, client any, tenantID pulid.ID, module string, data map[string]any, written []string) (*Prepared, error)
}

// IsSealed reports whether a stored value is a sealed one and returns its
// ciphertext (base64).
func IsSealed(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m[SealedKey].(string)
	return s, ok
}

// Column is the name a sealed custom field is bound to in its ciphertext's
// associated data.
func Column(field string) string { return "custom_fields." + field }
