package forms

import "encoding/json"

// formattedStringField is a string field of one format and no
// configuration: "field.date" (format "date", 2026-03-01) and
// "field.datetime" (format "date-time", RFC 3339).
type formattedStringField struct {
	id     string
	format string
}

// ID implements Plugin.
func (f formattedStringField) ID() string { return f.id }

// Schema implements FieldType.
func (f formattedStringField) Schema(config json.RawMessage) (json.RawMessage, error) {
	if err := decodeConfig(f.id, config); err != nil {
		return nil, err
	}
	return marshalSchema(f.id, map[string]any{"type": "string", "format": f.format})
}

var _ FieldType = formattedStringField{}
