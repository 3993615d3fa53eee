package formdefs_test

import (
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/store/storetest"
)

// TestSelectValuesMustBeActiveOptions checks that the keys written to
// select and multi-select custom fields are active options of the
// tenant's picklist, each refusal at its pointer, and that a key stored
// before its option was deactivated does not block other changes.
func TestSelectValuesMustBeActiveOptions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a, tn, admin, sales := acmeWithSales(t, dialect)

		doc := map[string]any{
			"schema": map[string]any{"type": "object", "properties": map[string]any{
				"grade": map[string]any{"x-field": "field.select", "x-config": map[string]any{"picklist": "customer_grade",
					"options": []any{option("a", "甲", "A"), option("b", "乙", "B")}}},
				"tags": map[string]any{"x-field": "field.multi_select", "x-config": map[string]any{"picklist": "customer_tag",
					"options": []any{option("vip", "贵宾", "VIP"), option("new", "新客", "New")}}},
				"note": map[string]any{"type": "string"},
			}},
			"plugins": []string{"field.select", "field.multi_select"},
		}
		var created struct {
			CreateForm struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($in: CreateFormInput!) { createForm(input: $in) { id latestVersion { id } } }`, map[string]any{"in": map[string]any{
			"key": "customer_extra", "module": "customer", "nameZh": "客户扩展", "nameEn": "Customer extras", "document": doc}}).
			MustSucceed(t).Decode(t, &created)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishFormVersion(id: $id) { state } }`, map[string]any{"id": created.CreateForm.LatestVersion.ID}).MustSucceed(t)
		a.GraphQL(t, admin, `mutation($id: ID!) { setFormActive(definitionID: $id, active: true) { active } }`, map[string]any{"id": created.CreateForm.ID}).MustSucceed(t)

		create := `mutation($cf: Map!) { createCustomer(input: {name: "Acme", customFields: $cf}) { id customFields } }`
		res := a.GraphQL(t, sales, create, map[string]any{"cf": map[string]any{"grade": "z", "tags": []any{"vip", "gold"}, "note": "z"}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" ||
			strings.Join(res.Errors[0].Pointers(), ",") != "/input/customFields/grade,/input/customFields/tags/1" {
			t.Fatalf("unknown options: %s", res.Raw)
		}
		if n, err := a.Client().Customer.Query().Count(a.System(tn.Tenant.ID)); err != nil || n != 0 {
			t.Fatalf("%d customers after a refused create (%v)", n, err)
		}

		var c struct{ CreateCustomer struct{ ID string } }
		a.GraphQL(t, sales, create, map[string]any{"cf": map[string]any{"grade": "a", "tags": []any{"vip", "new"}}}).MustSucceed(t).Decode(t, &c)

		// Option "a" is retired; the customer keeps it and can still be
		// edited, but nobody can choose it again.
		a.GraphQL(t, admin, `mutation { updatePicklist(kind: "customer_grade", options: [
			{key: "a", labelZh: "甲", labelEn: "A", active: false}, {key: "b", labelZh: "乙", labelEn: "B"}]) { kind } }`, nil).MustSucceed(t)
		update := `mutation($id: ID!, $cf: Map!) { updateCustomer(id: $id, input: {customFields: $cf}) { customFields } }`
		var u struct {
			UpdateCustomer struct{ CustomFields map[string]any }
		}
		a.GraphQL(t, sales, update, map[string]any{"id": c.CreateCustomer.ID, "cf": map[string]any{"note": "called"}}).MustSucceed(t).Decode(t, &u)
		if u.UpdateCustomer.CustomFields["grade"] != "a" || u.UpdateCustomer.CustomFields["note"] != "called" {
			t.Errorf("after editing another field: %v", u.UpdateCustomer.CustomFields)
		}
		res = a.GraphQL(t, sales, update, map[string]any{"id": c.CreateCustomer.ID, "cf": map[string]any{"grade": "a"}})
		if len(res.Errors) != 1 || strings.Join(res.Errors[0].Pointers(), ",") != "/input/customFields/grade" {
			t.Fatalf("a retired option chosen again: %s", res.Raw)
		}
		a.GraphQL(t, sales, update, map[string]any{"id": c.CreateCustomer.ID, "cf": map[string]any{"grade": "b"}}).MustSucceed(t)
	})
}
