package expr

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package; match them with errors.Is.
var (
	// ErrCostLimit is returned by Eval when an evaluation exceeds the cost limit of its Env.
	ErrCostLimit = errors.New("expr: cost limit exceeded")
	// ErrCompile is matched by every *CompileError.
	ErrCompile = errors.New("expr: expression does not compile")
	// ErrSchema is returned by NewEnv when the JSON Schema cannot be read.
	ErrSchema = errors.New("expr: invalid schema")
	// ErrEval is returned by Eval when an evaluation fails, for example on an absent field
	// or a division by zero; the CEL error is wrapped too.
	ErrEval = errors.New("expr: evaluation failed")
	// ErrNotBool is returned by EvalBool when the expression did not produce a bool.
	ErrNotBool = errors.New("expr: result is not a bool")
	// ErrResult is returned by Eval when the result cannot be converted to a Go value.
	ErrResult = errors.New("expr: unsupported result")
	// ErrUnknownField is returned by CompileComputed when the target field is not in the schema.
	ErrUnknownField = errors.New("expr: unknown field")
)

// CompileError says why an expression does not parse or type-check, and where.
type CompileError struct {
	// Expression is the source that failed.
	Expression string
	// Message is the first problem found, readable by a form designer; when there are
	// several, it says how many more there are.
	Message string
	// Line and Column locate the problem; both start at 1, and both are 0 when the
	// problem has no position.
	Line, Column int
}

// Error formats the error with its position.
func (e *CompileError) Error() string {
	if e.Line <= 0 {
		return "expr: " + e.Message
	}
	return fmt.Sprintf("expr: %d:%d: %s", e.Line, e.Column, e.Message)
}

// Unwrap makes errors.Is(err, ErrCompile) true for every compile error.
func (e *CompileError) Unwrap() error {
	return ErrCompile
}
