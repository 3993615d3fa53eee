package forms

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"

	"github.com/custos-crm/custos/forms/expr"
)

// compiledRule is a compute or check rule ready to be evaluated.
type compiledRule struct {
	rule Rule
	// ptr is the document pointer of the rule's expression.
	ptr string
	prg *expr.Program
}

// checkRules checks and compiles every rule against env, and appends the
// translation of required rules to the effective schema.
func (c *checker) checkRules(env *expr.Env) {
	for i, r := range c.def.Rules {
		rp := "/rules/" + strconv.Itoa(i)
		switch r.Kind {
		case RuleVisible:
			c.refuseKeys(rp, r, "expr", "pointer", "message")
			c.ruleField(rp, r, false)
			c.compileBool(env, childPointer(rp, "when"), r.When)
		case RuleRequired:
			c.refuseKeys(rp, r, "expr", "pointer", "message")
			_, fieldOK := c.ruleField(rp, r, true)
			wp := childPointer(rp, "when")
			if !c.compileBool(env, wp, r.When) || !fieldOK {
				continue
			}
			sub, err := c.d.requiredIf(r.When, r.Field)
			if err != nil {
				c.probs.add(wp, "form.definition.requiredIf", err, "detail", err.Error())
				continue
			}
			if all, ok := c.effective["allOf"].([]any); ok {
				c.effective["allOf"] = append(all, sub)
			} else if _, present := c.effective["allOf"]; !present {
				c.effective["allOf"] = []any{sub}
			}
		case RuleCompute:
			c.refuseKeys(rp, r, "when", "pointer", "message")
			ep := childPointer(rp, "expr")
			if r.Expr == "" {
				c.probs.add(ep, "form.definition.missing", nil)
			}
			if _, ok := c.ruleField(rp, r, true); !ok || r.Expr == "" {
				continue
			}
			prg, err := env.CompileComputed(r.Expr, r.Field)
			if err != nil {
				c.expressionProblem(ep, err)
				continue
			}
			// A computed value stored in clear must not be made of
			// personal ones.
			if !slices.Contains(c.form.sensitive, r.Field) {
				if src := readsSensitive(r.Expr, c.form.sensitive); src != "" {
					c.probs.add(ep, "form.definition.sensitiveCompute", nil, "field", src)
					continue
				}
			}
			c.form.computes = append(c.form.computes, compiledRule{rule: r, ptr: ep, prg: prg})
		case RuleCheck:
			c.refuseKeys(rp, r, "field", "when")
			c.checkPointer(childPointer(rp, "pointer"), r.Pointer)
			c.checkMessage(childPointer(rp, "message"), r.Message)
			ep := childPointer(rp, "expr")
			if r.Expr == "" {
				c.probs.add(ep, "form.definition.missing", nil)
				continue
			}
			prg, err := env.Compile(r.Expr, expr.KindBool)
			if err != nil {
				c.expressionProblem(ep, err)
				continue
			}
			c.form.checks = append(c.form.checks, compiledRule{rule: r, ptr: ep, prg: prg})
		case "":
			c.probs.add(childPointer(rp, "kind"), "form.definition.missing", nil)
		default:
			c.probs.add(childPointer(rp, "kind"), "form.definition.ruleKind", nil)
		}
	}
}

// refuseKeys records a problem for each of keys r sets: they do not belong
// to its kind.
func (c *checker) refuseKeys(rp string, r Rule, keys ...string) {
	for _, k := range keys {
		set := false
		switch k {
		case "field":
			set = r.Field != ""
		case "when":
			set = r.When != ""
		case "expr":
			set = r.Expr != ""
		case "pointer":
			set = r.Pointer != ""
		case "message":
			set = r.Message != nil
		}
		if set {
			c.probs.add(childPointer(rp, k), "form.definition.unknownKey", nil)
		}
	}
}

