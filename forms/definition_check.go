package forms

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"

	"github.com/custos-crm/custos/forms/expr"
)

// Designer checks form definitions before they are saved or published, and
// compiles them into Forms. It is safe for concurrent use.
type Designer struct {
	reg      *Registry
	compiler *Compiler
	// parser parses required rules' conditions, already type-checked by
	// the form's expr.Env, to translate them into JSON Schema. It has the
	// parser options of expr.NewEnv's environments.
	parser   *cel.Env
	exprOpts []expr.Option
}

// NewDesigner returns a Designer checking definitions against the plugins of
// reg and compiling their schemas with c. The options configure the
// expression environment of every Form, such as its cost limit
// (expr.WithCostLimit).
func NewDesigner(reg *Registry, c *Compiler, opts ...expr.Option) (*Designer, error) {
	if reg == nil || c == nil {
		return nil, errors.New("forms: NewDesigner needs a registry and a compiler")
	}
	parser, err := cel.NewEnv(
		cel.EnableIdentifierEscapeSyntax(),
		cel.OptionalTypes(),
		cel.ParserExpressionSizeLimit(expr.MaxExpressionLength),
	)
	if err != nil {
		return nil, fmt.Errorf("forms: new CEL parser: %w", err)
	}
	return &Designer{reg: reg, compiler: c, parser: parser, exprOpts: opts}, nil
}

// Check parses doc (see Parse) and checks everything saving or publishing a
// form version must check, then returns the compiled Form. Every problem is
// reported, together, in a *DefinitionError whose pointers point into doc:
//
//   - the schema's root has type object; its property keys are identifiers;
//     it compiles (no reference outside it, draft-07 only, …);
//   - every "format" is registered or built into gojsonschema;
//   - every "x-field" names a registered field type whose strict
//     configuration decoding accepts "x-config", and whose type does not
//     contradict the subschema's "type";
//   - the only extension keywords are "x-field" and "x-config" (in any
//     subschema but the root), "x-validators" (on properties reached from
//     the root through "properties" only) and "x-sensitive" and
//     "x-searchable" (booleans, on top-level properties only; searchable
//     ones are strings, numbers, integers or booleans);
//   - every "x-validators" entry is an object of "type", naming a
//     registered record validator, and "config", which the validator's
//     Configure accepts for the property's schema;
//   - every plugin the schema uses is listed in plugins, and every listed
//     plugin is installed, once;
//   - every UI schema element is a VerticalLayout, HorizontalLayout, Group
//     (with a label), Control (whose scope is #/properties/<key>, nested as
//     #/properties/a/properties/b, naming a property that exists) or Label
//     (with a text);
//   - every rule has a known kind and the keys of its kind; its field
//     exists; its expression compiles (bool for visible, required and
//     check rules; the field's type for compute rules); a required rule's
//     condition translates into JSON Schema (see Rule);
//   - labels are in zh-CN or en and name properties.
//
// Errors that are not *DefinitionError are technical failures.
func (d *Designer) Check(doc []byte) (*Form, error) {
	def, err := Parse(doc)
	if err != nil {
		return nil, err
	}
	c := &checker{d: d, def: def, listed: make(map[string]bool)}
	return c.check()
}

// pluginUse is a plugin the schema uses, and where.
type pluginUse struct {
	id, ptr string
}

// checker holds the state of one Check.
type checker struct {
	d     *Designer
	def   *Definition
	probs problemList

	// original is the schema as written.
	original map[string]any
	// typing is the schema without extension keywords, each field type's
	// fragment merged into its subschema: what expressions are typed from
	// and what properties are looked up in.
	typing map[string]any
	// effective is the schema that is compiled: without extension
	// keywords, each subschema with a field type replaced by
	// {"allOf": [subschema, fragment]}, required rules appended to the
	// root's allOf.
	effective map[string]any
	// stripped is the schema without extension keywords: its pointers are
	// those of the document, for the compiler's errors.
	stripped map[string]any

	uses       []pluginUse
	listed     map[string]bool
	validators []validatorUse

	form *Form
}

