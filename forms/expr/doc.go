// Package expr owns the one expression language of forms and flows: CEL programs over a
// record's data (typed from the form's JSON Schema) and the viewer, type-checked when a
// definition is saved or published, evaluated with a cost limit.
//
// # Variables
//
// Every expression sees three variables:
//
//   - data: the record, an object whose fields carry the CEL types derived from the form
//     version's JSON Schema (see NewEnv);
//   - viewer: the user the expression is evaluated for, an object with the fields
//     id (string), roles (list(string)), permissions (list(string)) and department (string);
//   - now: the evaluation time, a timestamp.
//
// # Typing
//
// NewEnv turns the JSON Schema into declared CEL object types: the root object becomes the
// type custos.form.Data, a nested object with properties becomes custos.form.Data.<name>,
// and the object items of an array become custos.form.Data.<name>[]. A small types.Provider
// (see provider.go) tells the CEL type checker the fields of these types and their types,
// so `data.amount > 'x'`, `data.title + 1` and `data.nope` are rejected when a definition is
// saved, not when a record is evaluated. The mapping is:
//
//	string (any format, including date, date-time and money) → string
//	integer                                                   → int
//	number                                                    → double
//	boolean                                                   → bool
//	array with a single items schema                          → list(<items>)
//	object with properties                                    → a declared object type (closed: unknown fields do not compile)
//	object without properties                                 → map(string, <additionalProperties> or dyn)
//	["T", "null"]                                             → T
//	anything else ($ref, allOf, anyOf, oneOf, enum without type, several types) → dyn
//
// At run time the values are plain decoded JSON; Eval first normalises them to the
// declared types (a float64 that holds an integral value in an integer field becomes an
// int, an int or json.Number in a number field becomes a double, and a JSON null in an
// object field is dropped, so it reads as absent).
//
// # Numbers
//
// Comparisons across numeric types are enabled, so `data.amount > 10` works for a number
// field. Arithmetic is not: CEL has no implicit int → double conversion, so an integer
// field times a number field is written `double(data.qty) * data.price`, and equality
// with a literal on a number field is written with a double literal, `data.amount == 10.0`.
//
// # Absent fields
//
// A schema field that is absent from a record (optional, or null) makes an expression
// that reads it fail with an evaluation error ("no such key"), never a panic. Designers
// guard with has(), as in `has(data.discount) && data.discount > 0.0`, or use an optional
// selection, as in `data.?discount.orValue(0.0) > 0.0`.
//
// # Dates
//
// Date and date-time fields are strings. A date-time (RFC 3339) is compared after
// conversion, as in `timestamp(data.due) < now`; a date is converted with an explicit
// time, as in `timestamp(data.day + 'T00:00:00Z')`. Time functions default to UTC.
//
// # Sandbox
//
// The environment holds the CEL standard library, optional values, and the pure string
// extension functions (cel-go ext.Strings); no function does I/O. Every evaluation runs
// with a cost limit (DefaultCostLimit unless WithCostLimit says otherwise) and honours the
// context's deadline; exceeding the cost returns ErrCostLimit.
package expr