// ruleField checks a rule's field: present, a property of the schema, and a
// top-level one when topLevel is set. It returns the field's subschema.
func (c *checker) ruleField(rp string, r Rule, topLevel bool) (map[string]any, bool) {
	fp := childPointer(rp, "field")
	if r.Field == "" {
		c.probs.add(fp, "form.definition.missing", nil)
		return nil, false
	}
	path, ok := fieldPath(r.Field)
	if !ok {
		c.probs.add(fp, "form.definition.unknownField", nil, "field", r.Field)
		return nil, false
	}
	if topLevel && len(path) > 1 {
		c.probs.add(fp, "form.definition.topLevel", nil)
		return nil, false
	}
	node, ok := c.property(path)
	if !ok {
		c.probs.add(fp, "form.definition.unknownField", nil, "field", r.Field)
		return nil, false
	}
	return node, true
}

// compileBool compiles src, found at ptr, as a bool expression, and reports
// whether it compiles.
func (c *checker) compileBool(env *expr.Env, ptr, src string) bool {
	if src == "" {
		c.probs.add(ptr, "form.definition.missing", nil)
		return false
	}
	if _, err := env.Compile(src, expr.KindBool); err != nil {
		c.expressionProblem(ptr, err)
		return false
	}
	return true
}

// expressionProblem records an expression that does not compile.
func (c *checker) expressionProblem(ptr string, err error) {
	c.probs.add(ptr, "form.definition.expression", err, "detail", strings.TrimPrefix(err.Error(), "expr: "))
}

// checkPointer checks a check rule's pointer: "" (the whole record) or a
// JSON Pointer following the schema's properties and array items.
func (c *checker) checkPointer(ptr, p string) {
	if p == "" {
		return
	}
	if !strings.HasPrefix(p, "/") {
		c.probs.add(ptr, "form.definition.pointer", nil)
		return
	}
	node := c.typing
	for _, tok := range strings.Split(p[1:], "/") {
		if props, ok := node["properties"].(map[string]any); ok {
			if child, ok := props[tok].(map[string]any); ok {
				node = child
				continue
			}
		}
		if items, ok := node["items"].(map[string]any); ok && isIndex(tok) {
			node = items
			continue
		}
		c.probs.add(ptr, "form.definition.pointer", nil)
		return
	}
}

