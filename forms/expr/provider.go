package expr

import (
	"slices"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// objectType is one declared object type: the CEL type and the CEL types of its fields.
type objectType struct {
	typ    *types.Type
	fields map[string]*types.Type
	names  []string
}

// provider is a types.Provider that knows the object types derived from one schema and
// delegates everything else to the standard CEL registry.
//
// The field types carry no accessors, so at run time the interpreter reads fields of these
// objects as keys of plain maps; the declared types only serve the type checker.
type provider struct {
	base    *types.Registry
	objects map[string]*objectType
}

// RegisterDescriptor delegates to the standard registry; CEL libraries such as optional
// values register their types through it while the environment is built.
func (p *provider) RegisterDescriptor(fd protoreflect.FileDescriptor) error {
	return p.base.RegisterDescriptor(fd)
}

// RegisterType delegates to the standard registry, like RegisterDescriptor.
func (p *provider) RegisterType(ts ...ref.Type) error {
	return p.base.RegisterType(ts...)
}

// EnumValue delegates to the standard registry.
func (p *provider) EnumValue(enumName string) ref.Val {
	return p.base.EnumValue(enumName)
}

// FindIdent delegates to the standard registry.
func (p *provider) FindIdent(identName string) (ref.Val, bool) {
	return p.base.FindIdent(identName)
}

// FindStructType returns the type of a declared object, or delegates to the standard registry.
func (p *provider) FindStructType(structType string) (*types.Type, bool) {
	if o, ok := p.objects[structType]; ok {
		return types.NewTypeTypeWithParam(o.typ), true
	}
	return p.base.FindStructType(structType)
}

// FindStructFieldNames returns the sorted field names of a declared object, or delegates to the standard registry.
func (p *provider) FindStructFieldNames(structType string) ([]string, bool) {
	if o, ok := p.objects[structType]; ok {
		return slices.Clone(o.names), true
	}
	return p.base.FindStructFieldNames(structType)
}

// FindStructFieldType returns the type of a field of a declared object, or delegates to the standard registry.
func (p *provider) FindStructFieldType(structType, fieldName string) (*types.FieldType, bool) {
	if o, ok := p.objects[structType]; ok {
		t, found := o.fields[fieldName]
		if !found {
			return nil, false
		}
		return &types.FieldType{Type: t}, true
	}
	return p.base.FindStructFieldType(structType, fieldName)
}

// NewValue builds a declared object as a map from field name to value, matching how
// records are represented at run time, or delegates to the standard registry.
func (p *provider) NewValue(structType string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.objects[structType]; ok {
		m := make(map[ref.Val]ref.Val, len(fields))
		for k, v := range fields {
			m[types.String(k)] = v
		}
		return types.NewRefValMap(p.base, m)
	}
	return p.base.NewValue(structType, fields)
}
