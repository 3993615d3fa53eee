package forms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/forms/expr"
	"github.com/custos-crm/custos/internal/apierr"
)

// definitionGolden is one testdata/definitions/*.json file: a definition and
// either the problems Check reports, or, for a definition Check accepts,
// what Process makes of submissions (and, optionally, the sensitive and
// searchable fields).
type definitionGolden struct {
	Definition  json.RawMessage `json:"definition"`
	Problems    []goldenProblem `json:"problems"`
	Sensitive   []string        `json:"sensitive"`
	Searchable  []string        `json:"searchable"`
	Submissions []struct {
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
		// Output is the record Process returns.
		Output json.RawMessage `json:"output"`
		// Errors are the items of the *ValidationError Process returns.
		Errors []goldenItem `json:"errors"`
		// Error is a substring of any other error Process returns, and
		// ErrorIs the name of a sentinel it wraps.
		Error   string `json:"error"`
		ErrorIs string `json:"errorIs"`
	} `json:"submissions"`
}

type goldenProblem struct {
	Pointer    string `json:"pointer"`
	MessageKey string `json:"messageKey"`
}

type goldenItem struct {
	Pointer    string `json:"pointer"`
	Keyword    string `json:"keyword"`
	MessageKey string `json:"messageKey"`
	En         string `json:"en"`
	ZhCN       string `json:"zh-CN"`
}

// goldenSentinels are the errors a golden submission may name in errorIs.
var goldenSentinels = map[string]error{
	"ErrRule":      ErrRule,
	"ErrCostLimit": expr.ErrCostLimit,
	"ErrEval":      expr.ErrEval,
}

// testViewer and testNow are what golden submissions are processed for.
func testViewer() expr.Viewer {
	return expr.Viewer{ID: "usr01HZY3M8K7Q2W4E6R8T0Y2U4I6", Roles: []string{"agent"}, Department: "support"}
}

func testNow() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }

