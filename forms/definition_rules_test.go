package forms

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestRequiredIfTranslation checks the JSON Schema each supported condition
// of a required rule on "reason" becomes.
func TestRequiredIfTranslation(t *testing.T) {
	d := newTestDesigner(t)
	then := `"then":{"required":["reason"]}`
	tests := []struct {
		name, when, want string
	}{
		{"==", "data.kind == 'refund'", `{"if":{"properties":{"kind":{"const":"refund"}},"required":["kind"]},` + then + `}`},
		{"!=", "data.kind != 'refund'", `{"if":{"properties":{"kind":{"not":{"const":"refund"}}},"required":["kind"]},` + then + `}`},
		{"<", "data.amount < 10", `{"if":{"properties":{"amount":{"exclusiveMaximum":10,"type":"number"}},"required":["amount"]},` + then + `}`},
		{"<=", "data.amount <= 10.5", `{"if":{"properties":{"amount":{"maximum":10.5,"type":"number"}},"required":["amount"]},` + then + `}`},
		{">", "data.amount > -3", `{"if":{"properties":{"amount":{"exclusiveMinimum":-3,"type":"number"}},"required":["amount"]},` + then + `}`},
		{">=", "data.amount >= 1e3", `{"if":{"properties":{"amount":{"minimum":1000,"type":"number"}},"required":["amount"]},` + then + `}`},
		{"unsigned literal", "data.count >= 2u", `{"if":{"properties":{"count":{"minimum":2,"type":"number"}},"required":["count"]},` + then + `}`},
		{"literal on the left flips <", "10 < data.amount", `{"if":{"properties":{"amount":{"exclusiveMinimum":10,"type":"number"}},"required":["amount"]},` + then + `}`},
		{"literal on the left flips >=", "10 >= data.amount", `{"if":{"properties":{"amount":{"maximum":10,"type":"number"}},"required":["amount"]},` + then + `}`},
		{"literal on the left of ==", "'refund' == data.kind", `{"if":{"properties":{"kind":{"const":"refund"}},"required":["kind"]},` + then + `}`},
		{"bool", "data.urgent == true", `{"if":{"properties":{"urgent":{"const":true}},"required":["urgent"]},` + then + `}`},
		{"in", "data.kind in ['refund', 'return']", `{"if":{"properties":{"kind":{"enum":["refund","return"]}},"required":["kind"]},` + then + `}`},
		{"in numbers", "data.count in [1, 2, 3]", `{"if":{"properties":{"count":{"enum":[1,2,3]}},"required":["count"]},` + then + `}`},
		{"conjunction", "data.amount > 10000 && data.kind == 'refund'",
			`{"if":{"properties":{"amount":{"exclusiveMinimum":10000,"type":"number"},"kind":{"const":"refund"}},"required":["amount","kind"]},` + then + `}`},
		{"long conjunction with parentheses", "data.a == 1 && (data.b == 2 && data.c == 3) && data.d == 4",
			`{"if":{"properties":{"a":{"const":1},"b":{"const":2},"c":{"const":3},"d":{"const":4}},"required":["a","b","c","d"]},` + then + `}`},
		{"one field twice", "data.amount >= 1 && data.amount < 10",
			`{"if":{"properties":{"amount":{"allOf":[{"minimum":1,"type":"number"},{"exclusiveMaximum":10,"type":"number"}]}},"required":["amount"]},` + then + `}`},
		{"escaped identifier", "data.`kind` == 'x'", `{"if":{"properties":{"kind":{"const":"x"}},"required":["kind"]},` + then + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.requiredIf(tt.when, "reason")
			if err != nil {
				t.Fatalf("requiredIf(%q): %v", tt.when, err)
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("requiredIf(%q) =\n%s\nwant\n%s", tt.when, b, tt.want)
			}
		})
	}
}

