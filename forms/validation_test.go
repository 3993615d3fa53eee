package forms

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/custos-crm/custos/internal/apierr"
)

func TestAPIError(t *testing.T) {
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}, "required": ["name", "owner"]}`))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := v.Validate(context.Background(), []byte(`{"name": "abcd"}`))
	if err != nil || verr == nil {
		t.Fatalf("Validate = %v, %v", verr, err)
	}
	if want := "forms: document is not valid: /name:maxLength /owner:required"; verr.Error() != want {
		t.Errorf("Error() = %q, want %q", verr.Error(), want)
	}
	e := verr.APIError("/input/data")
	if e.Code != apierr.BadUserInput {
		t.Errorf("code = %s", e.Code)
	}
	want := []apierr.FieldError{
		{Pointer: "/input/data/name", Keyword: "maxLength", MessageKey: "form.maxLength", Params: map[string]string{"max": "3"}},
		{Pointer: "/input/data/owner", Keyword: "required", MessageKey: "form.required", Params: map[string]string{"property": "owner"}},
	}
	for i := range e.Fields {
		if e.Fields[i].Messages["en"] == "" || e.Fields[i].Messages["zh-CN"] == "" {
			t.Errorf("field %d carries no rendered messages: %+v", i, e.Fields[i])
		}
		e.Fields[i].Messages = nil
	}
	if !reflect.DeepEqual(e.Fields, want) {
		t.Errorf("fields = %+v, want %+v", e.Fields, want)
	}
	e.Fields[0].Params["max"] = "changed"
	if verr.Items[0].Params["max"] != "3" {
		t.Error("APIError shares its params with the items")
	}
	e = verr.APIError("/input/data")
	body := apierr.Present(e, "en", "req1")
	if len(body.Errors) != 2 || body.Errors[1].Pointer != "/input/data/owner" || body.Errors[1].Keyword != "required" {
		t.Errorf("presented = %+v", body)
	}
	for _, locale := range []string{"en", "zh-CN"} {
		got := apierr.Present(e, locale, "req1").Errors[1].Message
		if got != verr.Items[1].Text(locale) || strings.HasPrefix(got, "form.") {
			t.Errorf("%s message = %q, want %q", locale, got, verr.Items[1].Text(locale))
		}
	}
}

func TestItemText(t *testing.T) {
	it := newItem("/a", "maxLength", map[string]string{"max": "20"})
	for locale, want := range map[string]string{
		"en":    "Must have at most 20 character(s).",
		"zh-CN": "长度不能超过 20 个字符。",
		"fr":    "Must have at most 20 character(s).",
	} {
		if got := it.Text(locale); got != want {
			t.Errorf("Text(%s) = %q, want %q", locale, got, want)
		}
	}
	if got := (Item{MessageKey: "form.x"}).Text("en"); got != "form.x" {
		t.Errorf("Text without messages = %q", got)
	}
}

// TestMessages checks the catalogue: every keyword gojsonschema reports has
// texts in both locales, whose placeholders are among the keyword's
// parameters.
func TestMessages(t *testing.T) {
	msgs := Messages()
	params := map[string][]string{
		"required": {"property"}, "type": {"expected", "given"}, "minimum": {"min"}, "maximum": {"max"},
		"exclusiveMinimum": {"min"}, "exclusiveMaximum": {"max"}, "minLength": {"min"}, "maxLength": {"max"},
		"pattern": {"pattern"}, "enum": {"allowed"}, "const": {"allowed"}, "format": {"format"},
		"minItems": {"min"}, "maxItems": {"max"}, "uniqueItems": {"type", "i", "j"},
		"additionalProperties": {"property"}, "multipleOf": {"multiple"}, "minProperties": {"min"},
		"maxProperties": {"max"}, "dependencies": {"dependency"}, "propertyNames": {"property"},
		"additionalItems": nil, "contains": nil, "anyOf": nil, "oneOf": nil, "allOf": nil, "not": nil,
		"then": nil, "else": nil, "false": nil, "json": nil,
	}
	gojsonschemaTypes := []string{
		"false", "required", "invalid_type", "number_any_of", "number_one_of", "number_all_of",
		"number_not", "missing_dependency", "const", "enum", "array_no_additional_items",
		"array_min_items", "array_max_items", "unique", "contains", "array_min_properties",
		"array_max_properties", "additional_property_not_allowed", "invalid_property_name",
		"string_gte", "string_lte", "pattern", "format", "multiple_of", "number_gte", "number_gt",
		"number_lte", "number_lt", "condition_then", "condition_else",
	}
	for _, typ := range gojsonschemaTypes {
		kw := keywordOf(typ)
		if _, ok := params[kw]; !ok {
			t.Errorf("gojsonschema's %q maps to %q, which has no parameters listed", typ, kw)
		}
	}
	if len(msgs) != len(params) {
		t.Errorf("Messages has %d keys, want %d", len(msgs), len(params))
	}
	placeholder := regexp.MustCompile(`\{([a-z]+)\}`)
	for kw, ps := range params {
		key := "form." + kw
		m, ok := msgs[key]
		if !ok {
			t.Errorf("no message for %s", key)
			continue
		}
		for _, locale := range []string{"en", "zh-CN"} {
			text := m[locale]
			if text == "" || text == "Is not valid." || text == "无效。" {
				t.Errorf("%s has no own %s text", key, locale)
			}
			for _, ph := range placeholder.FindAllStringSubmatch(text, -1) {
				found := false
				for _, p := range ps {
					found = found || p == ph[1]
				}
				if !found {
					t.Errorf("%s (%s) names {%s}, which is not a parameter", key, locale, ph[1])
				}
			}
		}
	}
	if en, zh := messageTexts("form.unknown"); en != "Is not valid." || zh != "无效。" {
		t.Errorf("fallback = %q, %q", en, zh)
	}
	msgs["form.required"]["en"] = "changed"
	if Messages()["form.required"]["en"] == "changed" {
		t.Error("Messages returns shared state")
	}
}

func TestPointersAreUnambiguous(t *testing.T) {
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{
		"properties": {"a": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}}},
		"patternProperties": {"^x": {"type": "string"}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := v.Validate(context.Background(), []byte(`{"a": {"b.c": [1, "2"], "d/e~f": ["3"], "(root)": [true]}, "x.y": 1, "x/": 2}`))
	if err != nil || verr == nil {
		t.Fatalf("Validate = %v, %v", verr, err)
	}
	var got []string
	for _, it := range verr.Items {
		got = append(got, it.Pointer)
	}
	want := []string{"/a/(root)/0", "/a/b.c/1", "/a/d~1e~0f/0", "/x.y", "/x~1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pointers = %q, want %q", got, want)
	}
}

func TestConcurrentValidate(t *testing.T) {
	installFormats(t)
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(ticketSchemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	good, bad := ticketDocument(true), ticketDocument(false)
	var want []Item
	if verr, err := v.Validate(context.Background(), bad); err != nil || verr == nil {
		t.Fatalf("Validate = %v, %v", verr, err)
	} else {
		want = verr.Items
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for range 50 {
				doc := good
				if i%2 == 1 {
					doc = bad
				}
				verr, err := v.Validate(context.Background(), doc)
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 && verr != nil {
					t.Errorf("a valid ticket: %v", verr)
					return
				}
				if i%2 == 1 && (verr == nil || !reflect.DeepEqual(verr.Items, want)) {
					t.Errorf("an invalid ticket: %v", verr)
					return
				}
			}
		})
	}
	wg.Wait()
}

// ticketSchemaJSON is a typical ticket form, as the form builder writes it.
const ticketSchemaJSON = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string", "maxLength": 10000},
    "category": {"type": "string", "enum": ["hardware", "software", "billing", "other"]},
    "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
    "customer": {"type": "string", "pattern": "^cus[0-9A-HJKMNP-TV-Z]{26}$"},
    "contact_mobile": {"type": "string", "format": "cn_mobile"},
    "contact_email": {"type": "string", "format": "email"},
    "due": {"type": "string", "format": "date"},
    "amount": {"type": "string", "pattern": "^-?\\d{1,16}(\\.\\d{1,4})?$"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 32}, "maxItems": 10, "uniqueItems": true},
    "parts": {
      "type": "array", "maxItems": 50,
      "items": {
        "type": "object",
        "properties": {"sku": {"type": "string", "minLength": 1}, "qty": {"type": "integer", "minimum": 1}, "price": {"type": "string", "pattern": "^-?\\d{1,16}(\\.\\d{1,4})?$"}},
        "required": ["sku", "qty"],
        "additionalProperties": false
      }
    }
  },
  "required": ["title", "category", "priority", "customer"],
  "additionalProperties": false
}`

