package forms

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// isIdentifier reports whether s may be a property key: it matches
// ^[A-Za-z_][A-Za-z0-9_]{0,63}$, so that error paths built from keys are
// unambiguous.
func isIdentifier(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Draft-07 keywords whose values are schemas, arrays of schemas, or objects
// whose values are schemas. Every other keyword holds data (const, enum,
// default, examples, required, …) and is not walked.
func singleSchemaKeyword(k string) bool {
	switch k {
	case "additionalItems", "additionalProperties", "contains", "propertyNames",
		"not", "if", "then", "else":
		return true
	}
	return false
}

func schemaArrayKeyword(k string) bool {
	switch k {
	case "allOf", "anyOf", "oneOf":
		return true
	}
	return false
}

func schemaMapKeyword(k string) bool {
	switch k {
	case "properties", "patternProperties", "definitions", "dependencies":
		return true
	}
	return false
}

// walkSchema calls visit for every subschema object of schema, the root
// first, with its JSON Pointer, in a stable order, each once; then for the
// objects local references name that are not subschemas by position (a
// reference may name any object, such as one under "default"), and the
// subschemas below them. Boolean schemas are skipped; so are values that
// are not schemas where a schema was expected (gojsonschema reports those
// when it compiles). The first error visit returns stops the walk.
func walkSchema(schema any, visit func(node map[string]any, ptr string) error) error {
	w := &schemaWalker{visit: visit, seen: make(map[string]bool)}
	if err := w.walk(schema, ""); err != nil {
		return err
	}
	for i := 0; i < len(w.refs); i++ {
		if ptr, target, ok := resolveLocal(schema, w.refs[i]); ok {
			if err := w.walk(target, ptr); err != nil {
				return err
			}
		}
	}
	return nil
}

// schemaWalker remembers the pointers it has visited and the local
// references it has met.
type schemaWalker struct {
	visit func(map[string]any, string) error
	seen  map[string]bool
	refs  []string
}

func (w *schemaWalker) walk(n any, ptr string) error {
	m, ok := n.(map[string]any)
	if !ok || w.seen[ptr] {
		return nil
	}
	w.seen[ptr] = true
	if err := w.visit(m, ptr); err != nil {
		return err
	}
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
		w.refs = append(w.refs, ref)
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		kp := childPointer(ptr, k)
		switch {
		case singleSchemaKeyword(k):
			if err := w.walk(v, kp); err != nil {
				return err
			}
		case k == "items":
			if a, ok := v.([]any); ok {
				for i, s := range a {
					if err := w.walk(s, childPointer(kp, strconv.Itoa(i))); err != nil {
						return err
					}
				}
			} else if err := w.walk(v, kp); err != nil {
				return err
			}
		case schemaArrayKeyword(k):
			a, _ := v.([]any)
			for i, s := range a {
				if err := w.walk(s, childPointer(kp, strconv.Itoa(i))); err != nil {
					return err
				}
			}
		case schemaMapKeyword(k):
			sm, _ := v.(map[string]any)
			for _, sk := range sortedKeys(sm) {
				// dependencies' values may be arrays of names: not
				// schemas, and walk skips them.
				if err := w.walk(sm[sk], childPointer(kp, sk)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// resolveLocal returns the value a local fragment reference ("#" or
// "#/…", percent-encoded as URI fragments are) names in root, with its
// canonical JSON Pointer.
func resolveLocal(root any, ref string) (string, any, bool) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok || (frag != "" && !strings.HasPrefix(frag, "/")) {
		return "", nil, false
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return "", nil, false
	}
	cur := root
	var path []string
	if frag != "" {
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch c := cur.(type) {
			case map[string]any:
				cur, ok = c[tok]
			case []any:
				i, err := strconv.Atoi(tok)
				ok = err == nil && i >= 0 && i < len(c) && strconv.Itoa(i) == tok
				if ok {
					cur = c[i]
				}
			default:
				ok = false
			}
			if !ok {
				return "", nil, false
			}
			path = append(path, tok)
		}
	}
	return pointerOf(path), cur, true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
