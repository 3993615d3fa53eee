package forms

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// maxUniqueColumns bounds how many columns one unique_in_rows key may
// combine.
const maxUniqueColumns = 10

// uniqueInRowsValidator is "validator.unique_in_rows": no two rows of a
// sub-table (an array of objects) hold the same values in the given
// columns. Configuration: {"columns": ["sku"]} (required; one to ten
// distinct columns of the rows, compared together) and {"ignoreCase":
// true} (text compared without regard to case). A row lacking one of the
// columns, or holding null in it, is not compared. Numbers are equal when
// their values are (1 and 1.0). Each row repeating an earlier one fails at
// its first column, naming the earlier row (counted from 1).
type uniqueInRowsValidator struct{}

// ID implements Plugin.
func (uniqueInRowsValidator) ID() string { return "validator.unique_in_rows" }

// Messages implements RecordValidator.
func (uniqueInRowsValidator) Messages() map[string]map[string]string {
	return map[string]map[string]string{
		"form.validator.unique_in_rows": {"en": "Repeats row {row}.", "zh-CN": "与第 {row} 行重复。"},
	}
}

// Configure implements RecordValidator.
func (v uniqueInRowsValidator) Configure(config, schema json.RawMessage) (ValueCheck, error) {
	var (
		columns    []string
		ignoreCase bool
	)
	err := decodeConfig(v.ID(), config,
		configField{name: "columns", dst: &columns, required: true},
		configField{name: "ignoreCase", dst: &ignoreCase},
	)
	if err != nil {
		return nil, err
	}
	if len(columns) == 0 || len(columns) > maxUniqueColumns {
		return nil, &ConfigError{Plugin: v.ID(), Pointer: "/columns", Reason: "must name between 1 and " + strconv.Itoa(maxUniqueColumns) + " columns"}
	}
	var target map[string]any
	if err := json.Unmarshal(schema, &target); err != nil {
		return nil, &ConfigError{Plugin: v.ID(), Reason: "the property's schema is not an object", Err: err}
	}
	items, _ := target["items"].(map[string]any)
	props, _ := items["properties"].(map[string]any)
	if scalarType(target) != "array" || props == nil {
		return nil, &ConfigError{Plugin: v.ID(), Reason: "applies only to sub-tables: arrays whose items are objects with properties"}
	}
	seen := make(map[string]bool, len(columns))
	for i, c := range columns {
		if _, ok := props[c]; !ok || seen[c] {
			return nil, &ConfigError{Plugin: v.ID(), Pointer: "/columns/" + strconv.Itoa(i), Reason: "is not a column of the rows, or is named twice"}
		}
		seen[c] = true
	}
	return uniqueInRows{columns: columns, ignoreCase: ignoreCase}, nil
}

// uniqueInRows is a configured unique_in_rows check.
type uniqueInRows struct {
	columns    []string
	ignoreCase bool
}

// Validate implements ValueCheck.
func (u uniqueInRows) Validate(value any, _ map[string]any, _ time.Time) []Failure {
	rows, _ := value.([]any)
	first := make(map[string]int, len(rows))
	var out []Failure
	for i, r := range rows {
		row, ok := r.(map[string]any)
		if !ok {
			continue
		}
		key, ok := u.rowKey(row)
		if !ok {
			continue
		}
		if j, dup := first[key]; dup {
			out = append(out, Failure{
				Pointer:    "/" + strconv.Itoa(i) + childPointer("", u.columns[0]),
				MessageKey: "form.validator.unique_in_rows",
				Params:     map[string]string{"row": strconv.Itoa(j + 1)},
			})
			continue
		}
		first[key] = i
	}
	return out
}

// rowKey returns the comparison key of a row's columns; false when one of
// them is absent or null.
func (u uniqueInRows) rowKey(row map[string]any) (string, bool) {
	var b strings.Builder
	for _, c := range u.columns {
		cell, ok := row[c]
		if !ok || cell == nil {
			return "", false
		}
		k, ok := cellKey(cell, u.ignoreCase)
		if !ok {
			return "", false
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(',')
	}
	return b.String(), true
}

// cellKey returns a text that is the same for equal cells: strings (folded
// to lower case when ignoreCase), numbers by value, booleans, and other
// values by their JSON encoding.
func cellKey(v any, ignoreCase bool) (string, bool) {
	switch x := v.(type) {
	case string:
		if ignoreCase {
			x = strings.ToLower(x)
		}
		return "s" + x, true
	case bool:
		return "b" + strconv.FormatBool(x), true
	case json.Number:
		return numberKey(x.String())
	case float64:
		// The shortest decimal that reads back as x, so that 0.1 decoded
		// as a float equals 0.1 decoded as a json.Number.
		return numberKey(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		return "n" + strconv.Itoa(x), true
	case int64:
		return "n" + strconv.FormatInt(x, 10), true
	case uint64:
		return "n" + strconv.FormatUint(x, 10), true
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return "j" + string(b), true
}

// numberKey returns the key of a decimal number by its exact value.
func numberKey(s string) (string, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", false
	}
	return "n" + r.RatString(), true
}

var (
	_ RecordValidator = uniqueInRowsValidator{}
	_ ValueCheck      = uniqueInRows{}
)
