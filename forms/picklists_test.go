package forms

import (
	"reflect"
	"testing"
)

func TestPicklistValues(t *testing.T) {
	d, err := NewDesigner(installFormats(t), NewCompiler(CompilerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	form, err := d.Check([]byte(`{
		"schema": {"type": "object", "properties": {
			"skills": {"x-field": "field.multi_select", "x-config": {"picklist": "skills"}},
			"category": {"x-field": "field.select", "x-config": {"picklist": "ticket_category"}},
			"site": {"type": "object", "properties": {
				"kind": {"x-field": "field.select", "x-config": {"picklist": "site_kind"}},
				"name": {"type": "string"}
			}},
			"title": {"x-field": "field.text"}
		}},
		"plugins": ["field.multi_select", "field.select", "field.text"]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	record := map[string]any{
		"skills":   []any{"go", "sql"},
		"category": "billing",
		"site":     map[string]any{"kind": "branch", "name": "Pudong"},
		"title":    "not a key",
	}
	all := []PicklistValue{
		{Pointer: "/category", Kind: "ticket_category", Key: "billing"},
		{Pointer: "/site/kind", Kind: "site_kind", Key: "branch"},
		{Pointer: "/skills/0", Kind: "skills", Key: "go"},
		{Pointer: "/skills/1", Kind: "skills", Key: "sql"},
	}
	if got := form.PicklistValues(record, form.Fields()); !reflect.DeepEqual(got, all) {
		t.Errorf("all fields: %+v\nwant %+v", got, all)
	}
	if got := form.PicklistValues(record, []string{"site", "title"}); !reflect.DeepEqual(got, all[1:2]) {
		t.Errorf("site and title only: %+v, want the site's kind", got)
	}
	if got := form.PicklistValues(map[string]any{"category": 3, "site": "flat"}, form.Fields()); len(got) != 0 {
		t.Errorf("values of the wrong shape: %+v, want none (the validator reports them)", got)
	}
}
