package flows

import (
	"errors"
	"strings"
)

// ErrInvalidDefinition is matched by every [Problems] error: the definition
// cannot be used as it is.
var ErrInvalidDefinition = errors.New("flows: invalid workflow definition")

// Problem is one thing wrong with a workflow definition.
type Problem struct {
	// Pointer is the JSON Pointer (RFC 6901) of the offending value in the
	// definition, such as "/transitions/1/to"; the empty Pointer is the
	// whole definition.
	Pointer string `json:"pointer"`
	// Message says what is wrong, in English, for the flow's designer.
	Message string `json:"message"`
}

// Problems is the error [Parse] returns: every problem found, sorted by
// pointer (sections in definition order, array indexes by number, other
// tokens alphabetically; problems at one pointer in the order found).
type Problems []Problem

// Error joins the problems into one line, each as "pointer: message".
func (ps Problems) Error() string {
	var b strings.Builder
	b.WriteString("flows: invalid workflow definition: ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Pointer == "" {
			b.WriteString("(root)")
		} else {
			b.WriteString(p.Pointer)
		}
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidDefinition) true for every Problems.
func (ps Problems) Unwrap() error {
	return ErrInvalidDefinition
}

// escapePointer escapes one reference token of a JSON Pointer.
func escapePointer(token string) string {
	if !strings.ContainsAny(token, "~/") {
		return token
	}
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}
