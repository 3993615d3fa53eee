package forms

import (
	"slices"
	"strconv"
)

// picklistKeyword names, in a field type's schema fragment, the tenant
// picklist whose keys the property holds (the select field types set it).
const picklistKeyword = "x-picklist"

// picklistUse is a property whose values are keys of a tenant's picklist:
// one key (a select field) or an array of keys (a multi-select field).
type picklistUse struct {
	// path leads from the root through object properties; "*" stands
	// for every element of an array.
	path []string
	kind string
}

// PicklistValue is one picklist key held by a record.
type PicklistValue struct {
	// Pointer is the JSON pointer of the value in the record.
	Pointer string
	// Kind is the picklist the key must belong to.
	Kind string
	// Key is the value.
	Key string
}

// picklistUses returns the picklist properties of node and of everything
// below it (object properties and array items), in property-name order.
func picklistUses(node map[string]any, prefix []string) []picklistUse {
	if kind, ok := node[picklistKeyword].(string); ok {
		return []picklistUse{{path: prefix, kind: kind}}
	}
	var out []picklistUse
	if props, ok := node["properties"].(map[string]any); ok {
		for _, k := range sortedKeys(props) {
			if child, ok := props[k].(map[string]any); ok {
				out = append(out, picklistUses(child, append(slices.Clone(prefix), k))...)
			}
		}
	}
	if items, ok := node["items"].(map[string]any); ok {
		out = append(out, picklistUses(items, append(slices.Clone(prefix), "*"))...)
	}
	return out
}

// PicklistValues returns the picklist keys record holds under the given
// top-level properties (Fields for all), in the order of the form's
// picklist properties and then of their positions. Values that are not
// strings are left out: the Validator refuses them.
func (f *Form) PicklistValues(record map[string]any, top []string) []PicklistValue {
	var out []PicklistValue
	for _, u := range f.picklists {
		if len(u.path) == 0 || !slices.Contains(top, u.path[0]) {
			continue
		}
		collectPicklistValues(record, u.path, "", u.kind, &out)
	}
	return out
}

// collectPicklistValues appends the keys found at path below v, whose
// pointer is ptr.
func collectPicklistValues(v any, path []string, ptr, kind string, out *[]PicklistValue) {
	if len(path) == 0 {
		switch x := v.(type) {
		case string:
			*out = append(*out, PicklistValue{Pointer: ptr, Kind: kind, Key: x})
		case []any:
			for i, e := range x {
				if s, ok := e.(string); ok {
					*out = append(*out, PicklistValue{Pointer: ptr + "/" + strconv.Itoa(i), Kind: kind, Key: s})
				}
			}
		}
		return
	}
	switch x := v.(type) {
	case map[string]any:
		if path[0] == "*" {
			return
		}
		if child, ok := x[path[0]]; ok {
			collectPicklistValues(child, path[1:], childPointer(ptr, path[0]), kind, out)
		}
	case []any:
		if path[0] != "*" {
			return
		}
		for i, e := range x {
			collectPicklistValues(e, path[1:], ptr+"/"+strconv.Itoa(i), kind, out)
		}
	}
}
