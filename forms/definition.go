package forms

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/apierr"
)

// MaxDefinitionBytes bounds the size of a form definition document: 256 KiB
// (262144 bytes). The schema inside it is bounded by the Compiler's
// MaxSchemaBytes as well, after field types have been expanded.
const MaxDefinitionBytes = 256 << 10

// The kinds of rules a definition may hold.
const (
	// RuleVisible shows Field only when When holds. Clients evaluate it;
	// the server does not.
	RuleVisible = "visible"
	// RuleRequired makes Field required when When holds. Check compiles
	// When into the schema (if/then), so the Validator enforces it.
	RuleRequired = "required"
	// RuleCompute sets Field to the value of Expr when a submission is
	// processed.
	RuleCompute = "compute"
	// RuleCheck refuses a submission where Expr does not hold, with
	// Message at Pointer.
	RuleCheck = "check"
)

// Sentinel errors of form definitions.
var (
	// ErrInvalidDefinition is wrapped by every *DefinitionError.
	ErrInvalidDefinition = errors.New("forms: invalid form definition")
	// ErrRule is wrapped by every *RuleError.
	ErrRule = errors.New("forms: rule evaluation failed")
)

// Definition is the content of a form version as an admin authors it: the
// JSON Schema of its records, the layout, the rules, the labels and the
// plugins it needs. Parse decodes it; Designer.Check checks it.
type Definition struct {
	// Schema is the draft-07 JSON Schema of a record, whose root is an
	// object. Besides the standard keywords, a subschema may name a field
	// type ("x-field", with its "x-config"), and a top-level property may
	// be marked "x-sensitive" or "x-searchable".
	Schema json.RawMessage `json:"schema"`
	// UISchema is the layout, JSON Forms style: VerticalLayout,
	// HorizontalLayout, Group, Control and Label elements. It is optional.
	UISchema json.RawMessage `json:"uiSchema,omitempty"`
	// Rules are evaluated in order (see Rule).
	Rules []Rule `json:"rules,omitempty"`
	// Labels are the fields' names by locale ("zh-CN", "en"), then by
	// property: a top-level name or a dot-separated path through objects
	// ("address.city") and the items of arrays ("lines.sku").
	Labels map[string]map[string]string `json:"labels,omitempty"`
	// Plugins lists the ids of every plugin the definition uses, such as
	// "field.money" and "format.cn_mobile".
	Plugins []string `json:"plugins,omitempty"`
}

// Rule is one rule of a definition. Kind says which of the other fields it
// uses: visible and required rules have Field and When, compute rules Field
// and Expr, check rules Expr, Pointer and Message.
type Rule struct {
	// Kind is RuleVisible, RuleRequired, RuleCompute or RuleCheck.
	Kind string `json:"kind"`
	// Field is the property the rule is about: a top-level property for
	// required and compute rules, a dot-separated path of object
	// properties for visible rules.
	Field string `json:"field,omitempty"`
	// When is the condition of visible and required rules, a CEL
	// expression producing a bool. A required rule's condition becomes
	// part of the schema, so it is restricted to comparisons of top-level
	// fields with string, number or bool literals joined by &&:
	// data.x == lit, data.x != lit, data.x < n, <=, >, >= (the literal may
	// come first), and data.x in [lit, ...]. A field that is absent makes
	// the condition false.
	When string `json:"when,omitempty"`
	// Expr is the CEL expression of compute rules (the field's value) and
	// check rules (a bool that must hold).
	Expr string `json:"expr,omitempty"`
	// Pointer is the JSON Pointer into the record a failing check rule is
	// reported at, such as "/reason"; "" is the whole record.
	Pointer string `json:"pointer,omitempty"`
	// Message is the text of a failing check rule by locale; both "zh-CN"
	// and "en" are required.
	Message map[string]string `json:"message,omitempty"`
}

// Problem is one thing wrong with a definition (or migration steps), where
// it is.
type Problem struct {
	// Pointer is the JSON Pointer (RFC 6901) of the offending value in the
	// definition document, such as "/rules/2/expr"; "" is the whole
	// document. For a missing key it names the key.
	Pointer string `json:"pointer"`
	// MessageKey is "form.definition.<problem>"; DefinitionMessages holds
	// its texts.
	MessageKey string `json:"messageKey"`
	// Params fill the message's {placeholders}, such as "plugin", "field"
	// or "detail" (an English description from the compiler or the
	// expression checker).
	Params map[string]string `json:"params,omitempty"`
	// Message is the message rendered by locale ("zh-CN", "en").
	Message map[string]string `json:"message"`
	// Err is the underlying error, if any, such as ErrExternalRef or
	// ErrMissingPlugin; errors.Is sees it through the DefinitionError.
	Err error `json:"-"`
}