// TestRequiredIfRefused checks that conditions outside the supported forms
// are refused, saying why.
func TestRequiredIfRefused(t *testing.T) {
	d := newTestDesigner(t)
	tests := []struct {
		name, when, msg string
	}{
		{"or", "data.a == 1 || data.b == 2", "the operator || is not supported"},
		{"or inside and", "data.a == 1 && (data.b == 2 || data.c == 3)", "the operator || is not supported"},
		{"not", "!(data.a == 1)", "the operator ! is not supported"},
		{"conditional", "data.a == 1 ? true : false", "the operator ?: is not supported"},
		{"function call", "size(data.reason) > 3", "the function size() cannot be compared"},
		{"method call", "data.kind.startsWith('r')", "the function startsWith() is not supported"},
		{"method call compared", "data.kind.size() == 3", "the function size() cannot be compared"},
		{"has", "has(data.kind)", "has() is not supported"},
		{"macro", "data.tags.exists(t, t == 'x')", "is not a comparison"},
		{"bare field", "data.urgent", "data.urgent is not a comparison"},
		{"literal", "true", "the literal true is not a comparison"},
		{"nested field", "data.address.city == 'Berlin'", "only top-level fields"},
		{"nested field in in", "data.address.city in ['Berlin']", "only top-level fields"},
		{"two fields", "data.a == data.b", "comparing two fields is not supported"},
		{"two literals", "1 == 1", "compares two literals"},
		{"arithmetic", "data.a + 1 > 3", "the operator + cannot be compared"},
		{"string ordering", "data.kind < 'm'", "< needs a number"},
		{"bool ordering", "data.urgent >= true", ">= needs a number"},
		{"null literal", "data.kind == null", "the literal null is not a string, number or bool literal"},
		{"list literal", "data.tags == ['a']", "a list is not a string, number or bool literal"},
		{"negated field", "-data.a > 1", "the operator unary - cannot be compared"},
		{"in a field", "'a' in data.tags", "is not a field"},
		{"in a variable", "data.kind in viewer.roles", "in needs a list of literals"},
		{"in an empty list", "data.kind in []", "not empty"},
		{"in a list with a field", "data.kind in ['a', data.other]", "is not a string, number or bool literal"},
		{"viewer", "viewer.department == 'sales'", "viewer.department cannot be compared"},
		{"optional selection", "data.?kind == 'x'", "the operator ?. (optional selection) cannot be compared"},
		{"index", "data.tags[0] == 'x'", "the operator [] cannot be compared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.requiredIf(tt.when, "reason")
			if err == nil {
				b, _ := json.Marshal(got)
				t.Fatalf("requiredIf(%q) = %s, want an error", tt.when, b)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("requiredIf(%q) = %q, want it to contain %q", tt.when, err, tt.msg)
			}
		})
	}
}

// TestRequiredIfThroughCheck checks a refused condition surfaces as a
// problem at the rule's when, with the reason in its messages, and that an
// accepted one is enforced by the validator alone.
func TestRequiredIfThroughCheck(t *testing.T) {
	d := newTestDesigner(t)
	doc := func(when string) []byte {
		return []byte(`{"schema": {"type": "object", "properties": {"amount": {"type": "number"}, "kind": {"type": "string"}, "reason": {"type": "string"}}},
			"rules": [{"kind": "required", "field": "reason", "when": ` + quote(when) + `}]}`)
	}
	_, err := d.Check(doc("data.amount > 1000.0 || data.kind == 'refund'"))
	var de *DefinitionError
	if !errors.As(err, &de) || len(de.Problems) != 1 {
		t.Fatalf("Check = %v, want one problem", err)
	}
	p := de.Problems[0]
	if p.Pointer != "/rules/0/when" || p.MessageKey != "form.definition.requiredIf" {
		t.Errorf("problem = %s %s", p.Pointer, p.MessageKey)
	}
	for _, locale := range []string{"en", "zh-CN"} {
		if !strings.Contains(p.Message[locale], "the operator || is not supported") || !strings.Contains(p.Message[locale], "&&") {
			t.Errorf("%s message = %q", locale, p.Message[locale])
		}
	}

	form, err := d.Check(doc("data.amount > 1000.0 && data.kind == 'refund'"))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := form.Validator().Validate(context.Background(), []byte(`{"amount": 5000, "kind": "refund"}`))
	if err != nil {
		t.Fatal(err)
	}
	if verr == nil || len(verr.Items) != 1 || verr.Items[0].Pointer != "/reason" || verr.Items[0].Keyword != "required" {
		t.Fatalf("Validate = %v, want one required item at /reason", verr)
	}
	for _, ok := range []string{`{"amount": 5000, "kind": "refund", "reason": "x"}`, `{"amount": 500, "kind": "refund"}`, `{"kind": "refund"}`} {
		if verr, err := form.Validator().Validate(context.Background(), []byte(ok)); err != nil || verr != nil {
			t.Errorf("Validate(%s) = %v, %v; want it valid", ok, verr, err)
		}
	}
}

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
