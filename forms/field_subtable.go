package forms

import (
	"encoding/json"
	"sort"
	"strconv"
)

// Limits of a subtable.
const (
	defaultSubtableRows = 200
	maxSubtableRows     = 1000
)

// subtableField is "field.subtable": rows of the same columns, an array of
// objects. Configuration: {"columns": {"name": <schema>, …}} (required; keys
// are identifiers, values JSON Schema objects, checked when the form
// compiles), {"required": ["name", …]} naming columns every row fills in,
// and {"maxRows": n} (default 200, at most 1000). Rows may hold no other
// keys.
type subtableField struct{}

// ID implements Plugin.
func (subtableField) ID() string { return "field.subtable" }

// Schema implements FieldType.
func (f subtableField) Schema(config json.RawMessage) (json.RawMessage, error) {
	var (
		columns  map[string]json.RawMessage
		required []string
		maxRows  = defaultSubtableRows
	)
	err := decodeConfig(f.ID(), config,
		configField{name: "columns", dst: &columns, required: true},
		configField{name: "required", dst: &required},
		configField{name: "maxRows", dst: &maxRows},
	)
	if err != nil {
		return nil, err
	}
	if len(columns) == 0 {
		return nil, &ConfigError{Plugin: f.ID(), Pointer: "/columns", Reason: "names no column"}
	}
	props := make(map[string]any, len(columns))
	for _, name := range sortedRawKeys(columns) {
		ptr := childPointer("/columns", name)
		if !isIdentifier(name) {
			return nil, &ConfigError{Plugin: f.ID(), Pointer: ptr, Reason: "column name is not an identifier"}
		}
		col, err := parseJSON(columns[name], false)
		if err != nil {
			je := err.(*jsonError)
			return nil, &ConfigError{Plugin: f.ID(), Pointer: ptr + je.Pointer, Reason: je.Error(), Err: je.Err}
		}
		if _, ok := col.(map[string]any); !ok {
			return nil, &ConfigError{Plugin: f.ID(), Pointer: ptr, Reason: "a column must be a JSON Schema object"}
		}
		props[name] = columns[name]
	}
	seen := make(map[string]bool, len(required))
	for i, name := range required {
		if _, ok := columns[name]; !ok || seen[name] {
			return nil, &ConfigError{Plugin: f.ID(), Pointer: "/required/" + strconv.Itoa(i), Reason: "is not a column, or is named twice"}
		}
		seen[name] = true
	}
	if maxRows < 1 || maxRows > maxSubtableRows {
		return nil, &ConfigError{Plugin: f.ID(), Pointer: "/maxRows", Reason: "must be between 1 and " + strconv.Itoa(maxSubtableRows)}
	}
	row := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		row["required"] = required
	}
	return marshalSchema(f.ID(), map[string]any{"type": "array", "items": row, "maxItems": maxRows})
}

// sortedRawKeys returns m's keys, sorted.
func sortedRawKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var _ FieldType = subtableField{}