// ticketDocument returns a ticket that is valid, or one with four mistakes.
func ticketDocument(valid bool) []byte {
	doc := map[string]any{
		"title":          "打印机卡纸，无法打印发票",
		"description":    strings.Repeat("客户反馈打印机频繁卡纸。", 20),
		"category":       "hardware",
		"priority":       "high",
		"customer":       "cus01JD3Y6M4V8W6Z1F2K3N4P5Q6R",
		"contact_mobile": "+8613800138000",
		"contact_email":  "li.na@example.com",
		"due":            "2026-03-01",
		"amount":         "1280.00",
		"tags":           []string{"printer", "onsite"},
		"parts":          []map[string]any{{"sku": "ROLLER-A4", "qty": 2, "price": "45.50"}, {"sku": "FUSER", "qty": 1, "price": "320.00"}},
	}
	if !valid {
		doc["priority"] = "asap"
		doc["contact_mobile"] = "1380013800"
		doc["parts"] = []map[string]any{{"sku": "ROLLER-A4"}, {"sku": "FUSER", "qty": 1, "colour": "black"}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkValidateTicket compares validating a typical ticket with its
// schema compiled once (as the Cache does) against compiling per call.
func BenchmarkValidateTicket(b *testing.B) {
	installFormats(b)
	c := NewCompiler(CompilerOptions{})
	doc := ticketDocument(true)
	ctx := context.Background()
	b.Run("cached", func(b *testing.B) {
		k := NewCache(c, 16)
		load := func() ([]byte, error) { return []byte(ticketSchemaJSON), nil }
		b.ReportAllocs()
		for b.Loop() {
			v, err := k.Get("fv_ticket_1", load)
			if err != nil {
				b.Fatal(err)
			}
			if verr, err := v.Validate(ctx, doc); err != nil || verr != nil {
				b.Fatal(verr, err)
			}
		}
	})
	b.Run("compile_per_call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := c.Compile([]byte(ticketSchemaJSON))
			if err != nil {
				b.Fatal(err)
			}
			if verr, err := v.Validate(ctx, doc); err != nil || verr != nil {
				b.Fatal(verr, err)
			}
		}
	})
}
