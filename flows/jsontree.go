package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// maxDepth bounds how deeply the values of a definition nest; the
// definition itself needs six levels, plugin configurations and schema
// fragments the rest.
const maxDepth = 64

// decodeTree decodes a JSON document into plain values (map[string]any,
// []any, string, json.Number, bool and nil), refusing duplicate keys,
// trailing data and nesting deeper than maxDepth. A syntax error stops the
// decoding and returns a nil tree; duplicate keys are reported and the first
// value is kept.
func decodeTree(doc []byte) (any, Problems) {
	d := &treeDecoder{dec: json.NewDecoder(bytes.NewReader(doc))}
	d.dec.UseNumber()
	v, err := d.value("", 0)
	if err == nil {
		if _, extra := d.dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the definition")
		}
	}
	if err != nil {
		return nil, append(d.problems, Problem{Pointer: "", Message: "the definition is not valid JSON: " + err.Error()})
	}
	return v, d.problems
}

// treeDecoder reads tokens and builds the tree.
type treeDecoder struct {
	dec      *json.Decoder
	problems Problems
}

// value decodes the value at ptr.
func (d *treeDecoder) value(ptr string, depth int) (any, error) {
	tok, err := d.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxDepth {
		return nil, fmt.Errorf("values nest more than %d levels deep at %q", maxDepth, ptr)
	}
	switch delim {
	case '{':
		m := map[string]any{}
		for d.dec.More() {
			kt, err := d.dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			child := ptr + "/" + escapePointer(key)
			v, err := d.value(child, depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := m[key]; dup {
				d.problems = append(d.problems, Problem{Pointer: child, Message: fmt.Sprintf("duplicate key %q", key)})
				continue
			}
			m[key] = v
		}
		if _, err := d.dec.Token(); err != nil {
			return nil, err
		}
		return m, nil
	default: // '['
		list := []any{}
		for d.dec.More() {
			v, err := d.value(ptr+"/"+strconv.Itoa(len(list)), depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := d.dec.Token(); err != nil {
			return nil, err
		}
		return list, nil
	}
}

// reader turns tree values into Go values, collecting a Problem for every
// value of the wrong JSON type, every unknown key and every missing one. A
// JSON null counts as absent.
type reader struct {
	problems Problems
}

// add records a problem.
func (r *reader) add(ptr, format string, args ...any) {
	r.problems = append(r.problems, Problem{Pointer: ptr, Message: fmt.Sprintf(format, args...)})
}

// object returns v as an object, or nil after recording a problem when it is
// not one. Keys not in allowed are reported (in sorted order) and dropped.
func (r *reader) object(ptr string, v any, allowed ...string) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		r.add(ptr, "must be an object, not %s", jsonType(v))
		return nil
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		r.add(ptr+"/"+escapePointer(k), "unknown key %q", k)
		delete(m, k)
	}
	return m
}

// present returns the value of key in m, and whether it is there and not null.
func present(m map[string]any, key string) (any, bool) {
	v, ok := m[key]
	return v, ok && v != nil
}

// str returns the string at key, reporting a missing required value.
func (r *reader) str(m map[string]any, ptr, key string, required bool) string {
	v, ok := present(m, key)
	if !ok {
		if required {
			r.add(ptr+"/"+key, "is required")
		}
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		r.add(ptr+"/"+key, "must be a string, not %s", jsonType(v))
		return ""
	}
	if s == "" && required {
		r.add(ptr+"/"+key, "must not be empty")
	}
	return s
}

// strs returns the list of strings at key, reporting a missing required
// list, an empty one when required, elements that are not non-empty strings
// and repeated elements.
func (r *reader) strs(m map[string]any, ptr, key string, required bool) []string {
	list := r.array(m, ptr, key, required)
	if list == nil {
		return nil
	}
	base := ptr + "/" + key
	if required && len(list) == 0 {
		r.add(base, "must not be empty")
	}
	out := make([]string, 0, len(list))
	for i, v := range list {
		at := base + "/" + strconv.Itoa(i)
		s, ok := v.(string)
		switch {
		case !ok:
			r.add(at, "must be a string, not %s", jsonType(v))
		case s == "":
			r.add(at, "must not be empty")
		case slices.Contains(out, s):
			r.add(at, "%q is listed twice", s)
		default:
			out = append(out, s)
		}
	}
	return out
}

// array returns the array at key, reporting a missing required one.
func (r *reader) array(m map[string]any, ptr, key string, required bool) []any {
	v, ok := present(m, key)
	if !ok {
		if required {
			r.add(ptr+"/"+key, "is required")
		}
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		r.add(ptr+"/"+key, "must be an array, not %s", jsonType(v))
		return nil
	}
	return list
}

// boolean returns the boolean at key; absent is false.
func (r *reader) boolean(m map[string]any, ptr, key string) bool {
	v, ok := present(m, key)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		r.add(ptr+"/"+key, "must be a boolean, not %s", jsonType(v))
	}
	return b
}

