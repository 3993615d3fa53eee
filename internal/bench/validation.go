package bench

import (
	"context"
	"fmt"

	"github.com/custos-crm/custos/forms"
)

// ticketSchema is a typical ticket form: what a published ticket version
// compiles to.
const ticketSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": "string", "maxLength": 2000},
    "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
    "category": {"type": "string", "enum": ["hardware", "software", "billing", "account", "other"]},
    "due": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "phone": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"},
    "email": {"type": "string", "maxLength": 254},
    "amount": {"type": "object", "properties": {"amount": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,4})?$"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}, "required": ["amount", "currency"], "additionalProperties": false},
    "lines": {"type": "array", "maxItems": 50, "items": {"type": "object", "properties": {"sku": {"type": "string", "minLength": 1}, "qty": {"type": "integer", "minimum": 1}}, "required": ["sku", "qty"], "additionalProperties": false}}
  },
  "required": ["title", "priority", "category"],
  "additionalProperties": false
}`

// ticketSubmission is a valid submission of the ticket form.
const ticketSubmission = `{"title": "打印机卡纸 Printer jams", "description": "三楼打印机每次打印都卡纸，已重启无效。",
  "priority": "high", "category": "hardware", "due": "2026-12-01", "phone": "13812345678", "email": "li.na@demo.example",
  "amount": {"amount": "1200.50", "currency": "CNY"}, "lines": [{"sku": "TONER-01", "qty": 2}, {"sku": "PAPER-A4", "qty": 10}]}`

// V1 returns the arms of V1: validating a ticket submission with the
// compiled schema from the cache, as the product does (A), and compiling
// the schema for every call (B).
func V1() (a, b Arm, err error) {
	compiler := forms.NewCompiler(forms.CompilerOptions{})
	cache := forms.NewCache(compiler, 16)
	schema := func() ([]byte, error) { return []byte(ticketSchema), nil }
	check := func(ctx context.Context, v forms.Validator) error {
		verr, err := v.Validate(ctx, []byte(ticketSubmission))
		if err != nil {
			return err
		}
		if verr != nil {
			return fmt.Errorf("bench: the ticket submission is invalid: %v", verr)
		}
		return nil
	}
	cached := func(ctx context.Context, _, _ int) error {
		v, err := cache.Get("ticket-v1", schema)
		if err != nil {
			return err
		}
		return check(ctx, v)
	}
	perCall := func(ctx context.Context, _, _ int) error {
		v, err := compiler.Compile([]byte(ticketSchema))
		if err != nil {
			return err
		}
		return check(ctx, v)
	}
	if err := cached(context.Background(), 0, 0); err != nil {
		return a, b, err
	}
	return Arm{Op: cached}, Arm{Op: perCall}, nil
}
