package expr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"cel.dev/cel-go/common/types"
)

// Names of the declared object types. They live in a namespace of their own so that no
// expression identifier (data, viewer, now) resolves to a type by accident.
const (
	dataTypeName   = "custos.form.Data"
	viewerTypeName = "custos.form.Viewer"
)

// maxSchemaDepth bounds how deep NewEnv follows nested objects and arrays; deeper
// subschemas are typed dyn.
const maxSchemaDepth = 32

// shapeKind is the kind of CEL type a subschema maps to.
type shapeKind int

const (
	shapeDyn shapeKind = iota
	shapeString
	shapeInt
	shapeDouble
	shapeBool
	shapeList
	shapeMap
	shapeObject
)

// shape is the CEL view of one subschema: its CEL type and, for containers, the shapes of
// what they contain. Eval uses it to normalise decoded JSON to the declared types.
type shape struct {
	kind   shapeKind
	typ    *types.Type
	elem   *shape            // list elements and map values
	fields map[string]*shape // object fields
}

// dynShape returns the shape of a subschema typed dyn.
func dynShape() *shape {
	return &shape{kind: shapeDyn, typ: types.DynType}
}

// schemaBuilder derives shapes from a JSON Schema and collects the object types it declares.
type schemaBuilder struct {
	objects map[string]*objectType
}

// buildSchema parses a draft-07 JSON Schema whose root is an object and returns the shape
// of the root (an object named dataTypeName) and every declared object type, the viewer
// type included.
func buildSchema(schema []byte) (*shape, map[string]*objectType, error) {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("%w: trailing data after the schema", ErrSchema)
	}
	node, ok := root.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: the schema is not a JSON object", ErrSchema)
	}
	if t, present := node["type"]; present && schemaType(node) != "object" {
		return nil, nil, fmt.Errorf("%w: the root of the schema must have type object, not %v", ErrSchema, t)
	}
	b := &schemaBuilder{objects: map[string]*objectType{}}
	b.declare(viewerTypeName, map[string]*shape{
		"id":          {kind: shapeString, typ: types.StringType},
		"roles":       {kind: shapeList, typ: types.NewListType(types.StringType), elem: &shape{kind: shapeString, typ: types.StringType}},
		"permissions": {kind: shapeList, typ: types.NewListType(types.StringType), elem: &shape{kind: shapeString, typ: types.StringType}},
		"department":  {kind: shapeString, typ: types.StringType},
	})
	data := b.object(node, dataTypeName, 0)
	return data, b.objects, nil
}

// declare registers an object type under a name that is not yet taken and returns its type.
func (b *schemaBuilder) declare(name string, fields map[string]*shape) *types.Type {
	unique := name
	for i := 2; b.objects[unique] != nil; i++ {
		unique = name + "~" + strconv.Itoa(i)
	}
	o := &objectType{
		typ:    types.NewObjectType(unique),
		fields: make(map[string]*types.Type, len(fields)),
		names:  slices.Sorted(maps.Keys(fields)),
	}
	for k, s := range fields {
		o.fields[k] = s.typ
	}
	b.objects[unique] = o
	return o.typ
}

// shapeOf maps one subschema to its shape; name is the type name an object found here gets.
func (b *schemaBuilder) shapeOf(raw any, name string, depth int) *shape {
	node, ok := raw.(map[string]any)
	if !ok || depth > maxSchemaDepth {
		return dynShape()
	}
	if _, ref := node["$ref"]; ref {
		// In draft-07 a $ref replaces its siblings; references are not followed here.
		return dynShape()
	}
	switch schemaType(node) {
	case "string":
		return &shape{kind: shapeString, typ: types.StringType}
	case "integer":
		return &shape{kind: shapeInt, typ: types.IntType}
	case "number":
		return &shape{kind: shapeDouble, typ: types.DoubleType}
	case "boolean":
		return &shape{kind: shapeBool, typ: types.BoolType}
	case "array":
		items, single := node["items"].(map[string]any)
		if !single {
			// No items, or a tuple of items: the elements may have any type.
			elem := dynShape()
			return &shape{kind: shapeList, typ: types.NewListType(elem.typ), elem: elem}
		}
		elem := b.shapeOf(items, name+"[]", depth+1)
		return &shape{kind: shapeList, typ: types.NewListType(elem.typ), elem: elem}
	case "object":
		if _, hasProps := node["properties"]; hasProps {
			return b.object(node, name, depth)
		}
		elem := dynShape()
		if ap, isSchema := node["additionalProperties"].(map[string]any); isSchema {
			if _, hasPatterns := node["patternProperties"]; !hasPatterns {
				elem = b.shapeOf(ap, name+"{}", depth+1)
			}
		}
		return &shape{kind: shapeMap, typ: types.NewMapType(types.StringType, elem.typ), elem: elem}
	default:
		return dynShape()
	}
}

// object declares the object type of a subschema with properties. Properties that
// allOf, anyOf, oneOf, then or else subschemas add are fields too; a property declared
// twice with different types is typed dyn.
func (b *schemaBuilder) object(node map[string]any, name string, depth int) *shape {
	fields := map[string]*shape{}
	add := func(props map[string]any) {
		for _, key := range slices.Sorted(maps.Keys(props)) {
			s := b.shapeOf(props[key], name+"."+key, depth+1)
			if prev, dup := fields[key]; dup && !prev.typ.IsExactType(s.typ) {
				s = dynShape()
			}
			fields[key] = s
		}
	}
	if props, ok := node["properties"].(map[string]any); ok {
		add(props)
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
		subs, _ := node[kw].([]any)
		for _, sub := range subs {
			if m, ok := sub.(map[string]any); ok {
				if props, ok := m["properties"].(map[string]any); ok {
					add(props)
				}
			}
		}
	}
	for _, kw := range []string{"then", "else"} {
		if m, ok := node[kw].(map[string]any); ok {
			if props, ok := m["properties"].(map[string]any); ok {
				add(props)
			}
		}
	}
	typ := b.declare(name, fields)
	return &shape{kind: shapeObject, typ: typ, fields: fields}
}

// schemaType returns the single JSON type of a subschema: its type keyword, the one
// non-null member of a type list, or object when it only has properties. It returns ""
// when the subschema does not name exactly one type.
func schemaType(node map[string]any) string {
	switch t := node["type"].(type) {
	case string:
		return t
	case []any:
		var found string
		for _, member := range t {
			s, ok := member.(string)
			if !ok {
				return ""
			}
			if s == "null" {
				continue
			}
			if found != "" {
				return ""
			}
			found = s
		}
		return found
	case nil:
		if _, ok := node["properties"]; ok {
			return "object"
		}
	}
	return ""
}