// number returns the number at key and whether there is one.
func (r *reader) number(m map[string]any, ptr, key string) (float64, bool) {
	v, ok := present(m, key)
	if !ok {
		return 0, false
	}
	f, isNum := toNumber(v)
	if !isNum {
		r.add(ptr+"/"+key, "must be a number, not %s", jsonType(v))
	}
	return f, isNum
}

// raw returns the value at key re-encoded as JSON (object keys sorted), or
// nil when it is absent. A schema fragment or a plugin configuration is
// passed on this way.
func (r *reader) raw(m map[string]any, ptr, key string) json.RawMessage {
	v, ok := present(m, key)
	if !ok {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		r.add(ptr+"/"+key, "cannot be encoded: %v", err)
		return nil
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// localized returns the texts at key by locale, such as {"zh-CN": "开始处理",
// "en": "Start"}; locales are language tags and texts are non-empty.
func (r *reader) localized(m map[string]any, ptr, key string) map[string]string {
	v, ok := present(m, key)
	if !ok {
		return nil
	}
	base := ptr + "/" + key
	obj, isObj := v.(map[string]any)
	if !isObj {
		r.add(base, "must be an object of texts by locale, not %s", jsonType(v))
		return nil
	}
	out := make(map[string]string, len(obj))
	for _, locale := range sortedKeys(obj) {
		at := base + "/" + escapePointer(locale)
		text, isStr := obj[locale].(string)
		switch {
		case !isLocale(locale):
			r.add(at, "%q is not a locale such as \"en\" or \"zh-CN\"", locale)
		case !isStr:
			r.add(at, "must be a string, not %s", jsonType(obj[locale]))
		case text == "":
			r.add(at, "must not be empty")
		default:
			out[locale] = text
		}
	}
	return out
}

// toNumber converts a JSON number of the tree to a float64.
func toNumber(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// jsonType names the JSON type of a tree value for a message.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// sortedKeys returns the keys of an object in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isLocale reports whether s looks like a language tag: a two- or
// three-letter lower-case language and optional subtags of 2 to 8 letters or
// digits, such as "en", "zh-CN" or "zh-Hans-CN".
func isLocale(s string) bool {
	for i, part := range strings.Split(s, "-") {
		n := len(part)
		if i == 0 && (n < 2 || n > 3 || !isLower(part)) {
			return false
		}
		if i > 0 && (n < 2 || n > 8 || !isAlnum(part)) {
			return false
		}
	}
	return s != ""
}

// isLower reports whether s holds only ASCII lower-case letters.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// isAlnum reports whether s holds only ASCII letters and digits.
func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// isKey reports whether s is a valid key of a state, transition, approval
// or SLA: a lower-case ASCII letter followed by up to 63 lower-case letters,
// digits and underscores.
func isKey(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
