package forms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/custos-crm/custos/forms/expr"
)

// Form is a checked, compiled form version. Forms come from Designer.Check
// only; a Form is immutable and safe for concurrent use.
type Form struct {
	schema     []byte
	validator  Validator
	env        *expr.Env
	rules      []Rule
	computes   []compiledRule
	checks     []compiledRule
	validators []boundValidator
	provisions []provisionUse
	fields     []string
	readOnly   [][]string
	sensitive  []string
	searchable []string
	picklists  []picklistUse
}

// Schema returns the effective JSON Schema the Validator was compiled from:
// the definition's schema without extension keywords ("x-…"), each
// subschema with a field type replaced by {"allOf": [subschema, the field
// type's fragment]}, and each required rule appended to the root's allOf as
// {"if": …, "then": {"required": [field]}}. Each call returns a copy.
func (f *Form) Schema() []byte {
	return append([]byte(nil), f.schema...)
}

// Validator returns the validator of the effective schema. Its errors leave
// out the allOf, then and else items that only say that a subschema failed:
// the subschema's own items say where and why.
func (f *Form) Validator() Validator { return f.validator }

// Env returns the expression environment typed from the form's schema, for
// expressions outside the definition, such as a workflow's guards.
func (f *Form) Env() *expr.Env { return f.env }

// Rules returns the definition's rules, in order. Visible rules are for
// clients only; required rules are enforced by the Validator, compute and
// check rules by Process. Each call returns a copy.
func (f *Form) Rules() []Rule { return copyRules(f.rules) }

// Fields returns the names of the schema's top-level properties, sorted.
func (f *Form) Fields() []string { return append([]string(nil), f.fields...) }

// SensitiveFields returns the top-level properties holding personal
// information, sorted: those marked "x-sensitive": true, and those whose
// format is email, cn_mobile or cn_resident_id (written by the designer or
// by the field type). Only top-level properties can be sensitive.
func (f *Form) SensitiveFields() []string { return append([]string(nil), f.sensitive...) }

// SearchableFields returns the top-level properties marked
// "x-searchable": true, sorted; they are strings, numbers, integers or
// booleans.
func (f *Form) SearchableFields() []string { return append([]string(nil), f.searchable...) }

// Process turns a submission into the record to store. It works on a copy
// of submitted, which it never modifies:
//
//  1. it drops the values of read-only properties (top-level ones, and
//     those of objects below them): they are the server's to set;
//  2. it evaluates the compute rules in order, each seeing the values the
//     rules before it set, and sets their fields;
//  3. it validates the result with the Validator, returning its
//     *ValidationError when the record is not valid;
//  4. it runs the record validators of the properties present (see
//     "x-validators"), each failure an item whose keyword is the
//     validator's id, and evaluates the check rules, each one that does
//     not hold an item (keyword "check", message key "form.check", the
//     rule's messages) at its pointer; when there are items, it returns
//     them, sorted by pointer, in a *ValidationError.
//
// A rule that exceeds the cost limit fails Process at once with a
// *RuleError wrapping expr.ErrCostLimit. A compute rule whose evaluation
// fails otherwise (it reads an absent field, say) leaves its field unset;
// Process then returns the validation error if there is one, since a
// missing or malformed value is the likely cause, and the *RuleError if
// not. A check rule whose evaluation fails returns a *RuleError. A
// cancelled ctx returns its error. The record's values are those
// submitted and the computed ones, as expr.Program.Eval returns them.
func (f *Form) Process(ctx context.Context, submitted map[string]any, v expr.Viewer, now time.Time) (map[string]any, error) {
	data, _ := copyJSON(submitted).(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for _, path := range f.readOnly {
		deletePath(data, path)
	}

	var deferred error
	for _, r := range f.computes {
		val, err := r.prg.Eval(ctx, data, v, now)
		if err == nil {
			if _, jerr := json.Marshal(val); jerr != nil {
				err = fmt.Errorf("%w: the value cannot be stored as JSON: %w", expr.ErrResult, jerr)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("forms: processing: %w", err)
			}
			if errors.Is(err, expr.ErrEval) {
				if deferred == nil {
					deferred = &RuleError{Pointer: r.ptr, Err: err}
				}
				continue
			}
			return nil, &RuleError{Pointer: r.ptr, Err: err}
		}
		data[r.rule.Field] = val
	}

	doc, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("forms: encoding the record: %w", err)
	}
	verr, err := f.validator.Validate(ctx, doc)
	if err != nil {
		return nil, err
	}
	if verr != nil {
		return nil, verr
	}
	if deferred != nil {
		return nil, deferred
	}

	var items []Item
	for _, bv := range f.validators {
		val, ok := valueAt(data, bv.path)
		if !ok {
			continue
		}
		for _, fl := range bv.check.Validate(val, data, now) {
			items = append(items, bv.item(fl))
		}
	}
	for _, r := range f.checks {
		ok, err := r.prg.EvalBool(ctx, data, v, now)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("forms: processing: %w", err)
			}
			return nil, &RuleError{Pointer: r.ptr, Err: err}
		}
		if !ok {
			items = append(items, checkItem(r.rule))
		}
	}
	if len(items) > 0 {
		sort.SliceStable(items, func(i, j int) bool { return items[i].Pointer < items[j].Pointer })
		return nil, &ValidationError{Items: items}
	}
	return data, nil
}