// DefinitionError lists everything wrong with a definition, sorted by
// pointer, then message key.
type DefinitionError struct {
	Problems []Problem `json:"problems"`
}

// Error implements error.
func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("forms: invalid form definition:")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		ptr := p.Pointer
		if ptr == "" {
			ptr = "(root)"
		}
		b.WriteString(" ")
		b.WriteString(ptr)
		b.WriteString(": ")
		b.WriteString(p.Message["en"])
	}
	return b.String()
}

// Unwrap returns ErrInvalidDefinition and the problems' underlying errors.
func (e *DefinitionError) Unwrap() []error {
	errs := []error{ErrInvalidDefinition}
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}

// APIError returns the BAD_USER_INPUT error clients see, one field error per
// problem, each pointer prefixed by base: the pointer of the definition
// within the request, such as "/input/definition".
func (e *DefinitionError) APIError(base string) *apierr.Error {
	fields := make([]apierr.FieldError, len(e.Problems))
	for i, p := range e.Problems {
		var params map[string]string
		if len(p.Params) > 0 {
			params = make(map[string]string, len(p.Params))
			for k, v := range p.Params {
				params[k] = v
			}
		}
		messages := make(map[string]string, len(p.Message))
		for k, v := range p.Message {
			messages[k] = v
		}
		fields[i] = apierr.FieldError{
			Pointer:    base + p.Pointer,
			MessageKey: p.MessageKey,
			Params:     params,
			Messages:   messages,
		}
	}
	return apierr.BadInput(fields...)
}

// RuleError reports a rule whose evaluation failed while a submission was
// processed: it exceeded the cost limit (errors.Is(err, expr.ErrCostLimit)),
// read an absent field, divided by zero, or produced a value JSON cannot
// hold. It is the form designer's problem, not the submitter's.
type RuleError struct {
	// Pointer is the JSON Pointer of the rule's expression in the
	// definition, such as "/rules/3/expr".
	Pointer string
	// Err is the evaluation error.
	Err error
}

// Error implements error.
func (e *RuleError) Error() string {
	return "forms: rule at " + e.Pointer + ": " + e.Err.Error()
}

// Unwrap returns ErrRule and the evaluation error.
func (e *RuleError) Unwrap() []error { return []error{ErrRule, e.Err} }

// problemList collects problems.
type problemList struct {
	items []Problem
}

// add records the problem key at ptr; params are name, value pairs.
func (l *problemList) add(ptr, key string, err error, params ...string) {
	var ps map[string]string
	if len(params) > 0 {
		ps = make(map[string]string, len(params)/2)
		for i := 0; i+1 < len(params); i += 2 {
			v := params[i+1]
			if params[i] == "detail" {
				// The messages end the detail with their own full stop.
				v = strings.TrimRight(v, ". ")
			}
			ps[params[i]] = v
		}
	}
	en, zh := definitionMessageTexts(key)
	l.items = append(l.items, Problem{
		Pointer:    ptr,
		MessageKey: key,
		Params:     ps,
		Message:    map[string]string{"en": render(en, ps), "zh-CN": render(zh, ps)},
		Err:        err,
	})
}

// has reports whether a problem was recorded at ptr.
func (l *problemList) has(ptr string) bool {
	for _, p := range l.items {
		if p.Pointer == ptr {
			return true
		}
	}
	return false
}

// err returns the problems as a *DefinitionError, sorted and without
// duplicates, or nil when there are none.
func (l *problemList) err() error {
	if len(l.items) == 0 {
		return nil
	}
	sort.SliceStable(l.items, func(i, j int) bool {
		a, b := l.items[i], l.items[j]
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		return a.MessageKey < b.MessageKey
	})
	out := make([]Problem, 0, len(l.items))
	for i, p := range l.items {
		if i > 0 {
			q := l.items[i-1]
			if p.Pointer == q.Pointer && p.MessageKey == q.MessageKey && p.Message["en"] == q.Message["en"] {
				continue
			}
		}
		out = append(out, p)
	}
	return &DefinitionError{Problems: out}
}

