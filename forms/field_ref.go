package forms

import "encoding/json"

// idPattern returns the pattern of a Custos id with prefix: the three-letter
// entity prefix and a ULID in Crockford's base 32.
func idPattern(prefix string) string { return "^" + prefix + "[0-9A-HJKMNP-TV-Z]{26}$" }

// refField is a reference to another record by id: "field.user_ref"
// (users), "field.file_ref" (attachments), and "field.record_ref", whose
// configuration {"entity": "customer" | "contact"} chooses the entity. The
// schema checks the id's shape and names the entity in "x-entity"; whether
// the record exists and may be seen is the caller's business.
type refField struct {
	id     string
	entity string // fixed entity; "" means configured
}

// refEntityPrefix returns the id prefix of an entity a reference may name.
func refEntityPrefix(entity string) (string, bool) {
	switch entity {
	case "customer":
		return "cus", true
	case "contact":
		return "con", true
	case "user":
		return "usr", true
	case "attachment":
		return "att", true
	}
	return "", false
}

// ID implements Plugin.
func (f refField) ID() string { return f.id }

// Schema implements FieldType.
func (f refField) Schema(config json.RawMessage) (json.RawMessage, error) {
	entity := f.entity
	if entity == "" {
		if err := decodeConfig(f.id, config, configField{name: "entity", dst: &entity, required: true}); err != nil {
			return nil, err
		}
		if entity != "customer" && entity != "contact" {
			return nil, &ConfigError{Plugin: f.id, Pointer: "/entity", Reason: `must be "customer" or "contact"`}
		}
	} else if err := decodeConfig(f.id, config); err != nil {
		return nil, err
	}
	prefix, _ := refEntityPrefix(entity)
	return marshalSchema(f.id, map[string]any{"type": "string", "pattern": idPattern(prefix), "x-entity": entity})
}

var _ FieldType = refField{}
