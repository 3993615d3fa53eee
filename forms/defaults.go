package forms

import "fmt"

// builtinPlugins returns the plugins every deployment has.
func builtinPlugins() []Plugin {
	return []Plugin{
		emailFormat{},
		cnMobileFormat{},
		cnResidentIDFormat{},
		usccFormat{},
		urlFormat{},
		textField{id: "field.text", def: 200, limit: 10000},
		textField{id: "field.long_text", def: 10000, limit: 100000},
		numberField{},
		moneyField{},
		formattedStringField{id: "field.date", format: "date"},
		formattedStringField{id: "field.datetime", format: "date-time"},
		selectField{id: "field.select"},
		selectField{id: "field.multi_select", multi: true},
		refField{id: "field.user_ref", entity: "user"},
		refField{id: "field.record_ref"},
		refField{id: "field.file_ref", entity: "attachment"},
		subtableField{},
		uniqueInRowsValidator{},
		dateRangeValidator{},
	}
}

// DefaultRegistry returns a new registry holding the built-in plugins:
// the formats format.email ("email"), format.cn_mobile, format.cn_resident_id,
// format.uscc and format.url, and the field types field.text,
// field.long_text, field.number, field.money, field.date, field.datetime,
// field.select, field.multi_select, field.user_ref, field.record_ref,
// field.file_ref and field.subtable, and the record validators
// validator.unique_in_rows and validator.date_range. The server registers
// its other plugins on it, then calls InstallFormats once.
func DefaultRegistry() (*Registry, error) {
	r := NewRegistry()
	for _, p := range builtinPlugins() {
		if err := r.Register(p); err != nil {
			return nil, fmt.Errorf("forms: building the default registry: %w", err)
		}
	}
	return r, nil
}
