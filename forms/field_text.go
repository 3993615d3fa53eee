package forms

import (
	"encoding/json"
	"strconv"
)

// textField is "field.text" (one line) and "field.long_text" (several
// paragraphs): a string of at most maxLength characters. Configuration:
// {"maxLength": n}, 1 ≤ n ≤ limit, defaulting to def.
type textField struct {
	id    string
	def   int
	limit int
}

// ID implements Plugin.
func (f textField) ID() string { return f.id }

// Schema implements FieldType.
func (f textField) Schema(config json.RawMessage) (json.RawMessage, error) {
	maxLength := f.def
	if err := decodeConfig(f.id, config, configField{name: "maxLength", dst: &maxLength}); err != nil {
		return nil, err
	}
	if maxLength < 1 || maxLength > f.limit {
		return nil, &ConfigError{Plugin: f.id, Pointer: "/maxLength", Reason: "must be between 1 and " + strconv.Itoa(f.limit)}
	}
	return marshalSchema(f.id, map[string]any{"type": "string", "maxLength": maxLength})
}

var _ FieldType = textField{}