// newTestDesigner returns a Designer over the default registry, its formats
// installed.
func newTestDesigner(t testing.TB, opts ...expr.Option) *Designer {
	t.Helper()
	reg := installFormats(t)
	d, err := NewDesigner(reg, NewCompiler(CompilerOptions{}), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// decodeJSON decodes a JSON object as the server does, numbers as
// json.Number.
func decodeJSON(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return m
}

// sameJSON reports whether a and b encode the same JSON value.
func sameJSON(t testing.TB, a any, b []byte) bool {
	t.Helper()
	ab, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("encoding %#v: %v", a, err)
	}
	var x, y any
	if err := json.Unmarshal(ab, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// TestDefinitionGolden checks the definitions of testdata/definitions/*.json.
func TestDefinitionGolden(t *testing.T) {
	d := newTestDesigner(t)
	files, err := filepath.Glob(filepath.Join("testdata", "definitions", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	keys := DefinitionMessages()
	placeholder := regexp.MustCompile(`\{[A-Za-z]+\}`)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g definitionGolden
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&g); err != nil {
				t.Fatal(err)
			}
			if (len(g.Problems) == 0) == (len(g.Submissions) == 0) {
				t.Fatal("a golden file has either problems or submissions")
			}
			form, err := d.Check(g.Definition)
			if len(g.Problems) > 0 {
				var de *DefinitionError
				if !errors.As(err, &de) {
					t.Fatalf("Check = %v, want a *DefinitionError", err)
				}
				got := make([]goldenProblem, len(de.Problems))
				for i, p := range de.Problems {
					got[i] = goldenProblem{Pointer: p.Pointer, MessageKey: p.MessageKey}
					if _, ok := keys[p.MessageKey]; !ok {
						t.Errorf("%s: message key %s is not in DefinitionMessages", p.Pointer, p.MessageKey)
					}
					if p.Message["en"] == "" || p.Message["zh-CN"] == "" || placeholder.MatchString(p.Message["en"]+p.Message["zh-CN"]) {
						t.Errorf("%s: messages %q are not rendered", p.Pointer, p.Message)
					}
				}
				if !reflect.DeepEqual(got, g.Problems) {
					gb, _ := json.Marshal(got)
					t.Errorf("problems:\n%s\nerror: %v", gb, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if g.Sensitive != nil && !reflect.DeepEqual(form.SensitiveFields(), g.Sensitive) {
				t.Errorf("SensitiveFields() = %q, want %q", form.SensitiveFields(), g.Sensitive)
			}
			if g.Searchable != nil && !reflect.DeepEqual(form.SearchableFields(), g.Searchable) {
				t.Errorf("SearchableFields() = %q, want %q", form.SearchableFields(), g.Searchable)
			}
			for _, kw := range []string{`"x-field"`, `"x-config"`, `"x-sensitive"`, `"x-searchable"`} {
				if bytes.Contains(form.Schema(), []byte(kw)) {
					t.Errorf("the effective schema holds %s", kw)
				}
			}
			for _, sub := range g.Submissions {
				t.Run(sub.Name, func(t *testing.T) {
					input := decodeJSON(t, sub.Input)
					out, err := form.Process(context.Background(), input, testViewer(), testNow())
					switch {
					case sub.Output != nil:
						if err != nil {
							t.Fatalf("Process: %v", err)
						}
						if !sameJSON(t, out, sub.Output) {
							ob, _ := json.Marshal(out)
							t.Errorf("output:\n%s\nwant:\n%s", ob, sub.Output)
						}
					case sub.Errors != nil:
						var verr *ValidationError
						if !errors.As(err, &verr) {
							t.Fatalf("Process = %v, want a *ValidationError", err)
						}
						got := make([]goldenItem, len(verr.Items))
						for i, it := range verr.Items {
							got[i] = goldenItem{Pointer: it.Pointer, Keyword: it.Keyword, MessageKey: it.MessageKey, En: it.Message["en"], ZhCN: it.Message["zh-CN"]}
						}
						if !reflect.DeepEqual(got, sub.Errors) {
							gb, _ := json.MarshalIndent(got, "", "  ")
							t.Errorf("errors:\n%s", gb)
						}
					default:
						if err == nil || !strings.Contains(err.Error(), sub.Error) {
							t.Fatalf("Process = %v, want an error containing %q", err, sub.Error)
						}
						var verr *ValidationError
						if errors.As(err, &verr) {
							t.Errorf("Process = %v, want an error that is not a *ValidationError", err)
						}
						if sub.ErrorIs != "" && !errors.Is(err, goldenSentinels[sub.ErrorIs]) {
							t.Errorf("errors.Is(%v, %s) = false", err, sub.ErrorIs)
						}
					}
					if !sameJSON(t, input, sub.Input) {
						t.Errorf("Process modified its input")
					}
				})
			}
		})
	}
}

// TestParse checks the strict decoding of definition documents.
func TestParse(t *testing.T) {
	big := `{"schema": {"type": "object", "description": "` + strings.Repeat("x", MaxDefinitionBytes) + `"}}`
	tests := []struct {
		name     string
		doc      string
		problems []goldenProblem // nil: accepted
	}{
		{"minimal", `{"schema": {"type": "object"}}`, nil},
		{"complete", `{"schema": {"type": "object"}, "uiSchema": {"type": "VerticalLayout", "elements": []}, "rules": [{"kind": "check", "expr": "true", "pointer": "", "message": {"en": "x", "zh-CN": "x"}}], "labels": {"en": {}}, "plugins": []}`, nil},
		{"too large", big, []goldenProblem{{"", "form.definition.tooLarge"}}},
		{"not JSON", `{"schema":`, []goldenProblem{{"/schema", "form.definition.json"}}},
		{"trailing data", `{"schema": {}} {}`, []goldenProblem{{"", "form.definition.json"}}},
		{"not UTF-8", "{\"schema\": {\"title\": \"\xff\"}}", []goldenProblem{{"", "form.definition.json"}}},
		{"duplicate key", `{"schema": {"type": "object", "type": "object"}}`, []goldenProblem{{"/schema/type", "form.definition.json"}}},
		{"not an object", `[]`, []goldenProblem{{"", "form.definition.type"}}},
		{"no schema", `{"plugins": []}`, []goldenProblem{{"/schema", "form.definition.missing"}}},
		{"schema not an object", `{"schema": true}`, []goldenProblem{{"/schema", "form.definition.type"}}},
		{"keys are case-sensitive", `{"Schema": {}}`, []goldenProblem{{"/Schema", "form.definition.unknownKey"}, {"/schema", "form.definition.missing"}}},
		{"uiSchema not an object", `{"schema": {}, "uiSchema": []}`, []goldenProblem{{"/uiSchema", "form.definition.type"}}},
		{"rules not an array", `{"schema": {}, "rules": {}}`, []goldenProblem{{"/rules", "form.definition.type"}}},
		{"labels not objects", `{"schema": {}, "labels": {"en": "Amount"}}`, []goldenProblem{{"/labels/en", "form.definition.type"}}},
		{"message not strings", `{"schema": {}, "rules": [{"kind": "check", "message": {"en": 1}}]}`, []goldenProblem{{"/rules/0/message/en", "form.definition.type"}}},
		{"plugins not an array", `{"schema": {}, "plugins": "field.text"}`, []goldenProblem{{"/plugins", "form.definition.type"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := Parse([]byte(tt.doc))
			if tt.problems == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if len(def.Schema) == 0 {
					t.Errorf("Parse returned no schema")
				}
				return
			}
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("Parse = %v, want a *DefinitionError", err)
			}
			var got []goldenProblem
			for _, p := range de.Problems {
				got = append(got, goldenProblem{p.Pointer, p.MessageKey})
			}
			if !reflect.DeepEqual(got, tt.problems) {
				t.Errorf("problems = %v, want %v", got, tt.problems)
			}
		})
	}
	t.Run("fields", func(t *testing.T) {
		def, err := Parse([]byte(`{"schema": {"type": "object"}, "rules": [{"kind": "visible", "field": "a", "when": "true"}], "labels": {"en": {"a": "A"}}, "plugins": ["field.text"]}`))
		if err != nil {
			t.Fatal(err)
		}
		want := &Definition{
			Schema:  json.RawMessage(`{"type": "object"}`),
			Rules:   []Rule{{Kind: RuleVisible, Field: "a", When: "true"}},
			Labels:  map[string]map[string]string{"en": {"a": "A"}},
			Plugins: []string{"field.text"},
		}
		if !reflect.DeepEqual(def, want) {
			t.Errorf("Parse = %+v, want %+v", def, want)
		}
	})
	t.Run("the limit is 256 KiB", func(t *testing.T) {
		if MaxDefinitionBytes != 262144 {
			t.Errorf("MaxDefinitionBytes = %d", MaxDefinitionBytes)
		}
		doc := `{"schema": {"type": "object", "description": "`
		doc += strings.Repeat("x", MaxDefinitionBytes-len(doc)-3) + `"}}`
		if len(doc) != MaxDefinitionBytes {
			t.Fatalf("len = %d", len(doc))
		}
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("Parse at the limit: %v", err)
		}
	})
}

// TestDefinitionErrorAPIError checks a definition's problems reach clients
// as a BAD_USER_INPUT error in their language, pointers prefixed.
func TestDefinitionErrorAPIError(t *testing.T) {
	d := newTestDesigner(t)
	_, err := d.Check([]byte(`{"schema": {"type": "object", "properties": {"amount": {"type": "number"}}},
		"rules": [{"kind": "compute", "field": "amount", "expr": "'x'"}], "plugins": ["field.nope"]}`))
	var de *DefinitionError
	if !errors.As(err, &de) {
		t.Fatalf("Check = %v, want a *DefinitionError", err)
	}
	if !errors.Is(err, ErrInvalidDefinition) || !errors.Is(err, ErrMissingPlugin) || !errors.Is(err, expr.ErrCompile) {
		t.Errorf("errors.Is fails for %v", err)
	}
	if !strings.Contains(err.Error(), "/rules/0/expr: The expression is not valid") {
		t.Errorf("Error() = %q", err)
	}
	ae := de.APIError("/input/definition")
	if ae.Code != apierr.BadUserInput || len(ae.Fields) != 2 {
		t.Fatalf("APIError = %+v", ae)
	}
	f := ae.Fields[0]
	if f.Pointer != "/input/definition/plugins/0" || f.MessageKey != "form.definition.pluginMissing" || f.Params["plugin"] != "field.nope" {
		t.Errorf("field 0 = %+v", f)
	}
	body := apierr.Present(ae, "zh-CN", "req-1")
	if body.Code != apierr.BadUserInput || len(body.Errors) != 2 {
		t.Fatalf("Present = %+v", body)
	}
	if body.Errors[0].Message != "插件 field.nope 未安装。" {
		t.Errorf("zh-CN message = %q", body.Errors[0].Message)
	}
	if body.Errors[1].Pointer != "/input/definition/rules/0/expr" || !strings.HasPrefix(body.Errors[1].Message, "表达式无效：") {
		t.Errorf("second error = %+v", body.Errors[1])
	}
	if en := apierr.Present(ae, "en", "req-1"); en.Errors[0].Message != "The plugin field.nope is not installed." {
		t.Errorf("en message = %q", en.Errors[0].Message)
	}
	// The API error is a copy.
	f.Messages["en"] = "changed"
	if de.Problems[0].Message["en"] == "changed" {
		t.Error("APIError shares the problem's messages")
	}
}

// TestDefinitionMessages checks the catalogue: each key has its own texts
// in both locales, whose placeholders are among its parameters.
func TestDefinitionMessages(t *testing.T) {
	params := map[string][]string{
		"form.definition.json": {"detail"}, "form.definition.tooLarge": {"max"}, "form.definition.type": {"expected"},
		"form.definition.schema": {"detail"}, "form.definition.format": {"format"}, "form.definition.fieldType": {"plugin"},
		"form.definition.fieldConfig": {"plugin", "detail"}, "form.definition.typeConflict": {"plugin", "expected"},
		"form.definition.pluginNotListed": {"plugin"}, "form.definition.pluginMissing": {"plugin"},
		"form.definition.extension": {"keyword"}, "form.definition.elementType": {"type"},
		"form.definition.unknownField": {"field"}, "form.definition.expression": {"detail"},
		"form.definition.requiredIf": {"detail"}, "form.definition.locale": {"locale"},
		"form.definition.fieldExists":      {"field"},
		"form.definition.sensitiveCompute": {"field"},
		"form.definition.validator":        {"plugin"},
		"form.definition.validatorConfig":  {"plugin", "detail"},
		"form.definition.provision":        {"plugin", "detail"},
	}
	msgs := DefinitionMessages()
	if len(msgs) != len(definitionMessageKeys()) {
		t.Errorf("DefinitionMessages has %d keys, want %d", len(msgs), len(definitionMessageKeys()))
	}
	placeholder := regexp.MustCompile(`\{([a-zA-Z]+)\}`)
	for key, m := range msgs {
		for _, locale := range []string{"en", "zh-CN"} {
			text := m[locale]
			if text == "" || text == "Is not valid." || text == "无效。" {
				t.Errorf("%s has no own %s text", key, locale)
			}
			for _, ph := range placeholder.FindAllStringSubmatch(text, -1) {
				if !contains(params[key], ph[1]) {
					t.Errorf("%s (%s) names {%s}, which is not a parameter", key, locale, ph[1])
				}
			}
		}
		if _, clash := Messages()[key]; clash {
			t.Errorf("%s is in Messages too", key)
		}
	}
	msgs["form.check"]["en"] = "changed"
	if DefinitionMessages()["form.check"]["en"] == "changed" {
		t.Error("DefinitionMessages returns shared state")
	}
}

// TestCheckRefusesRemoteReferences checks that a schema naming another
// document is refused at Check, with no request made.
func TestCheckRefusesRemoteReferences(t *testing.T) {
	l := listen(t)
	d := newTestDesigner(t)
	tests := []struct {
		name, schema, pointer string
	}{
		{"property", `{"type": "object", "properties": {"address": {"$ref": "` + l.url("/address.json") + `"}}}`, "/schema/properties/address/$ref"},
		{"definitions", `{"type": "object", "definitions": {"a": {"$ref": "` + l.url("/a.json#/x") + `"}}, "properties": {"a": {"$ref": "#/definitions/a"}}}`, "/schema/definitions/a/$ref"},
		{"beside a field type", `{"type": "object", "properties": {"amount": {"x-field": "field.money", "$ref": "` + l.url("/m.json") + `"}}}`, "/schema/properties/amount/$ref"},
		{"file", `{"type": "object", "properties": {"a": {"items": {"$ref": "file:///etc/passwd"}}}}`, "/schema/properties/a/items/$ref"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Check([]byte(`{"schema": ` + tt.schema + `, "plugins": ["field.money"]}`))
			if !errors.Is(err, ErrExternalRef) {
				t.Fatalf("Check = %v, want ErrExternalRef", err)
			}
			var de *DefinitionError
			if !errors.As(err, &de) || len(de.Problems) != 1 || de.Problems[0].Pointer != tt.pointer || de.Problems[0].MessageKey != "form.definition.externalRef" {
				t.Errorf("Check = %v, want one externalRef problem at %s", err, tt.pointer)
			}
		})
	}
	if n := l.count.Load(); n != 0 {
		t.Errorf("%d connections were made", n)
	}
}

// TestNewDesigner checks NewDesigner needs its collaborators.
func TestNewDesigner(t *testing.T) {
	reg := installFormats(t)
	if _, err := NewDesigner(nil, NewCompiler(CompilerOptions{})); err == nil {
		t.Error("NewDesigner without a registry succeeded")
	}
	if _, err := NewDesigner(reg, nil); err == nil {
		t.Error("NewDesigner without a compiler succeeded")
	}
}

// accessorsDefinition is a small form for the accessor and Process tests.
const accessorsDefinition = `{
	"schema": {"type": "object", "properties": {
		"email": {"type": "string", "format": "email"},
		"id_card": {"type": "string", "format": "cn_resident_id", "x-searchable": true},
		"name": {"type": "string", "x-sensitive": true},
		"note": {"type": "string", "x-sensitive": false, "x-searchable": false},
		"amount": {"x-field": "field.money", "x-searchable": true},
		"qty": {"type": ["integer", "null"], "x-searchable": true},
		"price": {"type": "number"},
		"total": {"type": "number", "readOnly": true}
	}},
	"rules": [
		{"kind": "visible", "field": "note", "when": "has(data.qty)"},
		{"kind": "compute", "field": "total", "expr": "has(data.qty) && has(data.price) ? double(data.qty) * data.price : 0.0"},
		{"kind": "check", "expr": "!has(data.price) || data.price >= 0.0", "pointer": "/price", "message": {"en": "No negative prices.", "zh-CN": "价格不能为负。"}}
	],
	"plugins": ["format.email", "format.cn_resident_id", "field.money"]
}`

func TestFormAccessors(t *testing.T) {
	d := newTestDesigner(t)
	form, err := d.Check([]byte(accessorsDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := form.Fields(), []string{"amount", "email", "id_card", "name", "note", "price", "qty", "total"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
	if got, want := form.SensitiveFields(), []string{"email", "id_card", "name"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SensitiveFields() = %q, want %q", got, want)
	}
	if got, want := form.SearchableFields(), []string{"amount", "id_card", "qty"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SearchableFields() = %q, want %q", got, want)
	}
	rules := form.Rules()
	if len(rules) != 3 || rules[0].Kind != RuleVisible || rules[0].When != "has(data.qty)" {
		t.Errorf("Rules() = %+v", rules)
	}
	rules[2].Message["en"] = "changed"
	rules[0].Field = "changed"
	if again := form.Rules(); again[2].Message["en"] != "No negative prices." || again[0].Field != "note" {
		t.Error("Rules() shares state")
	}
	schema := form.Schema()
	var parsed map[string]any
	if err := json.Unmarshal(schema, &parsed); err != nil {
		t.Fatalf("Schema() is not JSON: %v", err)
	}
	amount := parsed["properties"].(map[string]any)["amount"].(map[string]any)
	allOf, ok := amount["allOf"].([]any)
	if !ok || len(allOf) != 2 || len(amount) != 1 {
		t.Errorf("the money field is %v, want an allOf of two subschemas", amount)
	} else if allOf[1].(map[string]any)["pattern"] != moneyPattern {
		t.Errorf("the money fragment is %v", allOf[1])
	}
	schema[0] = 'X'
	if form.Schema()[0] != '{' {
		t.Error("Schema() shares its bytes")
	}
	sens := form.SensitiveFields()
	sens[0] = "changed"
	if form.SensitiveFields()[0] != "email" {
		t.Error("SensitiveFields() shares state")
	}
	if _, err := form.Env().Compile("data.amount == '1.00' && data.qty > 1", expr.KindBool); err != nil {
		t.Errorf("Env() does not type the form's fields: %v", err)
	}
	if _, err := form.Env().Compile("data.amount > 1", expr.KindBool); err == nil {
		t.Error("Env() types the money field as a number")
	}
}

// TestValidatorLeavesOutContainers checks that the form's validator reports
// a field type's own failures, not the allOf that wraps them.
func TestValidatorLeavesOutContainers(t *testing.T) {
	d := newTestDesigner(t)
	form, err := d.Check([]byte(accessorsDefinition))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := form.Validator().Validate(context.Background(), []byte(`{"amount": "1.23456", "qty": 1.5}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range verr.Items {
		got = append(got, it.Pointer+" "+it.Keyword)
	}
	if want := []string{"/amount pattern", "/qty type"}; !reflect.DeepEqual(got, want) {
		t.Errorf("items = %q, want %q", got, want)
	}
	if verr, err := form.Validator().Validate(context.Background(), []byte(`{"amount": "1.50"}`)); verr != nil || err != nil {
		t.Errorf("Validate = %v, %v", verr, err)
	}
}

func TestProcess(t *testing.T) {
	d := newTestDesigner(t)
	form, err := d.Check([]byte(accessorsDefinition))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("nil submission", func(t *testing.T) {
		out, err := form.Process(ctx, nil, testViewer(), testNow())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(out, map[string]any{"total": 0.0}) {
			t.Errorf("Process(nil) = %v", out)
		}
	})
	t.Run("input is not modified", func(t *testing.T) {
		in := map[string]any{"qty": 2, "price": 1.5, "total": 99.0, "tags": []any{"a"}}
		out, err := form.Process(ctx, in, testViewer(), testNow())
		if err != nil {
			t.Fatal(err)
		}
		if out["total"] != 3.0 || in["total"] != 99.0 {
			t.Errorf("out = %v, in = %v", out, in)
		}
		out["tags"].([]any)[0] = "changed"
		if in["tags"].([]any)[0] != "a" {
			t.Error("the output shares the input's values")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := form.Process(cctx, map[string]any{"qty": 1}, testViewer(), testNow())
		var verr *ValidationError
		if !errors.Is(err, context.Canceled) || errors.As(err, &verr) || errors.Is(err, ErrRule) {
			t.Errorf("Process = %v, want context.Canceled", err)
		}
	})
	t.Run("a value JSON cannot hold", func(t *testing.T) {
		inf, err := d.Check([]byte(`{"schema": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number", "readOnly": true}}},
			"rules": [{"kind": "compute", "field": "y", "expr": "data.x / 0.0"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		_, err = inf.Process(ctx, map[string]any{"x": 1.0}, testViewer(), testNow())
		var re *RuleError
		if !errors.As(err, &re) || re.Pointer != "/rules/0/expr" || !errors.Is(err, expr.ErrResult) {
			t.Errorf("Process = %v, want a *RuleError at /rules/0/expr wrapping ErrResult", err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				in := map[string]any{"qty": i, "price": 2.0}
				if i%2 == 1 {
					in["price"] = -1.0
				}
				out, err := form.Process(ctx, in, testViewer(), testNow())
				switch {
				case i%2 == 0 && (err != nil || out["total"] != float64(2*i)):
					t.Errorf("Process(%v) = %v, %v", in, out, err)
				case i%2 == 1 && err == nil:
					t.Errorf("Process(%v) accepted a negative price", in)
				}
			}()
		}
		wg.Wait()
	})
}

// TestDesignerOptions checks the expression options reach the forms'
// environments.
func TestDesignerOptions(t *testing.T) {
	doc := []byte(`{"schema": {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
		"rules": [{"kind": "check", "expr": "!has(data.tags) || data.tags.all(t, t != '')", "pointer": "/tags", "message": {"en": "x", "zh-CN": "x"}}]}`)
	in := map[string]any{"tags": []any{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}
	for _, tt := range []struct {
		name  string
		limit uint64
		fails bool
	}{{"default", 0, false}, {"tight", 5, true}} {
		t.Run(tt.name, func(t *testing.T) {
			form, err := newTestDesigner(t, expr.WithCostLimit(tt.limit)).Check(doc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = form.Process(context.Background(), in, testViewer(), testNow())
			if got := errors.Is(err, expr.ErrCostLimit); got != tt.fails {
				t.Errorf("Process = %v; cost limit exceeded: %v, want %v", err, got, tt.fails)
			}
		})
	}
}

// TestConcurrentCheck checks one Designer serves concurrent checks.
func TestConcurrentCheck(t *testing.T) {
	d := newTestDesigner(t)
	good := []byte(accessorsDefinition)
	bad := []byte(`{"schema": {"type": "object", "properties": {"a": {"type": "number"}}}, "rules": [{"kind": "required", "field": "a", "when": "data.a > 1.0 || data.a < 0.0"}]}`)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				if _, err := d.Check(good); err != nil {
					t.Errorf("Check: %v", err)
				}
			} else if _, err := d.Check(bad); !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("Check = %v, want ErrInvalidDefinition", err)
			}
		}()
	}
	wg.Wait()
}
