package forms

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xeipuuv/gojsonschema"
)

// Plugin is anything a form definition may name: formats, field types,
// record validators, transition actions and approver resolvers. Its id is
// namespaced, "<kind>.<name>" in lower case, such as "format.cn_mobile" or
// "field.money".
type Plugin interface {
	ID() string
}

// Format is a JSON Schema "format" a schema may name. Its id is in the
// "format." namespace.
type Format interface {
	Plugin
	// Name returns the format name schemas use, such as "cn_mobile".
	Name() string
	// IsFormat reports whether input has the format. gojsonschema passes
	// strings and, for numbers, a *big.Rat; values the format does not
	// apply to (anything but strings, for the built-in formats) pass, as
	// draft-07 asks.
	IsFormat(input any) bool
}

// FieldType is a kind of form field. Its id is in the "field." namespace.
type FieldType interface {
	Plugin
	// Schema returns the JSON Schema fragment a field of this type with
	// config stands for. Config is decoded strictly: unknown keys and
	// values of the wrong type are refused with a *ConfigError naming
	// their JSON Pointer. An empty or null config is the default one.
	Schema(config json.RawMessage) (json.RawMessage, error)
}

// RecordValidator is a check a definition attaches to a property with the
// "x-validators" keyword, for what JSON Schema cannot say (rows of a
// sub-table that repeat each other, a date relative to the day it is
// submitted). Its id is in the "validator." namespace.
type RecordValidator interface {
	Plugin
	// Configure decodes config strictly, refusing unknown keys and bad
	// values with a *ConfigError naming their JSON Pointer in config, and
	// returns the check for a property whose JSON Schema is schema (the
	// subschema as written, its field type's fragment merged in). A
	// property the validator cannot check is refused with a *ConfigError
	// too. Designer.Check calls it once for each use; the Form keeps the
	// check.
	Configure(config, schema json.RawMessage) (ValueCheck, error)
	// Messages returns the en and zh-CN texts of every message key its
	// failures use, keyed by message key and then by locale, with {param}
	// placeholders. Each key is "form.<id>" or starts with "form.<id>.",
	// such as "form.validator.date_range.min".
	Messages() map[string]map[string]string
}

// ValueCheck is a RecordValidator configured for one property. It is
// immutable and safe for concurrent use.
type ValueCheck interface {
	// Validate checks value, the property's value in a record the schema
	// accepted; it is not called when the property is absent. record is
	// the whole record, for checks that compare fields, and now the time of
	// the submission. It returns one Failure for each problem, none when
	// the value is good. It must not modify value or record.
	Validate(value any, record map[string]any, now time.Time) []Failure
}

// Failure is one problem a ValueCheck found.
type Failure struct {
	// Pointer is the JSON Pointer of the offending value below the checked
	// value: "" for the value itself, "/2/sku" for a cell of a sub-table.
	Pointer string
	// MessageKey names the message among the validator's Messages.
	MessageKey string
	// Params fill the message's {placeholders}.
	Params map[string]string
}

// Action is a workflow transition action (set a field, assign, notify, send
// a webhook, …), named in flow definitions. Its id is in the "action."
// namespace. The workflow engine fills this extension point.
type Action interface {
	Plugin
	// CheckConfig decodes config strictly, refusing unknown keys and bad
	// values with a *ConfigError naming their JSON Pointer.
	CheckConfig(config json.RawMessage) error
}

// ApproverResolver turns an approval step's configuration into approvers
// (named users, a role, the n-th level supervisor, …). Its id is in the
// "approver." namespace. The workflow engine fills this extension point.
type ApproverResolver interface {
	Plugin
	// CheckConfig decodes config strictly, refusing unknown keys and bad
	// values with a *ConfigError naming their JSON Pointer.
	CheckConfig(config json.RawMessage) error
}

// Registry holds the plugins forms may name. It is built at start-up and
// passed to whatever needs it; there is no global registry. Its methods are
// safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	plugins   map[string]Plugin
	formats   map[string]Format // by Name
	installed bool
	install   sync.Once
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{plugins: make(map[string]Plugin), formats: make(map[string]Format)}
}

