package forms

import (
	"errors"
	"slices"
	"testing"
)

// A personal format anywhere below a top-level property seals the whole
// property, and a computed field in clear may not be made of personal ones.
func TestPersonalValuesBelowTheTopLevel(t *testing.T) {
	d := newTestDesigner(t)
	f, err := d.Check([]byte(`{
		"schema": {"type": "object", "properties": {
			"lines": {"type": "array", "items": {"type": "object", "properties": {"mobile": {"type": "string", "format": "cn_mobile"}}}},
			"note": {"type": "string"}
		}},
		"plugins": ["format.cn_mobile"]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.SensitiveFields(), []string{"lines"}) {
		t.Fatalf("sensitive %v", f.SensitiveFields())
	}
	_, err = d.Check([]byte(`{
		"schema": {"type": "object", "properties": {
			"id_card": {"type": "string", "format": "cn_resident_id"},
			"copy": {"type": "string", "readOnly": true}
		}},
		"rules": [{"kind": "compute", "field": "copy", "expr": "has(data.id_card) ? data.id_card : ''"}],
		"plugins": ["format.cn_resident_id"]
	}`))
	var de *DefinitionError
	if !errors.As(err, &de) || len(de.Problems) != 1 || de.Problems[0].Pointer != "/rules/0/expr" ||
		de.Problems[0].MessageKey != "form.definition.sensitiveCompute" {
		t.Fatalf("compute from a personal field: %v", err)
	}
}
