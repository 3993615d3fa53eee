package forms

import "encoding/json"

// numberField is "field.number": a JSON number. Configuration:
// {"integer": bool, "minimum": n, "maximum": n}, all optional.
type numberField struct{}

// ID implements Plugin.
func (numberField) ID() string { return "field.number" }

// Schema implements FieldType.
func (f numberField) Schema(config json.RawMessage) (json.RawMessage, error) {
	var (
		integer          bool
		minimum, maximum *float64
	)
	err := decodeConfig(f.ID(), config,
		configField{name: "integer", dst: &integer},
		configField{name: "minimum", dst: &minimum},
		configField{name: "maximum", dst: &maximum},
	)
	if err != nil {
		return nil, err
	}
	s := map[string]any{"type": "number"}
	if integer {
		s["type"] = "integer"
	}
	if minimum != nil {
		s["minimum"] = *minimum
	}
	if maximum != nil {
		if minimum != nil && *maximum < *minimum {
			return nil, &ConfigError{Plugin: f.ID(), Pointer: "/maximum", Reason: "is less than minimum"}
		}
		s["maximum"] = *maximum
	}
	return marshalSchema(f.ID(), s)
}

// moneyPattern is an amount as the money package writes it: at most 16
// integer and 4 fractional digits, in a string so nothing is rounded.
const moneyPattern = `^-?\d{1,16}(\.\d{1,4})?$`

// moneyField is "field.money": an amount in a decimal string, such as
// "1234.50". It takes no configuration.
type moneyField struct{}

// ID implements Plugin.
func (moneyField) ID() string { return "field.money" }

// Schema implements FieldType.
func (f moneyField) Schema(config json.RawMessage) (json.RawMessage, error) {
	if err := decodeConfig(f.ID(), config); err != nil {
		return nil, err
	}
	return marshalSchema(f.ID(), map[string]any{"type": "string", "pattern": moneyPattern})
}

var (
	_ FieldType = numberField{}
	_ FieldType = moneyField{}
)
