package forms

import (
	"errors"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers can classify failures with errors.Is.
var (
	// ErrInvalidSchema marks a schema that cannot be compiled or published.
	ErrInvalidSchema = errors.New("forms: invalid schema")
	// ErrExternalRef marks a schema naming a reference outside itself.
	ErrExternalRef = errors.New("forms: external reference refused")
	// ErrSchemaTooLarge marks a schema over CompilerOptions.MaxSchemaBytes.
	ErrSchemaTooLarge = errors.New("forms: schema too large")
	// ErrDocumentTooLarge marks a document over CompilerOptions.MaxDocumentBytes.
	ErrDocumentTooLarge = errors.New("forms: document too large")
	// ErrInvalidConfig marks a field type configuration that does not decode.
	ErrInvalidConfig = errors.New("forms: invalid plugin configuration")
	// ErrDuplicatePlugin marks a second plugin with an id or format name
	// already registered.
	ErrDuplicatePlugin = errors.New("forms: duplicate plugin")
	// ErrInvalidPlugin marks a plugin whose id or name is malformed.
	ErrInvalidPlugin = errors.New("forms: invalid plugin")
	// ErrMissingPlugin marks a plugin a definition names but the registry
	// does not hold.
	ErrMissingPlugin = errors.New("forms: missing plugin")
	// ErrRegistryInstalled marks a format registered after InstallFormats,
	// which gojsonschema would never see.
	ErrRegistryInstalled = errors.New("forms: formats already installed")
)

// SchemaError reports what is wrong with a schema and where.
type SchemaError struct {
	// Pointer is the JSON Pointer of the offending value in the schema; ""
	// is the whole schema.
	Pointer string
	// Reason says what is wrong, in English, for logs and form designers.
	Reason string
	// Err is the sentinel or underlying error; ErrInvalidSchema when nil.
	Err error
}

// Error implements error.
func (e *SchemaError) Error() string {
	var b strings.Builder
	b.WriteString("forms: invalid schema at ")
	if e.Pointer == "" {
		b.WriteString("the root")
	} else {
		b.WriteString(e.Pointer)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns the underlying errors: ErrInvalidSchema and, when set, Err.
func (e *SchemaError) Unwrap() []error {
	if e.Err == nil || e.Err == ErrInvalidSchema {
		return []error{ErrInvalidSchema}
	}
	return []error{ErrInvalidSchema, e.Err}
}

// ConfigError reports a field type configuration that does not decode.
type ConfigError struct {
	// Plugin is the id of the field type.
	Plugin string
	// Pointer is the JSON Pointer of the offending value in the configuration.
	Pointer string
	// Reason says what is wrong, in English.
	Reason string
	// Err is the underlying decoding error, if any.
	Err error
}

// Error implements error.
func (e *ConfigError) Error() string {
	p := e.Pointer
	if p == "" {
		p = "the root"
	}
	return "forms: invalid configuration of " + e.Plugin + " at " + p + ": " + e.Reason
}

// Unwrap returns ErrInvalidConfig and the underlying error, if any.
func (e *ConfigError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrInvalidConfig}
	}
	return []error{ErrInvalidConfig, e.Err}
}