// validatorUse is one entry of a property's "x-validators".
type validatorUse struct {
	v      RecordValidator
	prop   string   // the property's pointer in the schema
	path   []string // the property's path in records
	ptr    string   // the entry's pointer in the document
	config json.RawMessage
}

// fieldUse is a subschema with a field type, and the fragment it stands for.
type fieldUse struct {
	ptr      string // in the schema
	fragment map[string]any
}

// check runs every check of Check on the parsed definition, then compiles
// the effective schema and returns the Form.
func (c *checker) check() (*Form, error) {
	c.form = &Form{}
	// Numbers are kept as json.Number, as gojsonschema expects.
	tree, err := parseJSON(c.def.Schema, false)
	if err != nil {
		return nil, fmt.Errorf("forms: decoding the schema: %w", err)
	}
	root, ok := tree.(map[string]any)
	if !ok {
		// Parse checked it is an object; this is a safety net.
		return nil, fmt.Errorf("forms: the schema is not an object")
	}
	c.original = root

	rootIsObject := c.checkRoot()
	fields := c.walkSchema()
	c.buildSchemas(fields)
	c.configureValidators()
	c.compileStripped()
	c.topLevel()

	var env *expr.Env
	if rootIsObject {
		typing, err := json.Marshal(c.typing)
		if err != nil {
			return nil, fmt.Errorf("forms: encoding the schema: %w", err)
		}
		env, err = expr.NewEnv(typing, c.d.exprOpts...)
		if err != nil {
			c.probs.add("/schema", "form.definition.schema", err, "detail", err.Error())
		}
	}
	if env != nil {
		c.checkRules(env)
	}
	if len(c.def.UISchema) > 0 {
		var ui any
		if err := json.Unmarshal(c.def.UISchema, &ui); err != nil {
			return nil, fmt.Errorf("forms: decoding the UI schema: %w", err)
		}
		c.checkElement(ui, "/uiSchema")
	}
	c.checkLabels()
	c.checkPlugins()
	if err := c.probs.err(); err != nil {
		return nil, err
	}

	schema, err := json.Marshal(c.effective)
	if err != nil {
		return nil, fmt.Errorf("forms: encoding the schema: %w", err)
	}
	v, err := c.d.compiler.Compile(schema)
	if err != nil {
		// The schema as written compiled: what fails comes from field
		// types or required rules.
		c.probs.add("/schema", "form.definition.schema", err, "detail", err.Error())
		return nil, c.probs.err()
	}
	f := c.form
	f.schema = schema
	f.validator = formValidator{v: v}
	f.env = env
	f.rules = copyRules(c.def.Rules)
	return f, nil
}

// schemaPointer returns the document pointer of a pointer into the schema.
func schemaPointer(ptr string) string { return "/schema" + ptr }

// checkRoot checks that the schema's root has type object, and reports
// whether it does.
func (c *checker) checkRoot() bool {
	t, ok := c.original["type"]
	if !ok {
		c.probs.add("/schema/type", "form.definition.missing", nil)
		return false
	}
	if t != "object" {
		c.probs.add("/schema/type", "form.definition.type", nil, "expected", "object")
		return false
	}
	return true
}