// Parse decodes a definition document strictly: at most MaxDefinitionBytes,
// valid UTF-8, one JSON object with no duplicate keys, only the keys
// "schema" (required, an object), "uiSchema" (an object), "rules" (an array
// of rule objects with string values and a "message" object of strings),
// "labels" (an object of objects of strings) and "plugins" (an array of
// strings). Problems are reported together in a *DefinitionError. Parse
// checks the document's shape only; Designer.Check checks its meaning.
func Parse(doc []byte) (*Definition, error) {
	var probs problemList
	if len(doc) > MaxDefinitionBytes {
		probs.add("", "form.definition.tooLarge", nil, "max", strconv.Itoa(MaxDefinitionBytes))
		return nil, probs.err()
	}
	tree, err := parseJSON(doc, true)
	if err != nil {
		je := err.(*jsonError)
		probs.add(je.Pointer, "form.definition.json", err, "detail", je.Error())
		return nil, probs.err()
	}
	root, ok := tree.(map[string]any)
	if !ok {
		probs.add("", "form.definition.type", nil, "expected", "object")
		return nil, probs.err()
	}
	for _, k := range sortedKeys(root) {
		v := root[k]
		ptr := childPointer("", k)
		switch k {
		case "schema", "uiSchema":
			expectObject(&probs, ptr, v)
		case "rules":
			rules, ok := v.([]any)
			if !ok {
				probs.add(ptr, "form.definition.type", nil, "expected", "array")
				continue
			}
			for i, r := range rules {
				checkRuleShape(&probs, childPointer(ptr, strconv.Itoa(i)), r)
			}
		case "labels":
			locales, ok := v.(map[string]any)
			if !ok {
				probs.add(ptr, "form.definition.type", nil, "expected", "object")
				continue
			}
			for _, loc := range sortedKeys(locales) {
				expectStringMap(&probs, childPointer(ptr, loc), locales[loc])
			}
		case "plugins":
			ids, ok := v.([]any)
			if !ok {
				probs.add(ptr, "form.definition.type", nil, "expected", "array")
				continue
			}
			for i, id := range ids {
				if _, ok := id.(string); !ok {
					probs.add(childPointer(ptr, strconv.Itoa(i)), "form.definition.type", nil, "expected", "string")
				}
			}
		default:
			probs.add(ptr, "form.definition.unknownKey", nil)
		}
	}
	if _, ok := root["schema"]; !ok {
		probs.add("/schema", "form.definition.missing", nil)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	var def Definition
	if err := json.Unmarshal(doc, &def); err != nil {
		// The shape was checked above; this is a safety net.
		probs.add("", "form.definition.json", err, "detail", err.Error())
		return nil, probs.err()
	}
	return &def, nil
}

// expectObject records a problem unless v is a JSON object.
func expectObject(probs *problemList, ptr string, v any) {
	if _, ok := v.(map[string]any); !ok {
		probs.add(ptr, "form.definition.type", nil, "expected", "object")
	}
}

// expectStringMap records a problem unless v is an object of strings.
func expectStringMap(probs *problemList, ptr string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		probs.add(ptr, "form.definition.type", nil, "expected", "object")
		return
	}
	for _, k := range sortedKeys(m) {
		if _, ok := m[k].(string); !ok {
			probs.add(childPointer(ptr, k), "form.definition.type", nil, "expected", "string")
		}
	}
}

// checkRuleShape records what is wrong with the shape of one rule: it must be
// an object of the keys Rule knows, strings but for message, an object of
// strings.
func checkRuleShape(probs *problemList, ptr string, v any) {
	r, ok := v.(map[string]any)
	if !ok {
		probs.add(ptr, "form.definition.type", nil, "expected", "object")
		return
	}
	for _, k := range sortedKeys(r) {
		kp := childPointer(ptr, k)
		switch k {
		case "kind", "field", "when", "expr", "pointer":
			if _, ok := r[k].(string); !ok {
				probs.add(kp, "form.definition.type", nil, "expected", "string")
			}
		case "message":
			expectStringMap(probs, kp, r[k])
		default:
			probs.add(kp, "form.definition.unknownKey", nil)
		}
	}
}
