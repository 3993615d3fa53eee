package forms

import (
	"encoding/json"
	"strconv"
)

// maxSelected bounds how many options a multi-select configuration may allow.
const maxSelected = 1000

// selectField is "field.select" (one option, a string) and
// "field.multi_select" (distinct options, an array of strings).
// Configuration: {"picklist": "customer_level"}, required; for multi-select
// also {"maxItems": n}. The schema names the picklist in "x-picklist" for
// the caller that checks values against the tenant's options.
type selectField struct {
	id    string
	multi bool
}

// ID implements Plugin.
func (f selectField) ID() string { return f.id }

// Schema implements FieldType.
func (f selectField) Schema(config json.RawMessage) (json.RawMessage, error) {
	var (
		picklist string
		maxItems *int
	)
	fields := []configField{{name: "picklist", dst: &picklist, required: true}}
	if f.multi {
		fields = append(fields, configField{name: "maxItems", dst: &maxItems})
	}
	if err := decodeConfig(f.id, config, fields...); err != nil {
		return nil, err
	}
	if !isPluginName(picklist) || len(picklist) > 64 {
		return nil, &ConfigError{Plugin: f.id, Pointer: "/picklist", Reason: "is not a picklist name ([a-z][a-z0-9_]*)"}
	}
	if !f.multi {
		return marshalSchema(f.id, map[string]any{"type": "string", "x-picklist": picklist})
	}
	s := map[string]any{
		"type":        "array",
		"items":       map[string]any{"type": "string"},
		"uniqueItems": true,
		"x-picklist":  picklist,
	}
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > maxSelected {
			return nil, &ConfigError{Plugin: f.id, Pointer: "/maxItems", Reason: "must be between 1 and " + strconv.Itoa(maxSelected)}
		}
		s["maxItems"] = *maxItems
	}
	return marshalSchema(f.id, s)
}

var _ FieldType = selectField{}
