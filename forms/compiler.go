package forms

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonreference"
	"github.com/xeipuuv/gojsonschema"
)

// Validator checks documents against one compiled schema. Implementations
// are safe for concurrent use.
type Validator interface {
	// Validate reports what is wrong with doc, a JSON document: a nil
	// *ValidationError when it is valid. Malformed JSON is reported as a
	// ValidationError too (keyword "json"); the error is for technical
	// failures only: a cancelled ctx, or a document over the size limit
	// (ErrDocumentTooLarge).
	Validate(ctx context.Context, doc []byte) (*ValidationError, error)
}

// RefLoader returns the schema document found at url (without its fragment).
// It exists for tests only: the JSON-Schema-Test-Suite's remotes. Production
// compilers have none and refuse every external reference.
type RefLoader func(url string) ([]byte, error)

// The defaults for CompilerOptions' limits.
const (
	DefaultMaxSchemaBytes   = 256 << 10
	DefaultMaxDocumentBytes = 1 << 20
)

// CompilerOptions configure a Compiler. The zero value is the production
// configuration.
type CompilerOptions struct {
	// MaxSchemaBytes bounds a schema's size; 0 means DefaultMaxSchemaBytes.
	MaxSchemaBytes int
	// MaxDocumentBytes bounds the size of a validated document; 0 means
	// DefaultMaxDocumentBytes.
	MaxDocumentBytes int
	// Loader resolves external references; nil refuses every one, both
	// when the schema is checked and when gojsonschema resolves it. Only
	// tests set it.
	Loader RefLoader
}

// Compiler turns draft-07 JSON Schemas into Validators. Compilation is
// serialised (gojsonschema's loader is not safe for concurrent use); the
// Validators it returns are.
type Compiler struct {
	mu   sync.Mutex
	opts CompilerOptions
}

