package expr

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Program is a compiled, type-checked expression. It is safe for concurrent use.
type Program struct {
	env  *Env
	prg  cel.Program
	src  string
	kind Kind
	out  *types.Type
	// target is the shape of the field a computed value is stored in, if known.
	target *shape
}

// Source returns the expression the program was compiled from.
func (p *Program) Source() string { return p.src }

// Kind returns the kind the program was compiled as.
func (p *Program) Kind() Kind { return p.kind }

// OutputType returns the CEL type the expression produces, such as "bool", "double" or
// "list(string)".
func (p *Program) OutputType() string { return typeName(p.out) }

// Viewer is the user an expression is evaluated for.
type Viewer struct {
	ID          string
	Roles       []string
	Permissions []string
	Department  string
}

// Eval evaluates the program with the given data (decoded JSON), viewer and time, within
// the Env's cost limit and the context's deadline. Exceeding the cost fails with
// ErrCostLimit; a deadline or cancellation fails with an error that wraps the context's
// error; other failures wrap ErrEval. The result is a Go value: bool, int64, uint64,
// float64, string, []byte, nil, time.Time, time.Duration, []any or map[string]any; a
// KindBool program returns a bool.
func (p *Program) Eval(ctx context.Context, data map[string]any, v Viewer, now time.Time) (any, error) {
	out, err := p.eval(ctx, data, v, now)
	if err != nil {
		return nil, err
	}
	if p.kind == KindBool {
		b, ok := out.(types.Bool)
		if !ok {
			return nil, fmt.Errorf("%w: %q produced %s", ErrNotBool, p.src, out.Type().TypeName())
		}
		return bool(b), nil
	}
	if p.target != nil && p.target.kind == shapeDouble {
		if i, ok := out.(types.Int); ok {
			return float64(i), nil
		}
	}
	return toNative(out)
}

// EvalBool evaluates the program like Eval and returns its bool result; a result that is
// not a bool fails with ErrNotBool.
func (p *Program) EvalBool(ctx context.Context, data map[string]any, v Viewer, now time.Time) (bool, error) {
	out, err := p.eval(ctx, data, v, now)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%w: %q produced %s", ErrNotBool, p.src, out.Type().TypeName())
	}
	return bool(b), nil
}

// eval runs the program and maps CEL's errors to the package's.
func (p *Program) eval(ctx context.Context, data map[string]any, v Viewer, now time.Time) (ref.Val, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("expr: evaluation cancelled: %w", context.Cause(ctx))
	}
	vars := map[string]any{
		"data":   normalizeObject(data, p.env.data),
		"viewer": v.value(),
		"now":    now,
	}
	out, _, err := p.prg.ContextEval(ctx, vars)
	if err == nil {
		return out, nil
	}
	var cancelled interpreter.EvalCancelledError
	switch {
	case errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded:
		return nil, fmt.Errorf("%w: %q costs more than %d", ErrCostLimit, p.src, p.env.costLimit)
	case errors.Is(err, interpreter.InterruptError{}), ctx.Err() != nil:
		return nil, fmt.Errorf("expr: evaluation cancelled: %w", context.Cause(ctx))
	default:
		return nil, fmt.Errorf("%w: %q: %w", ErrEval, p.src, err)
	}
}

// value returns the viewer as the object the expressions see.
func (v Viewer) value() map[string]any {
	roles, perms := v.Roles, v.Permissions
	if roles == nil {
		roles = []string{}
	}
	if perms == nil {
		perms = []string{}
	}
	return map[string]any{
		"id":          v.ID,
		"roles":       roles,
		"permissions": perms,
		"department":  v.Department,
	}
}