// walkSchema checks every subschema of the schema as written: property
// keys, extension keywords, formats and field types. It returns the
// subschemas with a field type.
func (c *checker) walkSchema() []fieldUse {
	var fields []fieldUse
	_ = walkSchema(c.original, func(m map[string]any, ptr string) error {
		if props, ok := m["properties"].(map[string]any); ok {
			for _, k := range sortedKeys(props) {
				if !isIdentifier(k) {
					c.probs.add(schemaPointer(childPointer(childPointer(ptr, "properties"), k)), "form.definition.propertyKey", ErrInvalidSchema)
				}
			}
		}
		topLevel := isTopLevelProperty(ptr)
		for _, k := range sortedKeys(m) {
			if !strings.HasPrefix(k, "x-") {
				continue
			}
			kp := schemaPointer(childPointer(ptr, k))
			switch k {
			case "x-field":
				if ptr == "" {
					c.probs.add(kp, "form.definition.extension", nil, "keyword", k)
				}
			case "x-config":
				if _, ok := m["x-field"]; !ok {
					c.probs.add(schemaPointer(childPointer(ptr, "x-field")), "form.definition.missing", nil)
				}
			case "x-validators":
				c.checkValidators(m, ptr)
			case "x-sensitive", "x-searchable":
				if !topLevel {
					key := "form.definition.sensitive"
					if k == "x-searchable" {
						key = "form.definition.searchable"
					}
					c.probs.add(kp, key, nil)
				} else if _, ok := m[k].(bool); !ok {
					c.probs.add(kp, "form.definition.type", nil, "expected", "boolean")
				}
			default:
				c.probs.add(kp, "form.definition.extension", nil, "keyword", k)
			}
		}
		if f, ok := m["format"]; ok {
			c.checkFormat(f, schemaPointer(childPointer(ptr, "format")))
		}
		if _, ok := m["x-field"]; ok && ptr != "" {
			if frag, ok := c.checkField(m, ptr); ok {
				fields = append(fields, fieldUse{ptr: ptr, fragment: frag})
			}
		}
		return nil
	})
	return fields
}

// designerKeyword reports whether k is one of the extension keywords of
// definitions, which Check removes from the schema.
func designerKeyword(k string) bool {
	switch k {
	case "x-field", "x-config", "x-validators", "x-sensitive", "x-searchable":
		return true
	}
	return false
}

// isTopLevelProperty reports whether ptr, a pointer into the schema, is that
// of a top-level property: /properties/<key>.
func isTopLevelProperty(ptr string) bool {
	rest, ok := strings.CutPrefix(ptr, "/properties/")
	return ok && rest != "" && !strings.Contains(rest, "/")
}

// propertyPath returns the path in records of the subschema at ptr (in the
// schema) when ptr reaches it from the root through "properties" only, as
// /properties/a/properties/b does ([a b]).
func propertyPath(ptr string) ([]string, bool) {
	if ptr == "" {
		return nil, false
	}
	toks := strings.Split(ptr[1:], "/")
	if len(toks)%2 != 0 {
		return nil, false
	}
	path := make([]string, 0, len(toks)/2)
	for i := 0; i < len(toks); i += 2 {
		if toks[i] != "properties" || !isIdentifier(toks[i+1]) {
			return nil, false
		}
		path = append(path, toks[i+1])
	}
	return path, true
}

// checkValidators checks the "x-validators" of the subschema m at ptr (in
// the schema) and records each entry naming a registered record validator,
// to be configured once the schemas are built.
func (c *checker) checkValidators(m map[string]any, ptr string) {
	kp := schemaPointer(childPointer(ptr, "x-validators"))
	path, ok := propertyPath(ptr)
	if !ok {
		c.probs.add(kp, "form.definition.extension", nil, "keyword", "x-validators")
		return
	}
	list, ok := m["x-validators"].([]any)
	if !ok {
		c.probs.add(kp, "form.definition.type", nil, "expected", "array")
		return
	}
	for i, e := range list {
		ep := childPointer(kp, strconv.Itoa(i))
		entry, ok := e.(map[string]any)
		if !ok {
			c.probs.add(ep, "form.definition.type", nil, "expected", "object")
			continue
		}
		for _, k := range sortedKeys(entry) {
			if k != "type" && k != "config" {
				c.probs.add(childPointer(ep, k), "form.definition.unknownKey", nil)
			}
		}
		tp := childPointer(ep, "type")
		t, present := entry["type"]
		if !present {
			c.probs.add(tp, "form.definition.missing", nil)
			continue
		}
		id, ok := t.(string)
		if !ok {
			c.probs.add(tp, "form.definition.type", nil, "expected", "string")
			continue
		}
		v, ok := c.d.reg.RecordValidator(id)
		if !ok {
			c.probs.add(tp, "form.definition.validator", ErrMissingPlugin, "plugin", id)
			continue
		}
		c.uses = append(c.uses, pluginUse{id: id, ptr: tp})
		var config json.RawMessage
		if cfg, ok := entry["config"]; ok {
			b, err := json.Marshal(cfg)
			if err != nil {
				c.probs.add(childPointer(ep, "config"), "form.definition.validatorConfig", err, "plugin", id, "detail", err.Error())
				continue
			}
			config = b
		}
		c.validators = append(c.validators, validatorUse{v: v, prop: ptr, path: path, ptr: ep, config: config})
	}
}

