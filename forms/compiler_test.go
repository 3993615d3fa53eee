package forms

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingListener accepts connections on 127.0.0.1 and counts them.
type countingListener struct {
	ln    net.Listener
	count atomic.Int64
	wg    sync.WaitGroup
}

func listen(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{ln: ln}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.count.Add(1)
			_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"type\":\"string\"}"))
			_ = c.Close()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		l.wg.Wait()
	})
	return l
}

func (l *countingListener) url(path string) string { return "http://" + l.ln.Addr().String() + path }

func TestCompileRefusesExternalReferences(t *testing.T) {
	l := listen(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "s.json")
	if err := os.WriteFile(local, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(l.url(""), "http://")
	tests := []struct {
		name, schema, pointer string
	}{
		{"http", `{"$ref": "` + l.url("/x") + `"}`, "/$ref"},
		{"http with a fragment", `{"$ref": "` + l.url("/x#/definitions/a") + `"}`, "/$ref"},
		{"https", `{"$ref": "https://` + host + `/x"}`, "/$ref"},
		{"network-path reference", `{"$ref": "//` + host + `/x"}`, "/$ref"},
		{"file", `{"$ref": "file:///etc/passwd"}`, "/$ref"},
		{"file that exists", `{"$ref": "file://` + filepath.ToSlash(local) + `"}`, "/$ref"},
		{"relative path", `{"$ref": "other.json"}`, "/$ref"},
		{"relative path with a fragment", `{"$ref": "other.json#/a"}`, "/$ref"},
		{"plain-name fragment", `{"definitions": {"a": {"$id": "#a"}}, "$ref": "#a"}`, "/$ref"},
		{"deep in properties", `{"properties": {"a": {"items": {"anyOf": [{"type": "null"}, {"$ref": "` + l.url("/y") + `"}]}}}}`, "/properties/a/items/anyOf/1/$ref"},
		{"in definitions", `{"definitions": {"a/b": {"$ref": "` + l.url("/z") + `"}}, "$ref": "#/definitions/a~1b"}`, "/definitions/a~1b/$ref"},
		{"in dependencies", `{"dependencies": {"a": {"$ref": "` + l.url("/d") + `"}}}`, "/dependencies/a/$ref"},
		{"$id below the root", `{"properties": {"a": {"$id": "` + l.url("/") + `", "$ref": "#/definitions/b", "definitions": {"b": {}}}}}`, "/properties/a/$id"},
		{"under a referenced default", `{"default": {"items": {"$ref": "` + l.url("/d") + `"}}, "$ref": "#/default"}`, "/default/items/$ref"},
		{"draft-04 id below the root", `{"items": {"id": "` + l.url("/") + `"}}`, "/items/id"},
	}
	c := NewCompiler(CompilerOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Compile([]byte(tt.schema))
			var se *SchemaError
			if !errors.As(err, &se) || !errors.Is(err, ErrExternalRef) || !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("Compile = %v, want a *SchemaError wrapping ErrExternalRef", err)
			}
			if se.Pointer != tt.pointer {
				t.Errorf("pointer = %q, want %q", se.Pointer, tt.pointer)
			}
		})
	}
	if n := l.count.Load(); n != 0 {
		t.Errorf("the listener saw %d connections, want none", n)
	}
}

