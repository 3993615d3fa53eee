package expr

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
)

// DefaultCostLimit is the cost limit of an evaluation unless WithCostLimit sets another.
// CEL's cost is roughly one unit per operation, comprehension iteration and string
// comparison; typical guards cost well under 100.
const DefaultCostLimit uint64 = 10_000

// MaxExpressionLength is the longest expression, in code points, that Compile accepts.
const MaxExpressionLength = 8192

// interruptCheckFrequency is how many comprehension iterations run between two checks of
// the context's deadline.
const interruptCheckFrequency = 100

// stringsVersion pins the version of cel-go's string extension so that the functions an
// expression may call do not change when cel-go is upgraded.
const stringsVersion = 5

// Env is a CEL environment for one form version: `data` is an object whose fields have the
// CEL types derived from the JSON Schema, and `viewer` is {id: string, roles: list(string),
// permissions: list(string), department: string}; `now` is a timestamp.
//
// An Env is immutable and safe for concurrent use.
type Env struct {
	cel       *cel.Env
	data      *shape
	costLimit uint64
}

// Option configures an Env.
type Option func(*options)

// options holds what the Options of NewEnv set.
type options struct {
	costLimit uint64
}

// WithCostLimit sets the cost limit of every evaluation of the Env's programs; 0 keeps
// DefaultCostLimit.
func WithCostLimit(limit uint64) Option {
	return func(o *options) {
		if limit > 0 {
			o.costLimit = limit
		}
	}
}

// NewEnv derives the CEL declarations from a draft-07 JSON Schema whose root is an object
// (see the package documentation for the mapping of schema types to CEL types); unknown or
// complex constructs are typed dyn. It fails with ErrSchema when the schema is not a JSON
// object or its root is not of type object.
func NewEnv(schema []byte, opts ...Option) (*Env, error) {
	o := options{costLimit: DefaultCostLimit}
	for _, opt := range opts {
		opt(&o)
	}
	data, objects, err := buildSchema(schema)
	if err != nil {
		return nil, err
	}
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, fmt.Errorf("expr: new type registry: %w", err)
	}
	env, err := cel.NewEnv(
		cel.CustomTypeAdapter(reg),
		cel.CustomTypeProvider(&provider{base: reg, objects: objects}),
		cel.Variable("data", data.typ),
		cel.Variable("viewer", cel.ObjectType(viewerTypeName)),
		cel.Variable("now", cel.TimestampType),
		cel.CrossTypeNumericComparisons(true),
		cel.DefaultUTCTimeZone(true),
		cel.EnableIdentifierEscapeSyntax(),
		cel.ParserExpressionSizeLimit(MaxExpressionLength),
		cel.OptionalTypes(),
		ext.Strings(ext.StringsVersion(stringsVersion)),
	)
	if err != nil {
		return nil, fmt.Errorf("expr: new CEL environment: %w", err)
	}
	return &Env{cel: env, data: data, costLimit: o.costLimit}, nil
}

// Kind says what an expression must produce.
type Kind int

const (
	// KindBool is for guards, visible-if, required-if and validations: the expression
	// must produce a bool (or dyn, checked when it is evaluated).
	KindBool Kind = iota
	// KindValue is for computed values: the expression may produce any type.
	KindValue
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindValue:
		return "value"
	default:
		return fmt.Sprintf("Kind(%d)", int(k))
	}
}

