package forms

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/internal/apierr"
	"github.com/xeipuuv/gojsonschema"
)

// Item is one reason a document is not valid.
type Item struct {
	// Pointer is the JSON Pointer (RFC 6901) of the offending value in the
	// document; for "required" and "dependencies" it names the missing
	// property, for "additionalProperties" and "propertyNames" the property
	// that is not allowed.
	Pointer string `json:"pointer"`
	// Keyword is the JSON Schema keyword that failed, such as "required" or
	// "maxLength"; "json" when the document is not valid JSON.
	Keyword string `json:"keyword"`
	// MessageKey is "form." + Keyword; Messages holds its texts.
	MessageKey string `json:"messageKey"`
	// Params fill the message's {placeholders}: gojsonschema's details,
	// such as "min", "max", "property", "expected", "format".
	Params map[string]string `json:"params,omitempty"`
	// Message is the message rendered by locale ("zh-CN", "en").
	Message map[string]string `json:"message"`
}

// Text returns the item's message in locale, falling back to English and
// then to the message key.
func (it Item) Text(locale string) string {
	if m, ok := it.Message[locale]; ok {
		return m
	}
	if m, ok := it.Message["en"]; ok {
		return m
	}
	return it.MessageKey
}

// ValidationError lists why a document is not valid, sorted by pointer,
// then keyword.
type ValidationError struct {
	Items []Item `json:"items"`
}

// Error implements error.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("forms: document is not valid:")
	for _, it := range e.Items {
		p := it.Pointer
		if p == "" {
			p = "(root)"
		}
		fmt.Fprintf(&b, " %s:%s", p, it.Keyword)
	}
	return b.String()
}

// APIError returns the BAD_USER_INPUT error clients see, one field error per
// item, each pointer prefixed by base: the pointer of the document within
// the request, such as "/input/data".
func (e *ValidationError) APIError(base string) *apierr.Error {
	fields := make([]apierr.FieldError, len(e.Items))
	for i, it := range e.Items {
		var params map[string]string
		if len(it.Params) > 0 {
			params = make(map[string]string, len(it.Params))
			for k, v := range it.Params {
				params[k] = v
			}
		}
		fields[i] = apierr.FieldError{
			Pointer:    base + it.Pointer,
			Keyword:    it.Keyword,
			MessageKey: it.MessageKey,
			Params:     params,
			Messages:   it.Message,
		}
	}
	return apierr.BadInput(fields...)
}

// validator is a compiled schema.
type validator struct {
	schema      *gojsonschema.Schema
	maxDocument int
}

// Validate implements Validator.
func (v *validator) Validate(ctx context.Context, doc []byte) (*ValidationError, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forms: validating: %w", err)
	}
	if len(doc) > v.maxDocument {
		return nil, fmt.Errorf("%w: %d bytes, more than the limit of %d", ErrDocumentTooLarge, len(doc), v.maxDocument)
	}
	parsed, err := parseJSON(doc, true)
	if err != nil {
		return &ValidationError{Items: []Item{newItem(err.(*jsonError).Pointer, "json", nil)}}, nil
	}
	res, err := v.schema.Validate(gojsonschema.NewRawLoader(parsed))
	if err != nil {
		return nil, fmt.Errorf("forms: validating: %w", err)
	}
	if res.Valid() {
		return nil, nil
	}
	return convertErrors(res.Errors())
}

// convertErrors turns gojsonschema's errors into items, sorted by pointer,
// keyword and message, without duplicates (anyOf and oneOf repeat their branches'
// errors).
func convertErrors(errs []gojsonschema.ResultError) (*ValidationError, error) {
	items := make([]Item, 0, len(errs))
	seen := make(map[string]bool, len(errs))
	for _, re := range errs {
		keyword := keywordOf(re.Type())
		if keyword == "internal" {
			return nil, fmt.Errorf("forms: validating: gojsonschema failed: %s", re.Description())
		}
		details := re.Details()
		ptr := contextPointer(re.Context())
		switch keyword {
		case "required", "additionalProperties", "propertyNames":
			if p, ok := details["property"].(string); ok {
				ptr = childPointer(ptr, p)
			}
		case "dependencies":
			if p, ok := details["dependency"].(string); ok {
				ptr = childPointer(ptr, p)
			}
		}
		params := make(map[string]string, len(details))
		for k, d := range details {
			if k == "field" || k == "context" {
				continue
			}
			params[k] = stringify(d)
		}
		it := newItem(ptr, keyword, params)
		key := it.Pointer + "\x00" + it.Keyword + "\x00" + it.Message["en"]
		if seen[key] {
			continue
		}
		seen[key] = true
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Pointer != b.Pointer {
			return a.Pointer < b.Pointer
		}
		if a.Keyword != b.Keyword {
			return a.Keyword < b.Keyword
		}
		return a.Message["en"] < b.Message["en"]
	})
	return &ValidationError{Items: items}, nil
}

// newItem returns the item for keyword at ptr, its messages rendered.
func newItem(ptr, keyword string, params map[string]string) Item {
	if len(params) == 0 {
		params = nil
	}
	key := "form." + keyword
	return Item{
		Pointer:    ptr,
		Keyword:    keyword,
		MessageKey: key,
		Params:     params,
		Message: map[string]string{
			"en":    render(messageText(key, "en"), params),
			"zh-CN": render(messageText(key, "zh-CN"), params),
		},
	}
}

// contextPointer converts gojsonschema's location to a JSON Pointer. The
// location is read with U+0000 as the separator (documents holding it in a
// key are refused), so keys with dots stay whole; its first element is
// "(root)".
func contextPointer(c *gojsonschema.JsonContext) string {
	if c == nil {
		return ""
	}
	parts := strings.Split(c.String("\x00"), "\x00")
	return pointerOf(parts[1:])
}

// keywordOf maps gojsonschema's error types to JSON Schema keywords.
func keywordOf(t string) string {
	switch t {
	case "invalid_type":
		return "type"
	case "number_any_of":
		return "anyOf"
	case "number_one_of":
		return "oneOf"
	case "number_all_of":
		return "allOf"
	case "number_not":
		return "not"
	case "missing_dependency":
		return "dependencies"
	case "array_no_additional_items":
		return "additionalItems"
	case "array_min_items":
		return "minItems"
	case "array_max_items":
		return "maxItems"
	case "unique":
		return "uniqueItems"
	case "array_min_properties":
		return "minProperties"
	case "array_max_properties":
		return "maxProperties"
	case "additional_property_not_allowed":
		return "additionalProperties"
	case "invalid_property_name":
		return "propertyNames"
	case "string_gte":
		return "minLength"
	case "string_lte":
		return "maxLength"
	case "multiple_of":
		return "multipleOf"
	case "number_gte":
		return "minimum"
	case "number_gt":
		return "exclusiveMinimum"
	case "number_lte":
		return "maximum"
	case "number_lt":
		return "exclusiveMaximum"
	case "condition_then":
		return "then"
	case "condition_else":
		return "else"
	}
	// required, const, enum, pattern, format, contains, false, internal.
	return t
}

// stringify renders one of gojsonschema's error details as text.
func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case *big.Float:
		return x.Text('g', -1)
	case *big.Rat:
		return x.RatString()
	case int:
		return strconv.Itoa(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}
