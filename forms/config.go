package forms

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// configField is one key a field type's configuration may hold, and where
// it decodes to.
type configField struct {
	name     string
	dst      any
	required bool
}

// decodeConfig decodes a field type's configuration strictly into fields:
// the configuration must be one JSON object (empty or null means {}) with no
// duplicate and no unknown keys, each value decoding into its destination
// without unknown fields, and every required key present. Errors are
// *ConfigErrors naming the JSON Pointer of the problem.
func decodeConfig(plugin string, config json.RawMessage, fields ...configField) error {
	raw := bytes.TrimSpace(config)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		raw = []byte("{}")
	}
	parsed, err := parseJSON(raw, true)
	if err != nil {
		je := err.(*jsonError)
		return &ConfigError{Plugin: plugin, Pointer: je.Pointer, Reason: je.Error(), Err: je.Err}
	}
	obj, ok := parsed.(map[string]any)
	if !ok {
		return &ConfigError{Plugin: plugin, Reason: "the configuration must be a JSON object"}
	}
	known := make(map[string]configField, len(fields))
	for _, f := range fields {
		known[f.name] = f
	}
	for _, k := range sortedKeys(obj) {
		if _, ok := known[k]; !ok {
			return &ConfigError{Plugin: plugin, Pointer: childPointer("", k), Reason: "unknown key"}
		}
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal(raw, &values); err != nil {
		return &ConfigError{Plugin: plugin, Reason: "malformed JSON", Err: err}
	}
	for _, f := range fields {
		v, ok := values[f.name]
		if !ok {
			if f.required {
				return &ConfigError{Plugin: plugin, Pointer: childPointer("", f.name), Reason: "missing"}
			}
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f.dst); err != nil {
			return &ConfigError{Plugin: plugin, Pointer: childPointer("", f.name), Reason: "value of the wrong type or shape", Err: err}
		}
	}
	return nil
}

// marshalSchema encodes a schema fragment a field type built.
func marshalSchema(plugin string, schema map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("forms: %s: encoding its schema: %w", plugin, err)
	}
	return b, nil
}

// ConfigKey is one key of a plugin's configuration for DecodeConfig: its
// name, where its value decodes to, and whether it must be present.
type ConfigKey struct {
	Name     string
	Dst      any
	Required bool
}

// DecodeConfig decodes a plugin's configuration strictly, as the built-in
// field types do: one JSON object with no duplicate or unknown keys, every
// value decoding into its destination, every required key present. Errors
// are *ConfigErrors naming the JSON Pointer of the problem. Plugins
// outside this package (workflow actions, approver resolvers) use it.
func DecodeConfig(plugin string, config json.RawMessage, keys ...ConfigKey) error {
	fields := make([]configField, len(keys))
	for i, k := range keys {
		fields[i] = configField{name: k.Name, dst: k.Dst, required: k.Required}
	}
	return decodeConfig(plugin, config, fields...)
}