// configureValidators configures each record validator the schema names
// for the schema of its property (its field type's fragment merged in) and
// keeps the checks in the Form.
func (c *checker) configureValidators() {
	for _, u := range c.validators {
		id := u.v.ID()
		cp := childPointer(u.ptr, "config")
		node, ok := nodeAt(c.typing, u.prop).(map[string]any)
		if !ok {
			continue
		}
		schema, err := json.Marshal(node)
		if err != nil {
			c.probs.add(cp, "form.definition.validatorConfig", err, "plugin", id, "detail", err.Error())
			continue
		}
		check, err := u.v.Configure(u.config, schema)
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				c.probs.add(cp+ce.Pointer, "form.definition.validatorConfig", err, "plugin", id, "detail", ce.Reason)
			} else {
				c.probs.add(cp, "form.definition.validatorConfig", err, "plugin", id, "detail", err.Error())
			}
			continue
		}
		c.form.validators = append(c.form.validators, boundValidator{
			id: id, path: u.path, check: check, messages: u.v.Messages(),
		})
		if p, ok := u.v.(Provisioner); ok {
			c.form.provisions = append(c.form.provisions, provisionUse{p: p, ptr: cp, config: u.config})
		}
	}
}

// checkFormat checks the format f found at ptr (a document pointer): it is
// a registered format, whose plugin the schema then uses, or one
// gojsonschema implements.
func (c *checker) checkFormat(f any, ptr string) {
	name, ok := f.(string)
	if !ok {
		c.probs.add(ptr, "form.definition.type", nil, "expected", "string")
		return
	}
	if format, ok := c.d.reg.Format(name); ok {
		c.uses = append(c.uses, pluginUse{id: format.ID(), ptr: ptr})
		return
	}
	if !builtinFormat(name) {
		c.probs.add(ptr, "form.definition.format", ErrMissingPlugin, "format", name)
	}
}

