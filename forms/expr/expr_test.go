package expr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSchema covers every schema construct NewEnv maps.
const testSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "definitions": {"x": {"type": "string"}},
  "properties": {
    "title":    {"type": "string", "maxLength": 100},
    "amount":   {"type": "number"},
    "qty":      {"type": "number"},
    "price":    {"type": "number"},
    "count":    {"type": "integer"},
    "active":   {"type": "boolean"},
    "due":      {"type": "string", "format": "date-time"},
    "day":      {"type": "string", "format": "date"},
    "fee":      {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
    "tags":     {"type": "array", "items": {"type": "string"}},
    "nums":     {"type": "array", "items": {"type": "integer"}},
    "tuple":    {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
    "address":  {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
    "lines":    {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    "meta":     {"type": "object"},
    "labels":   {"type": "object", "additionalProperties": {"type": "string"}},
    "discount": {"type": ["number", "null"]},
    "either":   {"anyOf": [{"type": "string"}, {"type": "number"}]},
    "ref":      {"$ref": "#/definitions/x"}
  }
}`

func newTestEnv(t testing.TB, opts ...Option) *Env {
	t.Helper()
	env, err := NewEnv([]byte(testSchema), opts...)
	if err != nil {
		t.Fatalf("NewEnv: %v", err)
	}
	return env
}

// decode decodes JSON the way the record store does, so numbers arrive as float64.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// adminViewer is a viewer with the admin role.
func adminViewer() Viewer {
	return Viewer{ID: "u1", Roles: []string{"admin", "sales"}, Permissions: []string{"deal.approve"}, Department: "sales"}
}

// memberViewer is a viewer without the admin role.
func memberViewer() Viewer {
	return Viewer{ID: "u2", Roles: []string{"sales"}, Department: "support"}
}

// testNow is the evaluation time of the tests.
func testNow() time.Time {
	return time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
}

func TestCompileOK(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name string
		src  string
		kind Kind
		out  string
	}{
		{"number vs int literal", "data.amount > 10", KindBool, "bool"},
		{"number vs double literal", "data.amount >= 10.5", KindBool, "bool"},
		{"number equality with double literal", "data.amount == 10.0", KindBool, "bool"},
		{"integer equality", "data.count == 3", KindBool, "bool"},
		{"integer vs double comparison", "data.count < 2.5", KindBool, "bool"},
		{"boolean field", "data.active", KindBool, "bool"},
		{"string function", "data.title.startsWith('A')", KindBool, "bool"},
		{"string extension", "data.title.lowerAscii().trim() == 'a'", KindBool, "bool"},
		{"viewer roles", "'admin' in viewer.roles", KindBool, "bool"},
		{"viewer permissions and department", "viewer.department == 'sales' && 'deal.approve' in viewer.permissions", KindBool, "bool"},
		{"viewer id", "viewer.id != ''", KindBool, "bool"},
		{"has guard", "has(data.discount) && data.discount > 0.0", KindBool, "bool"},
		{"optional select", "data.?discount.orValue(0.0) > 0.0", KindBool, "bool"},
		{"nested object", "data.address.city == 'Berlin'", KindBool, "bool"},
		{"array of objects", "data.lines.all(l, l.qty > 0 && l.sku != '')", KindBool, "bool"},
		{"array of strings", "data.tags.exists(t, t == 'vip')", KindBool, "bool"},
		{"map of strings", "data.labels['k'] == 'v'", KindBool, "bool"},
		{"untyped object is dyn", "data.meta.anything == 1", KindBool, "bool"},
		{"anyOf is dyn", "data.either == 'x'", KindBool, "bool"},
		{"ref is dyn", "data.ref == 'x'", KindBool, "bool"},
		{"tuple is list(dyn)", "data.tuple[1] == 2", KindBool, "bool"},
		{"date-time field", "timestamp(data.due) < now", KindBool, "bool"},
		{"date field", "timestamp(data.day + 'T00:00:00Z') <= now", KindBool, "bool"},
		{"duration", "now - timestamp(data.due) > duration('24h')", KindBool, "bool"},
		{"money is a string", "data.fee == '10.00'", KindBool, "bool"},
		{"multi-line", "data.amount > 1000.0\n  && 'admin' in viewer.roles", KindBool, "bool"},
		{"escaped identifier", "data.`title` == 'x'", KindBool, "bool"},
		{"computed product", "data.qty * data.price", KindValue, "double"},
		{"computed with conversion", "double(data.count) * data.price", KindValue, "double"},
		{"computed string", "data.title + ' (' + data.address.city + ')'", KindValue, "string"},
		{"computed list", "data.tags.map(t, t.upperAscii())", KindValue, "list(string)"},
		{"computed sum", "data.lines.map(l, l.qty).size()", KindValue, "int"},
		{"bool as value", "data.active", KindValue, "bool"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := env.Compile(tt.src, tt.kind)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			if got := p.OutputType(); got != tt.out {
				t.Errorf("OutputType() = %q, want %q", got, tt.out)
			}
			if p.Source() != tt.src || p.Kind() != tt.kind {
				t.Errorf("Source/Kind = %q/%v, want %q/%v", p.Source(), p.Kind(), tt.src, tt.kind)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name      string
		src       string
		kind      Kind
		msg       string // substring of Message
		line, col int
	}{
		{"number vs string", "data.amount > 'x'", KindBool, "found no matching overload for '_>_' applied to '(double, string)'", 1, 13},
		{"string plus int", "data.title + 1", KindValue, "found no matching overload for '_+_' applied to '(string, int)'", 1, 12},
		{"int times double", "data.count * data.price", KindValue, "'_*_' applied to '(int, double)'", 1, 12},
		{"number equals int literal", "data.amount == 10", KindBool, "'_==_' applied to '(double, int)'", 1, 13},
		{"non-bool guard", "data.amount", KindBool, "must produce a bool, but produces double", 1, 1},
		{"non-bool guard string", "data.title + 'x'", KindBool, "must produce a bool, but produces string", 1, 1},
		{"non-bool guard after blank lines", "\n\n  data.count", KindBool, "must produce a bool, but produces int", 3, 3},
		{"unknown field", "data.nope", KindBool, "undefined field 'nope'", 1, 5},
		{"unknown nested field", "data.address.nope == ''", KindBool, "undefined field 'nope'", 1, 13},
		{"unknown field in array item", "data.lines[0].nope == ''", KindBool, "undefined field 'nope'", 1, 14},
		{"unknown viewer field", "viewer.email == ''", KindBool, "undefined field 'email'", 1, 7},
		{"has on unknown field", "has(data.nope)", KindBool, "undefined field 'nope'", 1, 4},
		{"syntax error", "data.title ==", KindBool, "Syntax error", 1, 14},
		{"syntax error on line 2", "data.amount > 1.0 &&\n  (data.title == 'x'", KindBool, "Syntax error: missing ')'", 2, 21},
		{"unknown variable", "record.title == 'x'", KindBool, "undeclared reference to 'record'", 1, 1},
		{"list of strings vs int", "data.tags.exists(t, t > 1)", KindBool, "'_>_' applied to '(string, int)'", 1, 23},
		{"no file reading", "readFile('/etc/passwd') == ''", KindBool, "undeclared reference to 'readFile'", 1, 9},
		{"no environment", "env('HOME') == ''", KindBool, "undeclared reference to 'env'", 1, 4},
		{"no http", "http.get('https://example.com') == ''", KindBool, "undeclared reference to 'http'", 1, 1},
		{"no exec", "exec('ls') == ''", KindBool, "undeclared reference to 'exec'", 1, 5},
		{"several errors", "data.nope && data.nada", KindBool, "(and 1 more error)", 1, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Compile(tt.src, tt.kind)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) = %v, want a *CompileError", tt.src, err)
			}
			if !errors.Is(err, ErrCompile) {
				t.Errorf("errors.Is(err, ErrCompile) = false")
			}
			if ce.Expression != tt.src {
				t.Errorf("Expression = %q, want %q", ce.Expression, tt.src)
			}
			if !strings.Contains(ce.Message, tt.msg) {
				t.Errorf("Message = %q, want it to contain %q", ce.Message, tt.msg)
			}
			if ce.Line != tt.line || ce.Column != tt.col {
				t.Errorf("position = %d:%d, want %d:%d (%s)", ce.Line, ce.Column, tt.line, tt.col, ce.Message)
			}
			if !strings.HasPrefix(err.Error(), "expr: ") {
				t.Errorf("Error() = %q, want the expr: prefix", err)
			}
		})
	}
}

func TestCompileLimits(t *testing.T) {
	env := newTestEnv(t)
	long := "data.title == '" + strings.Repeat("x", MaxExpressionLength) + "'"
	if _, err := env.Compile(long, KindBool); !errors.Is(err, ErrCompile) {
		t.Errorf("Compile(long) = %v, want ErrCompile", err)
	}
	if _, err := env.Compile("true", Kind(7)); err == nil || errors.Is(err, ErrCompile) {
		t.Errorf("Compile with an unknown kind = %v, want a plain error", err)
	}
}

func TestCompileComputed(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name    string
		src     string
		field   string
		wantErr error
		msg     string
	}{
		{"double into number", "data.qty * data.price", "amount", nil, ""},
		{"int into number", "data.count * 2", "amount", nil, ""},
		{"string into string", "data.address.city + ', ' + data.address.zip", "title", nil, ""},
		{"nested target", "data.title.upperAscii()", "address.city", nil, ""},
		{"list into list", "data.tags.filter(t, t != '')", "tags", nil, ""},
		{"dyn into string", "data.meta.name", "title", nil, ""},
		{"anything into dyn", "data.count", "either", nil, ""},
		{"map into object", "{'city': 'Berlin', 'zip': '10115'}", "address", nil, ""},
		{"string into number", "data.title", "amount", ErrCompile, `the expression produces string, but field "amount" has type double`},
		{"double into integer", "data.amount * 2.0", "count", ErrCompile, `field "count" has type int`},
		{"list of ints into list of strings", "data.nums", "tags", ErrCompile, "list(int)"},
		{"unknown target", "data.count", "nope", ErrUnknownField, ""},
		{"unknown nested target", "data.count", "address.street", ErrUnknownField, ""},
		{"type error first", "data.title + 1", "title", ErrCompile, "'_+_'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := env.CompileComputed(tt.src, tt.field)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("CompileComputed(%q, %q): %v", tt.src, tt.field, err)
				}
				if p.Kind() != KindValue {
					t.Errorf("Kind() = %v, want value", p.Kind())
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CompileComputed(%q, %q) = %v, want %v", tt.src, tt.field, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestEvalComputed(t *testing.T) {
	env := newTestEnv(t)
	data := decode(t, `{"count": 3, "qty": 2, "price": 9.5, "address": {"city": "Berlin"}}`)
	tests := []struct {
		src, field string
		want       any
	}{
		{"data.count * 2", "amount", 6.0},
		{"data.count * 2", "count", int64(6)},
		{"data.qty * data.price", "amount", 19.0},
		{"data.address.city.upperAscii()", "title", "BERLIN"},
		{"data.count", "either", int64(3)},
	}
	for _, tt := range tests {
		t.Run(tt.src+" into "+tt.field, func(t *testing.T) {
			p, err := env.CompileComputed(tt.src, tt.field)
			if err != nil {
				t.Fatalf("CompileComputed: %v", err)
			}
			got, err := p.Eval(context.Background(), data, memberViewer(), testNow())
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if !equal(got, tt.want) {
				t.Errorf("Eval = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestNewEnvSchemas(t *testing.T) {
	tests := []struct {
		name    string
		schema  string
		src     string // compiled as KindBool when the schema is valid
		wantErr error  // from NewEnv
		compile bool   // whether src compiles
	}{
		{"not JSON", `{"type":`, "", ErrSchema, false},
		{"not an object", `[]`, "", ErrSchema, false},
		{"root not an object", `{"type": "string"}`, "", ErrSchema, false},
		{"trailing data", `{} {}`, "", ErrSchema, false},
		{"empty schema has no fields", `{}`, "has(data.x)", nil, false},
		{"properties without type", `{"properties": {"x": {"type": "integer"}}}`, "data.x > 1", nil, true},
		{"nullable root", `{"type": ["object", "null"], "properties": {"x": {"type": "boolean"}}}`, "data.x", nil, true},
		{"allOf adds fields", `{"type": "object", "properties": {"a": {"type": "string"}}, "allOf": [{"properties": {"b": {"type": "integer"}}}]}`, "data.a == '' && data.b == 1", nil, true},
		{"conflicting types become dyn", `{"type": "object", "properties": {"a": {"type": "string"}}, "anyOf": [{"properties": {"a": {"type": "integer"}}}]}`, "data.a == 1", nil, true},
		{"several types are dyn", `{"type": "object", "properties": {"a": {"type": ["string", "integer"]}}}`, "data.a == 1", nil, true},
		{"object property named like a type", `{"type": "object", "properties": {"custos": {"type": "object", "properties": {"form": {"type": "string"}}}}}`, "data.custos.form == ''", nil, true},
		{"typed additionalProperties", `{"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "integer"}}}}`, "data.m['a'] > 'x'", nil, false},
		{"deep nesting becomes dyn", deepSchema(maxSchemaDepth + 5), "has(data.f)", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := NewEnv([]byte(tt.schema))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("NewEnv = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewEnv: %v", err)
			}
			_, err = env.Compile(tt.src, KindBool)
			if tt.compile && err != nil {
				t.Errorf("Compile(%q): %v", tt.src, err)
			}
			if !tt.compile && err == nil {
				t.Errorf("Compile(%q) succeeded, want an error", tt.src)
			}
		})
	}
}

// deepSchema nests objects depth times under the property f.
func deepSchema(depth int) string {
	var b strings.Builder
	for range depth {
		b.WriteString(`{"type": "object", "properties": {"f": `)
	}
	b.WriteString(`{"type": "string"}`)
	for range depth {
		b.WriteString(`}}`)
	}
	return b.String()
}

func TestEval(t *testing.T) {
	env := newTestEnv(t)
	record := `{
		"title": "Acme deal", "amount": 12000, "qty": 2, "price": 9.5, "count": 3, "active": true,
		"due": "2025-06-01T00:00:00Z", "day": "2025-06-16", "fee": "10.00",
		"tags": ["vip", "new"], "nums": [1, 2, 3],
		"address": {"city": "Berlin", "zip": "10115"},
		"lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
		"meta": {"source": "web", "score": 7},
		"labels": {"k": "v"},
		"discount": null
	}`
	data := decode(t, record)
	tests := []struct {
		name   string
		src    string
		kind   Kind
		viewer Viewer
		want   any
	}{
		{"admin guard allows admin", "'admin' in viewer.roles", KindBool, adminViewer(), true},
		{"admin guard denies member", "'admin' in viewer.roles", KindBool, memberViewer(), false},
		{"guard without roles", "'admin' in viewer.roles", KindBool, Viewer{}, false},
		{"permission and department", "viewer.department == 'sales' && 'deal.approve' in viewer.permissions", KindBool, adminViewer(), true},
		{"number vs int literal", "data.amount > 10000", KindBool, memberViewer(), true},
		{"integer from float64", "data.count == 3", KindBool, memberViewer(), true},
		{"integer arithmetic", "data.count + 1", KindValue, memberViewer(), int64(4)},
		{"computed product", "data.qty * data.price", KindValue, memberViewer(), 19.0},
		{"computed with conversion", "double(data.count) * data.price", KindValue, memberViewer(), 28.5},
		{"startsWith true", "data.title.startsWith('A')", KindBool, memberViewer(), true},
		{"startsWith false", "data.title.startsWith('B')", KindBool, memberViewer(), false},
		{"string extension", "data.title.lowerAscii().split(' ')", KindValue, memberViewer(), []any{"acme", "deal"}},
		{"due before now", "timestamp(data.due) < now", KindBool, memberViewer(), true},
		{"day after now", "timestamp(data.day + 'T00:00:00Z') > now", KindBool, memberViewer(), true},
		{"overdue by more than a day", "now - timestamp(data.due) > duration('24h')", KindBool, memberViewer(), true},
		{"now in UTC", "now.getHours() == 12 && now.getFullYear() == 2025", KindBool, memberViewer(), true},
		{"now as value", "now", KindValue, memberViewer(), testNow()},
		{"nested object", "data.address.city == 'Berlin'", KindBool, memberViewer(), true},
		{"array of objects", "data.lines.all(l, l.qty > 0)", KindBool, memberViewer(), true},
		{"sum of line quantities", "data.lines.map(l, l.qty)", KindValue, memberViewer(), []any{int64(2), int64(1)}},
		{"map field", "data.labels", KindValue, memberViewer(), map[string]any{"k": "v"}},
		{"dyn field", "data.meta.score > 5", KindBool, memberViewer(), true},
		{"null is absent", "has(data.discount)", KindBool, memberViewer(), false},
		{"optional default", "data.?discount.orValue(0.5)", KindValue, memberViewer(), 0.5},
		{"missing optional field", "has(data.either)", KindBool, memberViewer(), false},
		{"guarded absent field", "has(data.either) && data.either == 'x'", KindBool, memberViewer(), false},
		{"money string", "data.fee", KindValue, memberViewer(), "10.00"},
		{"null literal", "null", KindValue, memberViewer(), nil},
		{"map with int keys", "{1: 'a'}", KindValue, memberViewer(), map[string]any{"1": "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := env.Compile(tt.src, tt.kind)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			got, err := p.Eval(context.Background(), data, tt.viewer, testNow())
			if err != nil {
				t.Fatalf("Eval(%q): %v", tt.src, err)
			}
			if !equal(got, tt.want) {
				t.Errorf("Eval(%q) = %#v, want %#v", tt.src, got, tt.want)
			}
			if b, isBool := tt.want.(bool); isBool {
				gotB, err := p.EvalBool(context.Background(), data, tt.viewer, testNow())
				if err != nil || gotB != b {
					t.Errorf("EvalBool(%q) = %v, %v; want %v", tt.src, gotB, err, b)
				}
			}
		})
	}
	t.Run("input is not modified", func(t *testing.T) {
		if data["count"] != 3.0 || data["discount"] != nil {
			t.Errorf("data was modified: count=%#v discount=%#v", data["count"], data["discount"])
		}
		if _, ok := data["discount"]; !ok {
			t.Errorf("the null discount was removed from the input")
		}
	})
}

// equal compares results; time.Time values are compared with Equal.
func equal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

func TestEvalNumberInputs(t *testing.T) {
	env := newTestEnv(t)
	p, err := env.Compile("data.count * 2 + int(data.amount)", KindValue)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(`{"count": 4, "amount": 1.5e1}`)))
	dec.UseNumber()
	var withNumbers map[string]any
	if err := dec.Decode(&withNumbers); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data map[string]any
	}{
		{"float64", map[string]any{"count": 4.0, "amount": 15.0}},
		{"Go ints", map[string]any{"count": 4, "amount": 15}},
		{"int64", map[string]any{"count": int64(4), "amount": int64(15)}},
		{"json.Number", withNumbers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Eval(context.Background(), tt.data, memberViewer(), testNow())
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if got != int64(23) {
				t.Errorf("Eval = %#v, want 23", got)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name    string
		src     string
		kind    Kind
		data    map[string]any
		wantErr error
		msg     string
	}{
		{"absent field", "data.title.startsWith('A')", KindBool, map[string]any{}, ErrEval, "no such key: title"},
		{"absent nested field", "data.address.city == 'x'", KindBool, map[string]any{"address": map[string]any{}}, ErrEval, "no such key: city"},
		{"nil data", "data.count > 1", KindBool, nil, ErrEval, "no such key: count"},
		{"division by zero", "data.count / 0", KindValue, map[string]any{"count": 1.0}, ErrEval, "division by zero"},
		{"index out of range", "data.tags[5]", KindValue, map[string]any{"tags": []any{"a"}}, ErrEval, "index"},
		{"bad timestamp", "timestamp(data.due) < now", KindBool, map[string]any{"due": "yesterday"}, ErrEval, "timestamp"},
		{"value of the wrong type", "data.count > 1", KindBool, map[string]any{"count": "many"}, ErrEval, "no such overload"},
		{"object field holding a string", "data.address.city == 'x'", KindBool, map[string]any{"address": "Main St"}, ErrEval, "no such key"},
		{"list field holding an object", "data.tags[0] == 'a'", KindBool, map[string]any{"tags": map[string]any{"a": "b"}}, ErrEval, "no such key"},
		{"dyn guard that is not a bool", "data.meta.flag", KindBool, map[string]any{"meta": map[string]any{"flag": "yes"}}, ErrNotBool, "string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := env.Compile(tt.src, tt.kind)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.src, err)
			}
			_, err = p.Eval(context.Background(), tt.data, memberViewer(), testNow())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Eval(%q) = %v, want %v", tt.src, err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
	t.Run("EvalBool of a value", func(t *testing.T) {
		p, err := env.Compile("data.amount * 2.0", KindValue)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.EvalBool(context.Background(), map[string]any{"amount": 1.0}, memberViewer(), testNow()); !errors.Is(err, ErrNotBool) {
			t.Errorf("EvalBool = %v, want ErrNotBool", err)
		}
	})
	t.Run("optional result", func(t *testing.T) {
		p, err := env.Compile("optional.of(data.amount)", KindValue)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.Eval(context.Background(), map[string]any{"amount": 1.0}, memberViewer(), testNow())
		if err != nil || got != 1.0 {
			t.Errorf("Eval(optional) = %#v, %v; want 1.0", got, err)
		}
	})
}

// bigList returns n decoded JSON numbers.
func bigList(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = float64(i)
	}
	return l
}

// literalList returns a CEL list literal of the integers 1..n.
func literalList(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i + 1)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestCostLimit(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		src  string
		data map[string]any
		over bool
	}{
		{"nested comprehension over data", nil, "data.nums.all(x, data.nums.all(y, x * y >= 0))", map[string]any{"nums": bigList(1000)}, true},
		{"nested comprehension over literals", nil, fmt.Sprintf("%[1]s.all(x, %[1]s.all(y, x * y >= 0))", literalList(200)), nil, true},
		{"string building", nil, "data.nums.map(x, data.title + data.title).size() > 0", map[string]any{"nums": bigList(5000), "title": strings.Repeat("x", 1000)}, true},
		{"small list fits", nil, "data.nums.all(x, data.nums.all(y, x * y >= 0))", map[string]any{"nums": bigList(20)}, false},
		{"typical guard fits", nil, "'admin' in viewer.roles && data.amount > 1000.0 && data.title.startsWith('A')", map[string]any{"amount": 2000.0, "title": "Acme"}, false},
		{"lower limit", []Option{WithCostLimit(50)}, "data.nums.all(x, x >= 0)", map[string]any{"nums": bigList(100)}, true},
		{"higher limit", []Option{WithCostLimit(10_000_000)}, "data.nums.all(x, data.nums.all(y, x * y >= 0))", map[string]any{"nums": bigList(300)}, false},
		{"zero keeps the default", []Option{WithCostLimit(0)}, "data.nums.all(x, data.nums.all(y, x * y >= 0))", map[string]any{"nums": bigList(1000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, tt.opts...)
			p, err := env.Compile(tt.src, KindBool)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			start := time.Now()
			_, err = p.Eval(context.Background(), tt.data, adminViewer(), testNow())
			if tt.over {
				if !errors.Is(err, ErrCostLimit) {
					t.Fatalf("Eval = %v, want ErrCostLimit", err)
				}
				if elapsed := time.Since(start); elapsed > 2*time.Second {
					t.Errorf("stopping at the cost limit took %v", elapsed)
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	// Without a practical cost limit, only the deadline stops this expression
	// (27 million iterations).
	env := newTestEnv(t, WithCostLimit(math.MaxUint64))
	p, err := env.Compile("data.nums.all(x, data.nums.all(y, data.nums.all(z, x + y + z >= 0)))", KindBool)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"nums": bigList(300)}
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := p.Eval(ctx, data, adminViewer(), testNow())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Eval = %v, want context.DeadlineExceeded", err)
		}
		if errors.Is(err, ErrCostLimit) || errors.Is(err, ErrEval) {
			t.Errorf("a deadline is reported as %v", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("the deadline was noticed after %v", elapsed)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.EvalBool(ctx, data, adminViewer(), testNow()); !errors.Is(err, context.Canceled) {
			t.Fatalf("EvalBool = %v, want context.Canceled", err)
		}
	})
}

func TestConcurrentEval(t *testing.T) {
	env := newTestEnv(t)
	p, err := env.Compile("'admin' in viewer.roles && data.amount > 1000.0 && data.title.startsWith('A')", KindBool)
	if err != nil {
		t.Fatal(err)
	}
	data := decode(t, `{"amount": 2000, "title": "Acme"}`)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			v := memberViewer()
			if i%2 == 0 {
				v = adminViewer()
			}
			for range 100 {
				got, err := p.EvalBool(context.Background(), data, v, testNow())
				if err != nil || got != (i%2 == 0) {
					t.Errorf("EvalBool = %v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEvalGuard(b *testing.B) {
	env := newTestEnv(b)
	p, err := env.Compile("'admin' in viewer.roles && data.amount > 1000.0 && data.title.startsWith('A')", KindBool)
	if err != nil {
		b.Fatal(err)
	}
	data := decode(b, `{"title": "Acme deal", "amount": 12000, "count": 3, "tags": ["vip"], "address": {"city": "Berlin"}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.EvalBool(ctx, data, adminViewer(), testNow())
		if err != nil || !ok {
			b.Fatalf("EvalBool = %v, %v", ok, err)
		}
	}
}