// NewCompiler returns a Compiler with opts, defaults filled in.
func NewCompiler(opts CompilerOptions) *Compiler {
	if opts.MaxSchemaBytes <= 0 {
		opts.MaxSchemaBytes = DefaultMaxSchemaBytes
	}
	if opts.MaxDocumentBytes <= 0 {
		opts.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	return &Compiler{opts: opts}
}

// Compile checks and compiles schema. It refuses (with a *SchemaError
// naming the JSON Pointer of the problem) a schema over the size limit
// (ErrSchemaTooLarge), malformed or ambiguous JSON, a "$schema" other than
// draft-07, a "$ref" that is not a local fragment ("#" or "#/…") and an
// "$id" below the root (ErrExternalRef; both allowed when a Loader is set),
// a "properties" key that is not an identifier, a schema whose validation
// would not end or would apply more than 1000 subschemas to one value (see
// maxEvaluations), and whatever gojsonschema refuses.
func (c *Compiler) Compile(schema []byte) (Validator, error) {
	if len(schema) > c.opts.MaxSchemaBytes {
		return nil, &SchemaError{
			Reason: fmt.Sprintf("%d bytes, more than the limit of %d", len(schema), c.opts.MaxSchemaBytes),
			Err:    ErrSchemaTooLarge,
		}
	}
	doc, err := parseJSON(schema, false)
	if err != nil {
		je := err.(*jsonError)
		return nil, &SchemaError{Pointer: je.Pointer, Reason: je.Error(), Err: je.Err}
	}
	if err := checkSchema(doc, c.opts.Loader != nil); err != nil {
		return nil, err
	}
	if err := checkComplexity(doc); err != nil {
		return nil, err
	}

	compiled, err := c.compile(doc)
	if err != nil {
		return nil, &SchemaError{Reason: err.Error(), Err: err}
	}
	return &validator{schema: compiled, maxDocument: c.opts.MaxDocumentBytes}, nil
}

// compile hands a parsed schema to gojsonschema, draft-07 pinned, with a
// loader whose references go through the RefLoader, or are refused.
func (c *Compiler) compile(doc any) (*gojsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sl := gojsonschema.NewSchemaLoader()
	sl.Draft = gojsonschema.Draft7
	sl.AutoDetect = false
	// Validate stays false: meta-schema validation would compile the
	// meta-schema on the same pool and swap its loader factory for
	// gojsonschema's own, which fetches.
	sl.Validate = false
	return sl.Compile(&rootLoader{doc: doc, factory: &refFactory{load: c.opts.Loader}})
}

// checkSchema makes the static checks on a parsed schema: the shape of the
// root, "$schema", property keys, and (unless external is set) "$ref" and
// "$id".
func checkSchema(doc any, external bool) error {
	root, ok := doc.(map[string]any)
	if !ok {
		if _, ok := doc.(bool); ok {
			return nil
		}
		return &SchemaError{Reason: "a schema must be an object or a boolean"}
	}
	if s, ok := root["$schema"]; ok && !isDraft7(s) {
		return &SchemaError{Pointer: "/$schema", Reason: "only draft-07 schemas are accepted"}
	}
	return walkSchema(doc, func(m map[string]any, ptr string) error {
		if props, ok := m["properties"].(map[string]any); ok {
			for _, k := range sortedKeys(props) {
				if !isIdentifier(k) {
					return &SchemaError{
						Pointer: childPointer(childPointer(ptr, "properties"), k),
						Reason:  "property key is not an identifier (^[A-Za-z_][A-Za-z0-9_]{0,63}$)",
					}
				}
			}
		}
		if external {
			return nil
		}
		if ref, ok := m["$ref"].(string); ok && ref != "#" && !strings.HasPrefix(ref, "#/") {
			return &SchemaError{
				Pointer: childPointer(ptr, "$ref"),
				Reason:  fmt.Sprintf("reference %q is not a local fragment (#/…)", ref),
				Err:     ErrExternalRef,
			}
		}
		if ptr != "" {
			for _, k := range []string{"$id", "id"} {
				if _, ok := m[k].(string); ok {
					return &SchemaError{
						Pointer: childPointer(ptr, k),
						Reason:  k + " below the root would change the base URI of references",
						Err:     ErrExternalRef,
					}
				}
			}
		}
		return nil
	})
}

// isDraft7 reports whether v names the draft-07 meta-schema.
func isDraft7(v any) bool {
	s, _ := v.(string)
	s = strings.TrimSuffix(s, "#")
	return s == "http://json-schema.org/draft-07/schema" || s == "https://json-schema.org/draft-07/schema"
}

// rootLoader hands gojsonschema an already parsed schema, and with it the
// factory gojsonschema uses for every reference it cannot resolve within
// the documents it holds.
type rootLoader struct {
	doc     any
	factory *refFactory
}

func (l *rootLoader) JsonSource() any                               { return l.doc }
func (l *rootLoader) LoadJSON() (any, error)                        { return l.doc, nil }
func (l *rootLoader) LoaderFactory() gojsonschema.JSONLoaderFactory { return l.factory }
func (l *rootLoader) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference("#")
}

// refFactory makes the loaders for external references. With no RefLoader
// they refuse: gojsonschema's own loaders would fetch http(s) URLs and read
// file:// ones.
type refFactory struct {
	load RefLoader
}

// New implements gojsonschema.JSONLoaderFactory.
func (f *refFactory) New(source string) gojsonschema.JSONLoader {
	return &refLoader{source: source, factory: f}
}

// refLoader loads one external reference through the factory's RefLoader.
type refLoader struct {
	source  string
	factory *refFactory
}

func (l *refLoader) JsonSource() any                               { return l.source }
func (l *refLoader) LoaderFactory() gojsonschema.JSONLoaderFactory { return l.factory }
func (l *refLoader) JsonReference() (gojsonreference.JsonReference, error) {
	return gojsonreference.NewJsonReference(l.source)
}

// LoadJSON returns the referenced document, or ErrExternalRef when there is
// no RefLoader.
func (l *refLoader) LoadJSON() (any, error) {
	if l.factory.load == nil {
		return nil, fmt.Errorf("loading %q: %w", l.source, ErrExternalRef)
	}
	url, _, _ := strings.Cut(l.source, "#")
	data, err := l.factory.load(url)
	if err != nil {
		return nil, fmt.Errorf("loading %q: %w", url, err)
	}
	doc, err := parseJSON(data, false)
	if err != nil {
		return nil, fmt.Errorf("loading %q: %w", url, err)
	}
	return doc, nil
}

// Compile-time checks.
var (
	_ gojsonschema.JSONLoader        = (*rootLoader)(nil)
	_ gojsonschema.JSONLoader        = (*refLoader)(nil)
	_ gojsonschema.JSONLoaderFactory = (*refFactory)(nil)
)