// Register adds p. It refuses a malformed id, an id already registered
// (ErrDuplicatePlugin), a Format outside the "format." namespace or whose
// name is malformed or taken, a FieldType outside "field.", a
// RecordValidator outside "validator." or whose messages are not in its
// own namespace or lack a locale, and a Format registered after
// InstallFormats (ErrRegistryInstalled).
func (r *Registry) Register(p Plugin) error {
	id := p.ID()
	kind, _, ok := strings.Cut(id, ".")
	if !ok || !isPluginName(kind) || !isPluginName(id[len(kind)+1:]) {
		return fmt.Errorf("%w: id %q is not <kind>.<name> in lower case", ErrInvalidPlugin, id)
	}
	f, isFormat := p.(Format)
	if isFormat != (kind == "format") {
		return fmt.Errorf("%w: %s: formats, and only they, belong in the format. namespace", ErrInvalidPlugin, id)
	}
	if _, isField := p.(FieldType); isField != (kind == "field") {
		return fmt.Errorf("%w: %s: field types, and only they, belong in the field. namespace", ErrInvalidPlugin, id)
	}
	v, isValidator := p.(RecordValidator)
	if isValidator != (kind == "validator") {
		return fmt.Errorf("%w: %s: record validators, and only they, belong in the validator. namespace", ErrInvalidPlugin, id)
	}
	if isValidator {
		if err := checkValidatorMessages(id, v.Messages()); err != nil {
			return err
		}
	}
	if _, isAction := p.(Action); kind == "action" && !isAction {
		return fmt.Errorf("%w: %s: plugins in the action. namespace must be actions", ErrInvalidPlugin, id)
	}
	if _, isResolver := p.(ApproverResolver); kind == "approver" && !isResolver {
		return fmt.Errorf("%w: %s: plugins in the approver. namespace must be approver resolvers", ErrInvalidPlugin, id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.plugins[id]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicatePlugin, id)
	}
	if isFormat {
		name := f.Name()
		if !isFormatName(name) {
			return fmt.Errorf("%w: %s: format name %q is malformed", ErrInvalidPlugin, id, name)
		}
		if other, dup := r.formats[name]; dup {
			return fmt.Errorf("%w: %s: format name %q is %s's", ErrDuplicatePlugin, id, name, other.ID())
		}
		if r.installed {
			return fmt.Errorf("%w: %s", ErrRegistryInstalled, id)
		}
		r.formats[name] = f
	}
	r.plugins[id] = p
	return nil
}

// Plugin returns the plugin with id.
func (r *Registry) Plugin(id string) (Plugin, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.plugins[id]
	return p, ok
}

// Format returns the format schemas name name.
func (r *Registry) Format(name string) (Format, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	f, ok := r.formats[name]
	return f, ok
}

// FieldType returns the field type with id, such as "field.money".
func (r *Registry) FieldType(id string) (FieldType, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ft, ok := r.plugins[id].(FieldType)
	return ft, ok
}

// RecordValidator returns the record validator with id, such as
// "validator.unique_in_rows".
func (r *Registry) RecordValidator(id string) (RecordValidator, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.plugins[id].(RecordValidator)
	return v, ok
}

// ValidatorMessages returns the zh-CN and en texts of every message key the
// registered record validators use, keyed by message key and then by
// locale, for the client-facing catalogue next to Messages. Each call
// returns a fresh map.
func (r *Registry) ValidatorMessages() map[string]map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]map[string]string)
	for _, p := range r.plugins {
		v, ok := p.(RecordValidator)
		if !ok {
			continue
		}
		for key, texts := range v.Messages() {
			out[key] = map[string]string{"en": texts["en"], "zh-CN": texts["zh-CN"]}
		}
	}
	return out
}