// isIndex reports whether tok is an array index as JSON Pointers write it.
func isIndex(tok string) bool {
	if tok == "" || len(tok) > 1 && tok[0] == '0' {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

// checkMessage checks a check rule's message: texts in zh-CN and en, and no
// other locale.
func (c *checker) checkMessage(ptr string, m map[string]string) {
	if m == nil {
		c.probs.add(ptr, "form.definition.missing", nil)
		return
	}
	for _, locale := range sortedStringMapKeys(m) {
		if !supportedLocale(locale) {
			c.probs.add(childPointer(ptr, locale), "form.definition.locale", nil, "locale", locale)
		}
	}
	for _, locale := range []string{"en", "zh-CN"} {
		if strings.TrimSpace(m[locale]) == "" {
			c.probs.add(childPointer(ptr, locale), "form.definition.missing", nil)
		}
	}
}

// requiredIf translates the condition of a required rule on field into the
// subschema the validator enforces:
//
//	{"if": {"properties": {...}, "required": [...]}, "then": {"required": [field]}}
//
// The condition must be a conjunction (&&) of comparisons of a top-level
// field (data.x) with a string, number or bool literal: data.x == lit,
// data.x != lit, data.x < n, data.x <= n, data.x > n, data.x >= n (either
// side may hold the field), or data.x in [lit, ...]. The fields compared
// are required in the if, so an absent field makes the condition false, as
// it makes the expression fail. The condition must have been type-checked:
// requiredIf only reads its shape. Errors describe, in English, what is not
// supported.
func (d *Designer) requiredIf(when, field string) (map[string]any, error) {
	parsed, iss := d.parser.Parse(when)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	var conds []celast.Expr
	flattenAnd(parsed.NativeRep().Expr(), &conds)
	byField := make(map[string][]any)
	for _, e := range conds {
		name, sub, err := comparison(e)
		if err != nil {
			return nil, err
		}
		byField[name] = append(byField[name], sub)
	}
	props := make(map[string]any, len(byField))
	required := make([]any, 0, len(byField))
	names := make([]string, 0, len(byField))
	for name := range byField {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		subs := byField[name]
		if len(subs) == 1 {
			props[name] = subs[0]
		} else {
			props[name] = map[string]any{"allOf": subs}
		}
		required = append(required, name)
	}
	return map[string]any{
		"if":   map[string]any{"properties": props, "required": required},
		"then": map[string]any{"required": []any{field}},
	}, nil
}

// flattenAnd appends the operands of a tree of && to out, in source order.
func flattenAnd(e celast.Expr, out *[]celast.Expr) {
	if e.Kind() == celast.CallKind {
		call := e.AsCall()
		if call.FunctionName() == operators.LogicalAnd && !call.IsMemberFunction() {
			for _, a := range call.Args() {
				flattenAnd(a, out)
			}
			return
		}
	}
	*out = append(*out, e)
}

// comparison translates one comparison of a required rule's condition into
// the subschema of the field it compares.
func comparison(e celast.Expr) (string, map[string]any, error) {
	if e.Kind() != celast.CallKind {
		if e.Kind() == celast.SelectKind && e.AsSelect().IsTestOnly() {
			return "", nil, errors.New("has() is not supported")
		}
		return "", nil, fmt.Errorf("%s is not a comparison", describe(e))
	}
	call := e.AsCall()
	fn := call.FunctionName()
	if call.IsMemberFunction() {
		return "", nil, fmt.Errorf("the function %s() is not supported", fn)
	}
	args := call.Args()
	switch fn {
	case operators.In:
		name, err := topField(args[0])
		if err != nil {
			return "", nil, fmt.Errorf("in: %w", err)
		}
		if args[1].Kind() != celast.ListKind {
			return "", nil, errors.New("in needs a list of literals, such as data.kind in ['a', 'b']")
		}
		list := args[1].AsList()
		if list.Size() == 0 || len(list.OptionalIndices()) > 0 {
			return "", nil, errors.New("in needs a list of literals that is not empty")
		}
		values := make([]any, 0, list.Size())
		for _, el := range list.Elements() {
			v, _, err := literal(el)
			if err != nil {
				return "", nil, fmt.Errorf("in: %w", err)
			}
			values = append(values, v)
		}
		return name, map[string]any{"enum": values}, nil
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals,
		operators.Greater, operators.GreaterEquals:
		return fieldComparison(fn, args[0], args[1])
	}
	return "", nil, fmt.Errorf("%s is not supported", describe(e))
}

// fieldComparison translates `left op right`, one side a top-level field
// and the other a literal.
func fieldComparison(op string, left, right celast.Expr) (string, map[string]any, error) {
	name, lit := "", right
	if isField(left) {
		n, err := topField(left)
		if err != nil {
			return "", nil, err
		}
		if isField(right) {
			return "", nil, errors.New("comparing two fields is not supported")
		}
		name = n
	} else if isField(right) {
		n, err := topField(right)
		if err != nil {
			return "", nil, err
		}
		name, lit = n, left
		op = flipOperator(op)
	} else {
		other := left
		if left.Kind() == celast.LiteralKind {
			other = right
		}
		if other.Kind() == celast.LiteralKind {
			return "", nil, fmt.Errorf("%s compares two literals; one side must be a field (data.x)", operatorText(op))
		}
		return "", nil, fmt.Errorf("%s cannot be compared; one side of %s must be a field (data.x), the other a literal", describe(other), operatorText(op))
	}
	v, isNumber, err := literal(lit)
	if err != nil {
		return "", nil, err
	}
	switch op {
	case operators.Equals:
		return name, map[string]any{"const": v}, nil
	case operators.NotEquals:
		return name, map[string]any{"not": map[string]any{"const": v}}, nil
	}
	if !isNumber {
		return "", nil, fmt.Errorf("%s needs a number", operatorText(op))
	}
	keyword := map[string]string{
		operators.Less:          "exclusiveMaximum",
		operators.LessEquals:    "maximum",
		operators.Greater:       "exclusiveMinimum",
		operators.GreaterEquals: "minimum",
	}[op]
	return name, map[string]any{"type": "number", keyword: v}, nil
}

// flipOperator returns the operator of `b op' a` for `a op b`.
func flipOperator(op string) string {
	switch op {
	case operators.Less:
		return operators.Greater
	case operators.LessEquals:
		return operators.GreaterEquals
	case operators.Greater:
		return operators.Less
	case operators.GreaterEquals:
		return operators.LessEquals
	}
	return op
}

// isField reports whether e selects a field of data, at any depth.
func isField(e celast.Expr) bool {
	for e.Kind() == celast.SelectKind && !e.AsSelect().IsTestOnly() {
		e = e.AsSelect().Operand()
	}
	return e.Kind() == celast.IdentKind && e.AsIdent() == "data"
}

// topField returns x for data.x, and an error for anything else.
func topField(e celast.Expr) (string, error) {
	if !isField(e) {
		return "", fmt.Errorf("%s is not a field (data.x)", describe(e))
	}
	sel := e.AsSelect()
	if sel.Operand().Kind() != celast.IdentKind {
		return "", errors.New("only top-level fields (data.x) can be compared, not nested ones")
	}
	return sel.FieldName(), nil
}

// literal returns the JSON value of a string, number or bool literal, and
// whether it is a number.
func literal(e celast.Expr) (any, bool, error) {
	if e.Kind() == celast.LiteralKind {
		switch v := e.AsLiteral().(type) {
		case types.String:
			return string(v), false, nil
		case types.Bool:
			return bool(v), false, nil
		case types.Int:
			return int64(v), true, nil
		case types.Uint:
			return uint64(v), true, nil
		case types.Double:
			return float64(v), true, nil
		}
	}
	return nil, false, fmt.Errorf("%s is not a string, number or bool literal", describe(e))
}

// describe names an expression for a message.
func describe(e celast.Expr) string {
	switch e.Kind() {
	case celast.IdentKind:
		return e.AsIdent()
	case celast.SelectKind:
		var parts []string
		x := e
		for ; x.Kind() == celast.SelectKind; x = x.AsSelect().Operand() {
			parts = append([]string{x.AsSelect().FieldName()}, parts...)
		}
		if x.Kind() == celast.IdentKind {
			return x.AsIdent() + "." + strings.Join(parts, ".")
		}
		return "a field selection"
	case celast.LiteralKind:
		switch v := e.AsLiteral().(type) {
		case types.String:
			return "the literal '" + string(v) + "'"
		case types.Null:
			return "the literal null"
		}
		return "the literal " + fmt.Sprint(e.AsLiteral().Value())
	case celast.ListKind:
		return "a list"
	case celast.MapKind, celast.StructKind:
		return "a map"
	case celast.CallKind:
		fn := e.AsCall().FunctionName()
		if text := operatorText(fn); !strings.HasPrefix(text, "the function ") {
			return "the operator " + text
		}
		return operatorText(fn)
	case celast.ComprehensionKind:
		return "a macro such as all() or exists()"
	}
	return "this expression"
}

// operatorText names an operator or function for a message.
func operatorText(fn string) string {
	switch fn {
	case operators.LogicalOr:
		return "||"
	case operators.LogicalNot:
		return "!"
	case operators.LogicalAnd:
		return "&&"
	case operators.Conditional:
		return "?:"
	case operators.Equals:
		return "=="
	case operators.NotEquals:
		return "!="
	case operators.Less:
		return "<"
	case operators.LessEquals:
		return "<="
	case operators.Greater:
		return ">"
	case operators.GreaterEquals:
		return ">="
	case operators.Add:
		return "+"
	case operators.Subtract:
		return "-"
	case operators.Multiply:
		return "*"
	case operators.Divide:
		return "/"
	case operators.Modulo:
		return "%"
	case operators.Negate:
		return "unary -"
	case operators.Index:
		return "[]"
	case operators.OptSelect, operators.OptIndex:
		return "?. (optional selection)"
	case operators.In:
		return "in"
	}
	return "the function " + fn + "()"
}

// readsSensitive returns the first sensitive field an expression reads
// (data.<field>), or "".
func readsSensitive(src string, sensitive []string) string {
	for _, f := range sensitive {
		if regexp.MustCompile(`\bdata\s*\.\s*`+regexp.QuoteMeta(f)+`\b`).MatchString(src) ||
			strings.Contains(src, `data["`+f+`"]`) || strings.Contains(src, `data['`+f+`']`) {
			return f
		}
	}
	return ""
}