// Compile parses and type-checks src; its errors are *CompileError values that say what
// is wrong and where, so a designer can fix the expression when saving a definition.
func (e *Env) Compile(src string, kind Kind) (*Program, error) {
	if kind != KindBool && kind != KindValue {
		return nil, fmt.Errorf("expr: unknown expression kind %v", kind)
	}
	ast, iss := e.cel.Compile(src)
	if iss.Err() != nil {
		return nil, compileError(src, iss.Errors())
	}
	out := ast.OutputType()
	if kind == KindBool && !out.IsExactType(cel.BoolType) && out.Kind() != types.DynKind {
		return nil, wholeError(src, fmt.Sprintf("the expression must produce a bool, but produces %s", typeName(out)))
	}
	prg, err := e.cel.Program(ast,
		cel.CostLimit(e.costLimit),
		cel.EvalOptions(cel.OptTrackCost),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
	)
	if err != nil {
		return nil, fmt.Errorf("expr: plan %q: %w", src, err)
	}
	return &Program{env: e, prg: prg, src: src, kind: kind, out: out}, nil
}

// CompileComputed compiles the expression of a computed field: a KindValue expression
// whose type must be assignable to the type of the field at path, a dot-separated path
// of schema properties such as "total" or "address.city". An int is assignable to a
// number field (Eval then returns it as a float64), dyn to any field and any type to a
// dyn field. An unknown path fails with ErrUnknownField; a type mismatch with a
// *CompileError.
func (e *Env) CompileComputed(src, path string) (*Program, error) {
	target, err := e.fieldShape(path)
	if err != nil {
		return nil, err
	}
	p, err := e.Compile(src, KindValue)
	if err != nil {
		return nil, err
	}
	if !assignable(target.typ, p.out) {
		return nil, wholeError(src, fmt.Sprintf("the expression produces %s, but field %q has type %s",
			typeName(p.out), path, typeName(target.typ)))
	}
	p.target = target
	return p, nil
}

// fieldShape returns the shape of the schema field at a dot-separated path.
func (e *Env) fieldShape(path string) (*shape, error) {
	s := e.data
	for part := range strings.SplitSeq(path, ".") {
		next, ok := s.fields[part]
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownField, path)
		}
		s = next
	}
	return s, nil
}

// assignable reports whether a value of type from may be stored in a field of type to.
func assignable(to, from *types.Type) bool {
	switch {
	case to.Kind() == types.DynKind || from.Kind() == types.DynKind:
		return true
	case to.Kind() == types.DoubleKind && from.Kind() == types.IntKind:
		return true
	case to.Kind() == types.StructKind && from.Kind() == types.MapKind:
		return from.Parameters()[0].Kind() == types.StringKind || from.Parameters()[0].Kind() == types.DynKind
	case to.Kind() != from.Kind():
		return false
	case to.Kind() == types.StructKind:
		return to.TypeName() == from.TypeName()
	}
	tp, fp := to.Parameters(), from.Parameters()
	if len(tp) != len(fp) {
		return to.IsAssignableType(from)
	}
	for i := range tp {
		if !assignable(tp[i], fp[i]) {
			return false
		}
	}
	return true
}

// typeName formats a CEL type for a message.
func typeName(t *types.Type) string {
	return t.String()
}

// compileError converts CEL's issues into a *CompileError.
func compileError(src string, errs []*common.Error) *CompileError {
	ce := &CompileError{Expression: src, Message: "the expression is invalid"}
	if len(errs) == 0 {
		return ce
	}
	first := errs[0]
	ce.Message = first.Message
	if n := len(errs) - 1; n == 1 {
		ce.Message += " (and 1 more error)"
	} else if n > 1 {
		ce.Message += fmt.Sprintf(" (and %d more errors)", n)
	}
	if loc := first.Location; loc != nil && loc.Line() > 0 {
		ce.Line, ce.Column = loc.Line(), loc.Column()+1
	}
	return ce
}

// wholeError builds a *CompileError about the expression as a whole, located where the
// expression begins.
func wholeError(src, msg string) *CompileError {
	ce := &CompileError{Expression: src, Message: msg, Line: 1, Column: 1}
	for _, r := range src {
		switch r {
		case '\n':
			ce.Line++
			ce.Column = 1
		case ' ', '\t', '\r':
			ce.Column++
		default:
			return ce
		}
	}
	return &CompileError{Expression: src, Message: msg}
}