// checkValidatorMessages refuses a record validator's messages unless each
// key is in its namespace ("form.<id>" or "form.<id>.…") and has a text in
// both locales.
func checkValidatorMessages(id string, messages map[string]map[string]string) error {
	prefix := "form." + id
	for key, texts := range messages {
		if key != prefix && !strings.HasPrefix(key, prefix+".") {
			return fmt.Errorf("%w: %s: message key %q is outside %s", ErrInvalidPlugin, id, key, prefix)
		}
		if texts["en"] == "" || texts["zh-CN"] == "" {
			return fmt.Errorf("%w: %s: message %q lacks an en or zh-CN text", ErrInvalidPlugin, id, key)
		}
	}
	return nil
}

// IDs returns the ids of every plugin, sorted.
func (r *Registry) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.plugins))
	for id := range r.plugins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Require returns an error wrapping ErrMissingPlugin that lists the ids the
// registry does not hold, or nil when it holds them all. Publishing a form
// definition calls it with the plugins the definition names.
func (r *Registry) Require(ids ...string) error {
	var missing []string
	r.mu.RLock()
	for _, id := range ids {
		if _, ok := r.plugins[id]; !ok {
			missing = append(missing, id)
		}
	}
	r.mu.RUnlock()
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return fmt.Errorf("%w: %s", ErrMissingPlugin, strings.Join(missing, ", "))
}

// InstallFormats adds every registered Format to gojsonschema's format
// checkers under its name. That map is process-wide, shared by every
// Compiler and Validator: the server calls InstallFormats once at start-up,
// after registering every plugin. Later calls on the same registry do
// nothing; formats registered afterwards are refused. A format named like
// one of gojsonschema's built-ins ("email") replaces it.
func (r *Registry) InstallFormats() {
	r.install.Do(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.installed = true
		for name, f := range r.formats {
			gojsonschema.FormatCheckers.Add(name, formatChecker{f})
		}
	})
}

// formatChecker adapts a Format to gojsonschema.
type formatChecker struct{ f Format }

// IsFormat implements gojsonschema.FormatChecker.
func (c formatChecker) IsFormat(input any) bool { return c.f.IsFormat(input) }

// builtinFormat reports whether gojsonschema implements the format name of
// draft-07 (or, like "uuid", of a later draft). Draft-07's "idn-hostname" is
// not among them: gojsonschema would let every value pass.
func builtinFormat(name string) bool {
	switch name {
	case "date", "time", "date-time", "email", "idn-email", "hostname",
		"ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference",
		"uri-template", "uuid", "regex", "json-pointer", "relative-json-pointer":
		return true
	}
	return false
}

// CheckSchema refuses, with a *SchemaError naming its JSON Pointer, any
// "format" in schema that is neither a registered format nor one
// gojsonschema implements: gojsonschema lets values of an unknown format
// pass silently. Publishing a form version runs it besides Compile.
func (r *Registry) CheckSchema(schema []byte) error {
	doc, err := parseJSON(schema, false)
	if err != nil {
		je := err.(*jsonError)
		return &SchemaError{Pointer: je.Pointer, Reason: je.Error(), Err: je.Err}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return walkSchema(doc, func(m map[string]any, ptr string) error {
		v, ok := m["format"]
		if !ok {
			return nil
		}
		name, ok := v.(string)
		if !ok {
			return &SchemaError{Pointer: childPointer(ptr, "format"), Reason: "format must be a string"}
		}
		if _, ok := r.formats[name]; !ok && !builtinFormat(name) {
			return &SchemaError{
				Pointer: childPointer(ptr, "format"),
				Reason:  fmt.Sprintf("format %q is not registered", name),
				Err:     ErrMissingPlugin,
			}
		}
		return nil
	})
}

// isPluginName reports whether s is a lower-case name: [a-z][a-z0-9_]*.
func isPluginName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// isFormatName reports whether s may name a format: [a-z][a-z0-9_-]*.
func isFormatName(s string) bool {
	return isPluginName(strings.ReplaceAll(s, "-", "_"))
}

// Compile-time checks.
var _ gojsonschema.FormatChecker = formatChecker{}