// checkField checks the field type of the subschema m at ptr (in the schema)
// and returns its fragment.
func (c *checker) checkField(m map[string]any, ptr string) (map[string]any, bool) {
	fieldPtr := schemaPointer(childPointer(ptr, "x-field"))
	configPtr := schemaPointer(childPointer(ptr, "x-config"))
	id, ok := m["x-field"].(string)
	if !ok {
		c.probs.add(fieldPtr, "form.definition.type", nil, "expected", "string")
		return nil, false
	}
	ft, ok := c.d.reg.FieldType(id)
	if !ok {
		c.probs.add(fieldPtr, "form.definition.fieldType", ErrMissingPlugin, "plugin", id)
		return nil, false
	}
	c.uses = append(c.uses, pluginUse{id: id, ptr: fieldPtr})
	var config json.RawMessage
	if cfg, ok := m["x-config"]; ok {
		b, err := json.Marshal(cfg)
		if err != nil {
			c.probs.add(configPtr, "form.definition.fieldConfig", err, "plugin", id, "detail", err.Error())
			return nil, false
		}
		config = b
	}
	if p, ok := ft.(Provisioner); ok {
		// Kept for Form.Provision; a Check that fails returns no Form.
		c.form.provisions = append(c.form.provisions, provisionUse{p: p, ptr: configPtr, config: config})
	}
	raw, err := ft.Schema(config)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			c.probs.add(configPtr+ce.Pointer, "form.definition.fieldConfig", err, "plugin", id, "detail", ce.Reason)
		} else {
			c.probs.add(configPtr, "form.definition.fieldConfig", err, "plugin", id, "detail", err.Error())
		}
		return nil, false
	}
	parsed, err := parseJSON(raw, false)
	if err != nil {
		c.probs.add(fieldPtr, "form.definition.fieldConfig", err, "plugin", id, "detail", err.Error())
		return nil, false
	}
	frag, ok := parsed.(map[string]any)
	if !ok {
		c.probs.add(fieldPtr, "form.definition.fieldConfig", nil, "plugin", id, "detail", "the field type's schema is not an object")
		return nil, false
	}
	// The fragment is the plugin's; where its formats are used is where
	// the field is configured.
	where := fieldPtr
	if _, ok := m["x-config"]; ok {
		where = configPtr
	}
	if err := c.d.reg.CheckSchema(raw); err != nil {
		var se *SchemaError
		format := ""
		if errors.As(err, &se) {
			format = fmt.Sprint(nodeAt(frag, se.Pointer))
		}
		c.probs.add(where, "form.definition.format", err, "format", format)
	}
	_ = walkSchema(frag, func(n map[string]any, _ string) error {
		for _, k := range sortedKeys(n) {
			if designerKeyword(k) {
				// Such as "x-sensitive" in a subtable's column: only
				// the designer's own subschemas may hold them.
				c.probs.add(where, "form.definition.extension", nil, "keyword", k)
			}
		}
		if name, ok := n["format"].(string); ok {
			if format, ok := c.d.reg.Format(name); ok {
				c.uses = append(c.uses, pluginUse{id: format.ID(), ptr: where})
			}
		}
		return nil
	})
	if !typesCompatible(m["type"], frag["type"]) {
		c.probs.add(schemaPointer(childPointer(ptr, "type")), "form.definition.typeConflict", nil,
			"plugin", id, "expected", typeText(frag["type"]))
	}
	return frag, true
}

// typesCompatible reports whether a subschema's "type" and its field type's
// can hold the same values: either is absent, or they share a type
// (integer and number count as shared).
func typesCompatible(a, b any) bool {
	as, bs := typeList(a), typeList(b)
	if as == nil || bs == nil {
		return true
	}
	for _, x := range as {
		for _, y := range bs {
			if x == y || x == "integer" && y == "number" || x == "number" && y == "integer" {
				return true
			}
		}
	}
	return false
}

