package money_test

import (
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"

	"github.com/custos-crm/custos/internal/money"
)

// TestEntFieldDeclarations checks the declarations given in the package doc
// against ent's field builder, which validates a GoType in Descriptor.
func TestEntFieldDeclarations(t *testing.T) {
	if st := money.SchemaType(); len(st) != 2 || st[dialect.Postgres] == "" || st[dialect.SQLite] == "" {
		t.Fatalf("SchemaType() = %v is not keyed by ent's dialect names %q and %q", st, dialect.Postgres, dialect.SQLite)
	}
	for name, f := range map[string]interface{ Descriptor() *field.Descriptor }{
		"Other amount":          field.Other("amount", money.Amount{}).SchemaType(money.SchemaType()),
		"Other nillable amount": field.Other("discount", money.Amount{}).SchemaType(money.SchemaType()).Optional().Nillable(),
		"String amount":         field.String("amount").GoType(money.Amount{}).SchemaType(money.SchemaType()),
		"String currency":       field.String("currency").GoType(money.Currency("")),
	} {
		d := f.Descriptor()
		if d.Err != nil {
			t.Errorf("%s: %v", name, d.Err)
		}
	}
	d := field.Other("amount", money.Amount{}).SchemaType(money.SchemaType()).Descriptor()
	if d.Info.Type != field.TypeOther || d.Info.Ident != "money.Amount" || d.Info.PkgPath != "github.com/custos-crm/custos/internal/money" {
		t.Errorf("amount field type info = %+v", d.Info)
	}
	if !d.Info.ValueScanner() {
		t.Error("ent does not see money.Amount as a ValueScanner")
	}
	if _, ok := d.Info.RType.Methods["Validate"]; ok {
		t.Error("money.Amount has a Validate method, which ent would call")
	}
	c := field.String("currency").GoType(money.Currency("")).Descriptor()
	if _, ok := c.Info.RType.Methods["Validate"]; !ok {
		t.Error("ent does not see Currency.Validate, so it would not validate currencies")
	}

	// The builder does reject a GoType that is neither a string nor a
	// ValueScanner, so the checks above mean something.
	if field.String("amount").GoType(struct{ X int }{}).Descriptor().Err == nil {
		t.Fatal("ent's field builder accepted a struct GoType that is not a ValueScanner")
	}
	// And an Other field without SchemaType.
	if field.Other("amount", money.Amount{}).Descriptor().Err == nil {
		t.Fatal("ent's field builder accepted an Other field without SchemaType")
	}
}
