package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
)

// SchemaCheck checks a document (a record's data, or a transition's input)
// against one compiled JSON Schema fragment. It returns what is wrong, or
// nothing when the document is valid; its error is for technical failures
// only, such as a cancelled ctx. A SchemaCheck must be safe for concurrent
// use.
type SchemaCheck func(ctx context.Context, doc map[string]any) ([]Violation, error)

// Violation is one reason a document does not satisfy a schema.
type Violation struct {
	// Pointer is the JSON Pointer of the offending value in the document;
	// for "required" it names the missing property.
	Pointer string
	// Keyword is the JSON Schema keyword that failed, such as "required".
	Keyword string
	// Message is the message by locale ("en", "zh-CN"); it may be empty.
	Message map[string]string
}

// builtinKeywords are the keywords the built-in checker accepts at the root
// of a fragment, and propertyKeywords those it accepts in a property.
func builtinKeywords() []string {
	return []string{"type", "required", "properties", "title", "description", "$comment"}
}

func propertyKeywords() []string {
	return []string{"type", "title", "description", "$comment"}
}

// jsonTypes are the type names of JSON Schema.
func jsonTypes() []string {
	return []string{"string", "number", "integer", "boolean", "object", "array", "null"}
}

// compileSchema compiles a schema fragment of a transition with
// Options.CompileSchema, or with the built-in checker when there is none.
func (p *parser) compileSchema(ptr string, raw json.RawMessage) SchemaCheck {
	if raw == nil {
		return nil
	}
	if p.opts.CompileSchema != nil {
		c, err := p.opts.CompileSchema(raw)
		switch {
		case err != nil:
			p.add(ptr, "%v", err)
		case c == nil:
			p.add(ptr, "the schema validator returned no check")
		}
		return c
	}
	return p.builtinSchema(ptr, raw)
}

// builtinSchema compiles a fragment with the built-in checker, which knows
// "type" (only "object" at the root), "required", and "properties" whose
// subschemas have a "type"; "title", "description" and "$comment" are
// allowed and ignored. Any other keyword is refused, so that nothing a
// designer writes is silently not enforced.
func (p *parser) builtinSchema(ptr string, raw json.RawMessage) SchemaCheck {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		p.add(ptr, "cannot be read: %v", err)
		return nil
	}
	root, ok := tree.(map[string]any)
	if !ok {
		p.add(ptr, "must be an object, not %s", jsonType(tree))
		return nil
	}
	before := len(p.problems)
	p.builtinKeywords(ptr, root, builtinKeywords())
	if t, ok := present(root, "type"); ok && t != "object" {
		p.add(ptr+"/type", "must be \"object\"")
	}
	required := p.strs(root, ptr, "required", false)
	types := map[string][]string{}
	if props, ok := present(root, "properties"); ok {
		pp := ptr + "/properties"
		pm, isObj := props.(map[string]any)
		if !isObj {
			p.add(pp, "must be an object, not %s", jsonType(props))
		}
		for _, name := range sortedKeys(pm) {
			at := pp + "/" + escapePointer(name)
			sub, isObj := pm[name].(map[string]any)
			if !isObj {
				p.add(at, "must be an object, not %s", jsonType(pm[name]))
				continue
			}
			p.builtinKeywords(at, sub, propertyKeywords())
			if t, ok := present(sub, "type"); ok {
				types[name] = p.typeList(at+"/type", t)
			}
		}
	}
	if len(p.problems) > before {
		return nil
	}
	return func(ctx context.Context, doc map[string]any) ([]Violation, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var out []Violation
		for _, name := range required {
			if _, ok := doc[name]; !ok {
				out = append(out, Violation{Pointer: "/" + escapePointer(name), Keyword: "required", Message: violationText("required", nil)})
			}
		}
		for _, name := range sortedTypeKeys(types) {
			v, ok := doc[name]
			if !ok || slices.ContainsFunc(types[name], func(t string) bool { return hasType(v, t) }) {
				continue
			}
			expected := strings.Join(types[name], ", ")
			out = append(out, Violation{Pointer: "/" + escapePointer(name), Keyword: "type", Message: violationText("type", map[string]string{"expected": expected})})
		}
		slices.SortStableFunc(out, func(a, b Violation) int { return strings.Compare(a.Pointer, b.Pointer) })
		return out, nil
	}
}

// builtinKeywords reports the keywords of a subschema the built-in checker
// does not know.
func (p *parser) builtinKeywords(ptr string, m map[string]any, allowed []string) {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			p.add(ptr+"/"+escapePointer(k), "the built-in checker does not know the keyword %q; it knows %s (the server plugs in the full JSON Schema validator)", k, strings.Join(allowed, ", "))
		}
	}
}

// typeList reads the value of a "type" keyword: a type name or a list of them.
func (p *parser) typeList(ptr string, v any) []string {
	var names []any
	switch t := v.(type) {
	case string:
		names = []any{t}
	case []any:
		names = t
	default:
		p.add(ptr, "must be a type name or a list of them, not %s", jsonType(v))
		return nil
	}
	var out []string
	for _, n := range names {
		s, _ := n.(string)
		if !slices.Contains(jsonTypes(), s) {
			p.add(ptr, "%v is not a JSON Schema type", n)
			continue
		}
		out = append(out, s)
	}
	return out
}

// sortedTypeKeys returns the property names of types in order.
func sortedTypeKeys(types map[string][]string) []string {
	keys := make([]string, 0, len(types))
	for k := range types {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hasType reports whether a decoded JSON value (or a Go value of the same
// shape) has the JSON Schema type t.
func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := numberOf(v)
		return ok
	case "integer":
		f, ok := numberOf(v)
		return ok && f == math.Trunc(f)
	}
	if v == nil {
		return false
	}
	k := reflect.TypeOf(v).Kind()
	switch t {
	case "object":
		return k == reflect.Map
	case "array":
		return k == reflect.Slice || k == reflect.Array
	}
	return false
}

// numberOf returns a number of decoded JSON or Go as a float64.
func numberOf(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	}
	return 0, false
}