// typeList returns the types a "type" keyword names; nil when it is absent
// or malformed.
func typeList(t any) []string {
	switch x := t.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

// typeText renders a "type" keyword for a message.
func typeText(t any) string {
	return strings.Join(typeList(t), ", ")
}

// scalarType returns the one type of a subschema's "type" keyword, a member
// of a list being "null" aside; "" when there is not exactly one.
func scalarType(node map[string]any) string {
	var found string
	for _, t := range typeList(node["type"]) {
		if t == "null" {
			continue
		}
		if found != "" {
			return ""
		}
		found = t
	}
	return found
}

// nodeAt returns the value at ptr, a JSON Pointer, in root; nil when there
// is none.
func nodeAt(root any, ptr string) any {
	if ptr == "" {
		return root
	}
	cur := root
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			cur = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

// buildSchemas derives the stripped, typing and effective schemas from the
// schema as written (see checker).
func (c *checker) buildSchemas(fields []fieldUse) {
	c.stripped = copyJSON(c.original).(map[string]any)
	var withExtensions []map[string]any
	_ = walkSchema(c.stripped, func(m map[string]any, _ string) error {
		for k := range m {
			if strings.HasPrefix(k, "x-") {
				withExtensions = append(withExtensions, m)
				break
			}
		}
		return nil
	})
	for _, m := range withExtensions {
		for k := range m {
			if strings.HasPrefix(k, "x-") {
				delete(m, k)
			}
		}
	}

	c.typing = copyJSON(c.stripped).(map[string]any)
	c.effective = copyJSON(c.stripped).(map[string]any)
	// Find every node first: wrapping one moves those below it.
	wrap := make([]map[string]any, len(fields))
	for i, f := range fields {
		if m, ok := nodeAt(c.typing, f.ptr).(map[string]any); ok {
			for k, v := range f.fragment {
				if _, ok := m[k]; !ok {
					m[k] = copyJSON(v)
				}
			}
		}
		wrap[i], _ = nodeAt(c.effective, f.ptr).(map[string]any)
	}
	for i, m := range wrap {
		if m == nil {
			continue
		}
		own := make(map[string]any, len(m))
		for k, v := range m {
			own[k] = v
			delete(m, k)
		}
		m["allOf"] = []any{own, copyJSON(fields[i].fragment)}
	}
}

// compileStripped compiles the schema as written, extension keywords
// removed, to report what the compiler refuses at its place in the
// document.
func (c *checker) compileStripped() {
	b, err := json.Marshal(c.stripped)
	if err != nil {
		c.probs.add("/schema", "form.definition.schema", err, "detail", err.Error())
		return
	}
	_, err = c.d.compiler.Compile(b)
	if err == nil {
		return
	}
	var se *SchemaError
	if !errors.As(err, &se) {
		c.probs.add("/schema", "form.definition.schema", err, "detail", err.Error())
		return
	}
	ptr := schemaPointer(se.Pointer)
	switch {
	case c.probs.has(ptr):
		// Already reported, such as a property key.
	case errors.Is(err, ErrExternalRef):
		c.probs.add(ptr, "form.definition.externalRef", err)
	default:
		c.probs.add(ptr, "form.definition.schema", err, "detail", se.Reason)
	}
}

// personalFormats are the formats whose values are personal information.
func personalFormat(name string) bool {
	switch name {
	case "email", "cn_mobile", "cn_resident_id":
		return true
	}
	return false
}

// usesPersonalFormat reports whether a schema, or any subschema below it,
// names a personal format.
func usesPersonalFormat(node any) bool {
	switch n := node.(type) {
	case map[string]any:
		if f, ok := n["format"].(string); ok && personalFormat(f) {
			return true
		}
		for _, v := range n {
			if usesPersonalFormat(v) {
				return true
			}
		}
	case []any:
		for _, v := range n {
			if usesPersonalFormat(v) {
				return true
			}
		}
	}
	return false
}

// topLevel records the top-level properties, the sensitive and searchable
// ones, the read-only ones at any depth of objects, and the properties
// holding picklist keys at any depth.
func (c *checker) topLevel() {
	origProps, _ := c.original["properties"].(map[string]any)
	props, _ := c.typing["properties"].(map[string]any)
	f := c.form
	f.fields = sortedKeys(props)
	for _, k := range f.fields {
		node, _ := props[k].(map[string]any)
		orig, _ := origProps[k].(map[string]any)
		// A property is sealed whole when it, or anything below it (a
		// sub-table's column, an object's property), is personal.
		if orig["x-sensitive"] == true || usesPersonalFormat(node) || usesPersonalFormat(orig) {
			f.sensitive = append(f.sensitive, k)
		}
		if orig["x-searchable"] == true {
			switch scalarType(node) {
			case "string", "number", "integer", "boolean":
				f.searchable = append(f.searchable, k)
			default:
				c.probs.add(schemaPointer("/properties/"+k+"/x-searchable"), "form.definition.searchable", nil)
			}
		}
	}
	f.readOnly = readOnlyPaths(c.typing, nil)
	f.picklists = picklistUses(c.typing, nil)
}

// readOnlyPaths returns the paths of the read-only properties of node and of
// the objects below it.
func readOnlyPaths(node map[string]any, prefix []string) [][]string {
	props, _ := node["properties"].(map[string]any)
	var out [][]string
	for _, k := range sortedKeys(props) {
		child, ok := props[k].(map[string]any)
		if !ok {
			continue
		}
		path := append(append([]string(nil), prefix...), k)
		if child["readOnly"] == true {
			out = append(out, path)
			continue
		}
		out = append(out, readOnlyPaths(child, path)...)
	}
	return out
}

// property returns the subschema of the property at path in the typing
// schema, following "properties" from the root.
func (c *checker) property(path []string) (map[string]any, bool) {
	node := c.typing
	for _, name := range path {
		props, ok := node["properties"].(map[string]any)
		if !ok {
			return nil, false
		}
		if node, ok = props[name].(map[string]any); !ok {
			return nil, false
		}
	}
	return node, true
}

// labelProperty is property, except that it also follows the object items
// of arrays, so that a sub-table's columns can be labelled ("lines.sku").
func (c *checker) labelProperty(path []string) bool {
	node := c.typing
	for _, name := range path {
		props, ok := node["properties"].(map[string]any)
		if !ok {
			if items, isObject := node["items"].(map[string]any); isObject {
				props, ok = items["properties"].(map[string]any)
			}
		}
		if !ok {
			return false
		}
		if node, ok = props[name].(map[string]any); !ok {
			return false
		}
	}
	return true
}

// checkElement checks one UI schema element at ptr and those inside it.
func (c *checker) checkElement(v any, ptr string) {
	el, ok := v.(map[string]any)
	if !ok {
		c.probs.add(ptr, "form.definition.type", nil, "expected", "object")
		return
	}
	typ, ok := el["type"].(string)
	if !ok {
		if _, present := el["type"]; present {
			c.probs.add(childPointer(ptr, "type"), "form.definition.type", nil, "expected", "string")
		} else {
			c.probs.add(childPointer(ptr, "type"), "form.definition.missing", nil)
		}
		return
	}
	var allowed []string
	switch typ {
	case "VerticalLayout", "HorizontalLayout":
		allowed = []string{"type", "elements", "options"}
		c.checkElements(el, ptr)
	case "Group":
		allowed = []string{"type", "label", "elements", "options"}
		c.requireText(el, ptr, "label")
		c.checkElements(el, ptr)
	case "Control":
		allowed = []string{"type", "scope", "label", "options"}
		c.checkScope(el, ptr)
		if l, ok := el["label"]; ok {
			if _, isString := l.(string); !isString {
				if _, isBool := l.(bool); !isBool {
					c.probs.add(childPointer(ptr, "label"), "form.definition.type", nil, "expected", "string")
				}
			}
		}
	case "Label":
		allowed = []string{"type", "text", "options"}
		c.requireText(el, ptr, "text")
	default:
		c.probs.add(childPointer(ptr, "type"), "form.definition.elementType", nil, "type", typ)
		return
	}
	for _, k := range sortedKeys(el) {
		if !contains(allowed, k) {
			c.probs.add(childPointer(ptr, k), "form.definition.unknownKey", nil)
		}
	}
	if o, ok := el["options"]; ok {
		if _, isObject := o.(map[string]any); !isObject {
			c.probs.add(childPointer(ptr, "options"), "form.definition.type", nil, "expected", "object")
		}
	}
}

// checkElements checks the elements of a layout.
func (c *checker) checkElements(el map[string]any, ptr string) {
	ep := childPointer(ptr, "elements")
	v, ok := el["elements"]
	if !ok {
		c.probs.add(ep, "form.definition.missing", nil)
		return
	}
	elements, ok := v.([]any)
	if !ok {
		c.probs.add(ep, "form.definition.type", nil, "expected", "array")
		return
	}
	for i, e := range elements {
		c.checkElement(e, childPointer(ep, strconv.Itoa(i)))
	}
}

// requireText checks that el's key holds a string that is not empty.
func (c *checker) requireText(el map[string]any, ptr, key string) {
	kp := childPointer(ptr, key)
	v, ok := el[key]
	if !ok {
		c.probs.add(kp, "form.definition.missing", nil)
		return
	}
	s, ok := v.(string)
	if !ok {
		c.probs.add(kp, "form.definition.type", nil, "expected", "string")
		return
	}
	if strings.TrimSpace(s) == "" {
		c.probs.add(kp, "form.definition.missing", nil)
	}
}

// checkScope checks a Control's scope: #/properties/<key>, possibly nested,
// naming a property of the schema.
func (c *checker) checkScope(el map[string]any, ptr string) {
	sp := childPointer(ptr, "scope")
	v, ok := el["scope"]
	if !ok {
		c.probs.add(sp, "form.definition.missing", nil)
		return
	}
	scope, ok := v.(string)
	if !ok {
		c.probs.add(sp, "form.definition.type", nil, "expected", "string")
		return
	}
	path, ok := scopePath(scope)
	if !ok {
		c.probs.add(sp, "form.definition.scope", nil)
		return
	}
	if _, ok := c.property(path); !ok {
		c.probs.add(sp, "form.definition.unknownField", nil, "field", strings.Join(path, "."))
	}
}

// scopePath returns the property path of a scope
// "#/properties/a/properties/b": [a b].
func scopePath(scope string) ([]string, bool) {
	rest, ok := strings.CutPrefix(scope, "#/")
	if !ok {
		return nil, false
	}
	toks := strings.Split(rest, "/")
	if len(toks)%2 != 0 {
		return nil, false
	}
	var path []string
	for i := 0; i < len(toks); i += 2 {
		if toks[i] != "properties" || !isIdentifier(toks[i+1]) {
			return nil, false
		}
		path = append(path, toks[i+1])
	}
	return path, true
}

// fieldPath splits a dot-separated property path, such as "address.city";
// it reports false unless every part is an identifier.
func fieldPath(s string) ([]string, bool) {
	parts := strings.Split(s, ".")
	for _, p := range parts {
		if !isIdentifier(p) {
			return nil, false
		}
	}
	return parts, true
}

// supportedLocale reports whether locale is one definitions are written in.
func supportedLocale(locale string) bool {
	return locale == "zh-CN" || locale == "en"
}

// checkLabels checks that labels are in supported locales and name
// properties: top-level ones, those of objects below them ("address.city")
// and the columns of sub-tables ("lines.sku").
func (c *checker) checkLabels() {
	for _, locale := range sortedStringMapKeys(c.def.Labels) {
		lp := childPointer("/labels", locale)
		if !supportedLocale(locale) {
			c.probs.add(lp, "form.definition.locale", nil, "locale", locale)
			continue
		}
		labels := c.def.Labels[locale]
		for _, k := range sortedStringMapKeys(labels) {
			kp := childPointer(lp, k)
			path, ok := fieldPath(k)
			if !ok {
				c.probs.add(kp, "form.definition.unknownField", nil, "field", k)
				continue
			}
			if !c.labelProperty(path) {
				c.probs.add(kp, "form.definition.unknownField", nil, "field", k)
				continue
			}
			if strings.TrimSpace(labels[k]) == "" {
				c.probs.add(kp, "form.definition.missing", nil)
			}
		}
	}
}

// checkPlugins checks the plugins list: each installed and listed once, and
// every plugin the schema uses among them.
func (c *checker) checkPlugins() {
	for i, id := range c.def.Plugins {
		ptr := "/plugins/" + strconv.Itoa(i)
		if c.listed[id] {
			c.probs.add(ptr, "form.definition.duplicate", nil)
			continue
		}
		c.listed[id] = true
		if err := c.d.reg.Require(id); err != nil {
			c.probs.add(ptr, "form.definition.pluginMissing", err, "plugin", id)
		}
	}
	for _, u := range c.uses {
		if !c.listed[u.id] {
			c.probs.add(u.ptr, "form.definition.pluginNotListed", ErrMissingPlugin, "plugin", u.id)
		}
	}
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sortedStringMapKeys returns m's keys, sorted.
func sortedStringMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// copyJSON returns a deep copy of a decoded JSON value.
func copyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyJSON(e)
		}
		return out
	}
	return v
}