// boundValidator is a record validator configured for one property.
type boundValidator struct {
	id       string
	path     []string
	check    ValueCheck
	messages map[string]map[string]string
}

// item returns the item of a failure: its pointer below the property's, the
// validator's id as the keyword, its messages rendered from the
// validator's texts (the generic ones for a key it lacks).
func (bv boundValidator) item(fl Failure) Item {
	var params map[string]string
	if len(fl.Params) > 0 {
		params = make(map[string]string, len(fl.Params))
		for k, v := range fl.Params {
			params[k] = v
		}
	}
	en, zh := messageTexts("")
	if texts, ok := bv.messages[fl.MessageKey]; ok {
		en, zh = texts["en"], texts["zh-CN"]
	}
	return Item{
		Pointer:    pointerOf(bv.path) + fl.Pointer,
		Keyword:    bv.id,
		MessageKey: fl.MessageKey,
		Params:     params,
		Message:    map[string]string{"en": render(en, params), "zh-CN": render(zh, params)},
	}
}

// valueAt returns the value at path in data, following objects.
func valueAt(data map[string]any, path []string) (any, bool) {
	cur := data
	for i, name := range path {
		v, ok := cur[name]
		if !ok {
			return nil, false
		}
		if i == len(path)-1 {
			return v, true
		}
		if cur, ok = v.(map[string]any); !ok {
			return nil, false
		}
	}
	return nil, false
}

// checkItem returns the item of a failing check rule.
func checkItem(r Rule) Item {
	msg := make(map[string]string, len(r.Message))
	for k, v := range r.Message {
		msg[k] = v
	}
	return Item{Pointer: r.Pointer, Keyword: "check", MessageKey: "form.check", Message: msg}
}

// deletePath removes the value at path from data, if there is one.
func deletePath(data map[string]any, path []string) {
	cur := data
	for _, name := range path[:len(path)-1] {
		next, ok := cur[name].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, path[len(path)-1])
}

// copyRules returns a deep copy of rules.
func copyRules(rules []Rule) []Rule {
	if rules == nil {
		return nil
	}
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r
		if r.Message != nil {
			out[i].Message = make(map[string]string, len(r.Message))
			for k, v := range r.Message {
				out[i].Message[k] = v
			}
		}
	}
	return out
}

// formValidator is a Form's validator: the compiled one, without the items
// of allOf, then and else, which only repeat that a subschema failed (field
// types and required rules are allOf and if/then subschemas).
type formValidator struct {
	v Validator
}

// Validate implements Validator.
func (fv formValidator) Validate(ctx context.Context, doc []byte) (*ValidationError, error) {
	verr, err := fv.v.Validate(ctx, doc)
	if err != nil || verr == nil {
		return verr, err
	}
	kept := make([]Item, 0, len(verr.Items))
	for _, it := range verr.Items {
		switch it.Keyword {
		case "allOf", "then", "else":
			continue
		}
		kept = append(kept, it)
	}
	if len(kept) == 0 {
		// Never expected: gojsonschema reports a failing subschema's
		// own errors too.
		return verr, nil
	}
	return &ValidationError{Items: kept}, nil
}

var _ Validator = formValidator{}