// TestLoaderNeverFetches skips the static check and hands gojsonschema
// external references directly: the loader's factory must refuse them.
func TestLoaderNeverFetches(t *testing.T) {
	l := listen(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "s.json")
	if err := os.WriteFile(local, []byte(`{"type":"string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := NewCompiler(CompilerOptions{})
	for _, schema := range []string{
		`{"$ref": "` + l.url("/x") + `"}`,
		`{"properties": {"a": {"$ref": "` + l.url("/x#/definitions/a") + `"}}}`,
		`{"$ref": "file://` + filepath.ToSlash(local) + `"}`,
		`{"$id": "` + l.url("/root/") + `", "$ref": "other.json"}`,
		`{"$id": "file://` + filepath.ToSlash(dir) + `/", "$ref": "s.json"}`,
	} {
		doc, err := parseJSON([]byte(schema), false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.compile(doc); !errors.Is(err, ErrExternalRef) {
			t.Errorf("compile(%s) = %v, want ErrExternalRef", schema, err)
		}
	}
	if n := l.count.Load(); n != 0 {
		t.Errorf("the listener saw %d connections, want none", n)
	}
}

func TestCompileAllowsLocalReferences(t *testing.T) {
	l := listen(t)
	c := NewCompiler(CompilerOptions{})
	for _, schema := range []string{
		`{"definitions": {"name": {"type": "string"}}, "properties": {"a": {"$ref": "#/definitions/name"}}}`,
		`{"properties": {"tree": {"type": "object", "properties": {"child": {"$ref": "#/properties/tree"}}}}}`,
		`{"$ref": "#/definitions/a", "definitions": {"a": {"type": "string"}}}`,
		// A root $id names the schema; local references still resolve
		// within the document.
		`{"$id": "` + l.url("/root.json") + `", "definitions": {"a": {"type": "integer"}}, "properties": {"n": {"$ref": "#/definitions/a"}}}`,
		`{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`,
		`{"$schema": "http://json-schema.org/draft-07/schema", "type": "object"}`,
		`true`,
	} {
		if _, err := c.Compile([]byte(schema)); err != nil {
			t.Errorf("Compile(%s) = %v", schema, err)
		}
	}
	v, err := c.Compile([]byte(`{"$id": "` + l.url("/root.json") + `", "definitions": {"a": {"type": "integer"}}, "properties": {"n": {"$ref": "#/definitions/a"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := v.Validate(context.Background(), []byte(`{"n": "x"}`))
	if err != nil || verr == nil || verr.Items[0].Pointer != "/n" {
		t.Errorf("Validate = %v, %v; want a type error at /n", verr, err)
	}
	if n := l.count.Load(); n != 0 {
		t.Errorf("the listener saw %d connections, want none", n)
	}
}

func TestCompileRefusesBadSchemas(t *testing.T) {
	tests := []struct {
		name, schema, pointer string
	}{
		{"not JSON", `{"type": }`, "/type"},
		{"duplicate key", `{"type": "object", "type": "string"}`, "/type"},
		{"duplicate nested key", `{"properties": {"a": {"maxLength": 1, "maxLength": 2}}}`, "/properties/a/maxLength"},
		{"data after the schema", `{} {}`, ""},
		{"not valid UTF-8", "{\"title\": \"\xff\"}", ""},
		{"an array", `[]`, ""},
		{"another draft", `{"$schema": "http://json-schema.org/draft-04/schema#"}`, "/$schema"},
		{"key with a dot", `{"properties": {"a.b": {}}}`, "/properties/a.b"},
		{"key with a slash, escaped", `{"properties": {"x": {"items": {"properties": {"a/b~c": {}}}}}}`, "/properties/x/items/properties/a~1b~0c"},
		{"key starting with a digit", `{"properties": {"1a": {}}}`, "/properties/1a"},
		{"empty key", `{"properties": {"": {}}}`, "/properties/"},
		{"key too long", `{"properties": {"` + strings.Repeat("a", 65) + `": {}}}`, "/properties/" + strings.Repeat("a", 65)},
		{"key with CJK", `{"properties": {"名称": {}}}`, "/properties/名称"},
		{"key under a referenced default", `{"examples": [{"properties": {"a-b": {}}}], "$ref": "#/examples/0"}`, "/examples/0/properties/a-b"},
		{"key in a subtable", `{"properties": {"rows": {"type": "array", "items": {"properties": {"$ref": {}}}}}}`, "/properties/rows/items/properties/$ref"},
		{"nested too deep", strings.Repeat(`{"not":`, maxNesting+1) + `{}` + strings.Repeat(`}`, maxNesting+1), "/" + strings.TrimSuffix(strings.Repeat("not/", maxNesting), "/")},
		{"refused by gojsonschema", `{"type": "strin"}`, ""},
		{"bad pattern", `{"pattern": "(?=x)"}`, ""},
		{"number out of range", `{"properties": {"n": {"multipleOf": 1e-999999}}}`, "/properties/n/multipleOf"},
	}
	c := NewCompiler(CompilerOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Compile([]byte(tt.schema))
			var se *SchemaError
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("Compile = %v, want a *SchemaError", err)
			}
			if se.Pointer != tt.pointer {
				t.Errorf("pointer = %q, want %q (%v)", se.Pointer, tt.pointer, err)
			}
			if errors.Is(err, ErrExternalRef) {
				t.Errorf("%v wraps ErrExternalRef", err)
			}
		})
	}
	if _, err := c.Compile([]byte(`{"properties": {"_ok_1": {}, "A": {}, "` + strings.Repeat("a", 64) + `": {}}}`)); err != nil {
		t.Errorf("identifier keys refused: %v", err)
	}
}

func TestSizeLimits(t *testing.T) {
	c := NewCompiler(CompilerOptions{MaxSchemaBytes: 64, MaxDocumentBytes: 32})
	atLimit := `{"type":"object","title":"` + strings.Repeat("x", 64-len(`{"type":"object","title":""}`)) + `"}`
	if len(atLimit) != 64 {
		t.Fatalf("len = %d", len(atLimit))
	}
	v, err := c.Compile([]byte(atLimit))
	if err != nil {
		t.Fatalf("a schema at the limit: %v", err)
	}
	if _, err := c.Compile([]byte(atLimit + " ")); !errors.Is(err, ErrSchemaTooLarge) || !errors.Is(err, ErrInvalidSchema) {
		t.Errorf("a schema over the limit: %v, want ErrSchemaTooLarge", err)
	}
	doc := `{"a":"` + strings.Repeat("y", 32-len(`{"a":""}`)) + `"}`
	if verr, err := v.Validate(context.Background(), []byte(doc)); err != nil || verr != nil {
		t.Errorf("a document at the limit: %v, %v", verr, err)
	}
	if _, err := v.Validate(context.Background(), []byte(doc+" ")); !errors.Is(err, ErrDocumentTooLarge) {
		t.Errorf("a document over the limit: %v, want ErrDocumentTooLarge", err)
	}

	d := NewCompiler(CompilerOptions{})
	if d.opts.MaxSchemaBytes != 256<<10 || d.opts.MaxDocumentBytes != 1<<20 {
		t.Errorf("defaults = %d, %d", d.opts.MaxSchemaBytes, d.opts.MaxDocumentBytes)
	}
}

func TestValidateStopsOnCancelledContext(t *testing.T) {
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := v.Validate(ctx, []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Errorf("Validate = %v, want context.Canceled", err)
	}
}

func TestValidateMalformedDocuments(t *testing.T) {
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for doc, pointer := range map[string]string{
		"":                        "",
		"{":                       "",
		"\xff":                    "",
		`{"a": [1, 2,]}`:          "/a/2",
		`{"a": {"b": 1, "b": 2}}`: "/a/b",
		`{"n": [1e999999]}`:       "/n/0",
		strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1): "/" + strings.TrimSuffix(strings.Repeat("0/", maxNesting), "/"),
	} {
		verr, err := v.Validate(context.Background(), []byte(doc))
		if err != nil || verr == nil || len(verr.Items) != 1 {
			t.Errorf("Validate(%q) = %v, %v; want one item", doc, verr, err)
			continue
		}
		if it := verr.Items[0]; it.Keyword != "json" || it.Pointer != pointer || it.MessageKey != "form.json" {
			t.Errorf("Validate(%q) = %+v, want json at %q", doc, it, pointer)
		}
	}
}

func TestSchemaErrorText(t *testing.T) {
	_, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{"properties": {"a b": {}}}`))
	want := "forms: invalid schema at /properties/a b: property key is not an identifier (^[A-Za-z_][A-Za-z0-9_]{0,63}$)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestCompileRefusesRunawaySchemas(t *testing.T) {
	chain := func(n int) string { // d0 applies d1 twice, d1 applies d2 twice, …
		var b strings.Builder
		b.WriteString(`{"$ref": "#/definitions/d0", "definitions": {`)
		for i := range n {
			fmt.Fprintf(&b, `"d%d": {"allOf": [{"$ref": "#/definitions/d%d"}, {"$ref": "#/definitions/d%d"}]}, `, i, i+1, i+1)
		}
		fmt.Fprintf(&b, `"d%d": {"type": "integer"}}}`, n)
		return b.String()
	}
	tests := []struct {
		name, schema, pointer string
	}{
		{"reference to itself", `{"$ref": "#"}`, "/$ref"},
		{"through anyOf", `{"type": "object", "anyOf": [{"required": ["a"]}, {"$ref": "#"}]}`, "/anyOf/1/$ref"},
		{"through not", `{"not": {"$ref": "#"}}`, "/not/$ref"},
		{"through if", `{"if": {"$ref": "#"}}`, "/if/$ref"},
		{"through dependencies", `{"dependencies": {"a": {"$ref": "#"}}}`, "/dependencies/a/$ref"},
		{"between definitions", `{"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"allOf": [{"$ref": "#/definitions/a"}]}}, "properties": {"x": {"$ref": "#/definitions/a"}}}`, "/definitions/b/allOf/0/$ref"},
		{"escaped pointer", `{"definitions": {"a/b": {"$ref": "#/definitions/a~1b"}}, "items": {"$ref": "#/definitions/a%7E1b"}}`, "/definitions/a~1b/$ref"},
		{"exponential in place", chain(11), "/definitions/d3"},
		{"exponential with depth", `{"items": {"allOf": [{"$ref": "#"}, {"$ref": "#"}]}}`, ""},
		{"two subschemas for every item", `{"items": {"$ref": "#"}, "contains": {"$ref": "#"}}`, ""},
		{"a property matched twice", `{"properties": {"a": {"$ref": "#"}}, "patternProperties": {"^a": {"$ref": "#"}}}`, ""},
		{"a tuple item matched twice", `{"items": [{"$ref": "#"}], "contains": {"$ref": "#"}}`, ""},
	}
	c := NewCompiler(CompilerOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Compile([]byte(tt.schema))
			var se *SchemaError
			if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("Compile = %v, want a *SchemaError", err)
			}
			if se.Pointer != tt.pointer {
				t.Errorf("pointer = %q, want %q (%v)", se.Pointer, tt.pointer, err)
			}
		})
	}
	if _, err := c.Compile([]byte(chain(7))); err != nil {
		t.Errorf("510 subschemas on one value: %v", err)
	}
}

// TestRecursiveSchemasValidateDeepDocuments checks that recursive schemas
// that do descend into the document are accepted, and validate documents
// as deep as the parser allows without trouble.
func TestRecursiveSchemasValidateDeepDocuments(t *testing.T) {
	deep := func(open, leaf, close string) []byte {
		return []byte(strings.Repeat(open, maxNesting-1) + leaf + strings.Repeat(close, maxNesting-1))
	}
	tests := []struct {
		name, schema string
		valid, bad   []byte
	}{
		{
			"a linked list", `{"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}}`,
			deep(`{"next":`, `{"v": 1}`, `}`), deep(`{"next":`, `{"v": "x"}`, `}`),
		},
		{
			"a binary tree", `{"type": "object", "properties": {"left": {"$ref": "#"}, "right": {"$ref": "#"}}, "additionalProperties": {"type": "integer"}}`,
			deep(`{"left":`, `{"n": 1}`, `}`), deep(`{"right":`, `{"n": "x"}`, `}`),
		},
		{
			"nested arrays through definitions", `{"$ref": "#/definitions/list", "definitions": {"list": {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"$ref": "#/definitions/list"}]}}}}`,
			deep(`[`, `[1]`, `]`), deep(`[`, `["x"]`, `]`),
		},
	}
	c := NewCompiler(CompilerOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := c.Compile([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			if verr, err := v.Validate(context.Background(), tt.valid); err != nil || verr != nil {
				t.Errorf("valid document: %v, %v", verr, err)
			}
			if verr, err := v.Validate(context.Background(), tt.bad); err != nil || verr == nil {
				t.Errorf("invalid document: %v, %v", verr, err)
			}
		})
	}
}

// FuzzCompileValidate checks that no schema and document make Compile or
// Validate panic or run away.
func FuzzCompileValidate(f *testing.F) {
	f.Add([]byte(`{"properties":{"a":{"type":"string","maxLength":2}},"required":["a"]}`), []byte(`{"a":"abc"}`))
	f.Add([]byte(`{"items":[{"type":"integer"}],"additionalItems":false,"uniqueItems":true}`), []byte(`[1,1]`))
	f.Add([]byte(`{"anyOf":[{"$ref":"#/definitions/x"}],"definitions":{"x":{"enum":[1,"a",null]}}}`), []byte(`2`))
	f.Add([]byte(`{"if":{"const":1},"then":{"multipleOf":0.5},"else":{"not":{}}}`), []byte(`1.5`))
	f.Add([]byte(`{"dependencies":{"a":["b"],"c":{"required":["d"]}},"propertyNames":{"pattern":"^a"}}`), []byte(`{"a":1,"c":2}`))
	f.Add([]byte(`{"properties":{"n":{"$ref":"#"}},"items":{"$ref":"#/properties/n"}}`), []byte(`{"n":[{"n":[]}]}`))
	c := NewCompiler(CompilerOptions{})
	f.Fuzz(func(t *testing.T, schema, doc []byte) {
		v, err := c.Compile(schema)
		if err != nil {
			return
		}
		_, _ = v.Validate(context.Background(), doc)
	})
}
