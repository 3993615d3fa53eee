package formdefs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// customerForm is a customer form with a sensitive, searchable ID number
// (personal by its format), a searchable tier and a budget.
func customerForm(extra map[string]any, required ...string) map[string]any {
	props := map[string]any{
		"id_number": map[string]any{"type": "string", "format": "cn_resident_id", "x-searchable": true},
		"tier":      map[string]any{"type": "string", "enum": []string{"gold", "silver"}, "x-searchable": true},
		"budget":    map[string]any{"type": "number", "minimum": 0},
	}
	for k, v := range extra {
		props[k] = v
	}
	schema := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		schema["required"] = required
	}
	return map[string]any{
		"schema": schema,
		"uiSchema": map[string]any{"type": "VerticalLayout", "elements": []any{
			map[string]any{"type": "Control", "scope": "#/properties/id_number"},
			map[string]any{"type": "Control", "scope": "#/properties/budget"},
		}},
		"labels":  map[string]any{"zh-CN": map[string]any{"budget": "预算"}, "en": map[string]any{"budget": "Budget"}},
		"plugins": []string{"format.cn_resident_id"},
	}
}

const idNumber = "11010519491231002X"

// acmeWithSales starts the application with the tenant acme and signs in
// its administrator and a sales user, li@acme.test.
func acmeWithSales(t *testing.T, dialect string) (a *apptest.App, tn *apptest.Tenant, admin, sales string) {
	t.Helper()
	a = apptest.New(t, dialect)
	tn = a.NewTenant(t, "acme")
	a.NewUser(t, tn, apptest.UserSpec{Email: "li@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
	return a, tn, a.Login(t, "acme", "admin@acme.test"), a.Login(t, "acme", "li@acme.test")
}

func TestCustomFieldsEndToEnd(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a, tn, admin, sales := acmeWithSales(t, dialect)

		// A document with problems is refused with pointers into it.
		bad := customerForm(nil)
		bad["uiSchema"] = map[string]any{"type": "VerticalLayout", "elements": []any{map[string]any{"type": "Control", "scope": "#/properties/nope"}}}
		res := a.GraphQL(t, admin, `mutation($in: CreateFormInput!) { createForm(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"key": "customer_extra", "module": "customer", "nameZh": "客户扩展", "nameEn": "Customer extras", "document": bad}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" ||
			!strings.Contains(strings.Join(res.Errors[0].Pointers(), ","), "/input/document/uiSchema/elements/0/scope") {
			t.Fatalf("bad document: %s", res.Raw)
		}
		// A sales user may not design forms.
		res = a.GraphQL(t, sales, `mutation($in: CreateFormInput!) { createForm(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"key": "customer_extra", "module": "customer", "nameZh": "客户扩展", "nameEn": "Customer extras", "document": customerForm(nil)}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("sales designed a form: %s", res.Raw)
		}

		// The admin designs, publishes and attaches the form.
		var created struct {
			CreateForm struct {
				ID            string
				LatestVersion struct{ ID, State string }
			}
		}
		a.GraphQL(t, admin, `mutation($in: CreateFormInput!) { createForm(input: $in) { id latestVersion { id state } } }`, map[string]any{"in": map[string]any{
			"key": "customer_extra", "module": "customer", "nameZh": "客户扩展", "nameEn": "Customer extras", "document": customerForm(nil)}}).
			MustSucceed(t).Decode(t, &created)
		formID, v1 := created.CreateForm.ID, created.CreateForm.LatestVersion.ID
		res = a.GraphQL(t, admin, `mutation($id: ID!) { setFormActive(definitionID: $id, active: true) { id } }`, map[string]any{"id": formID})
		if len(res.Errors) != 1 || res.Errors[0].Pointers()[0] != "/definitionID" {
			t.Fatalf("an unpublished form was attached: %s", res.Raw)
		}
		a.GraphQL(t, admin, `mutation($id: ID!) { publishFormVersion(id: $id) { state } }`, map[string]any{"id": v1}).MustSucceed(t)
		a.GraphQL(t, admin, `mutation($id: ID!) { setFormActive(definitionID: $id, active: true) { active } }`, map[string]any{"id": formID}).MustSucceed(t)
		res = a.GraphQL(t, admin, `mutation($id: ID!, $d: Map!) { updateFormDraft(id: $id, document: $d) { id } }`, map[string]any{"id": v1, "d": customerForm(nil)})
		if len(res.Errors) != 1 || res.Errors[0].Pointers()[0] != "/input/document" {
			t.Fatalf("a published version changed: %s", res.Raw)
		}

		// The sales user fills it in; bad values come back per field.
		res = a.GraphQL(t, sales, `mutation($cf: Map!) { createCustomer(input: {name: "Acme", customFields: $cf}) { id } }`,
			map[string]any{"cf": map[string]any{"id_number": "110105194912310021", "budget": -1, "tier": "bronze"}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" ||
			strings.Join(res.Errors[0].Pointers(), ",") != "/input/customFields/budget,/input/customFields/id_number,/input/customFields/tier" {
			t.Fatalf("bad custom fields: %s", res.Raw)
		}
		var c struct {
			CreateCustomer struct {
				ID           string
				CustomFields map[string]any
			}
		}
		a.GraphQL(t, sales, `mutation($cf: Map!) { createCustomer(input: {name: "Acme", customFields: $cf}) { id customFields } }`,
			map[string]any{"cf": map[string]any{"id_number": idNumber, "budget": 100, "tier": "gold"}}).MustSucceed(t).Decode(t, &c)
		if cf := c.CreateCustomer.CustomFields; cf["id_number"] != idNumber || cf["budget"] != float64(100) || cf["tier"] != "gold" {
			t.Fatalf("custom fields read back %v", cf)
		}

		// The ID number is sealed in the database; the tier is not personal.
		rows, err := a.Store.DB.Query(`SELECT custom_fields FROM customers`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var raw string
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(raw, "11010519491231") || !strings.Contains(raw, `"$sealed"`) || !strings.Contains(raw, "gold") {
				t.Fatalf("stored custom fields %s", raw)
			}
		}
		rows.Close()

		// Equality search: by the blind index and by the plain value.
		for _, f := range []map[string]any{{"field": "id_number", "value": strings.ToLower(idNumber)}, {"field": "tier", "value": "gold"}} {
			var found struct {
				CustomersByCustomField struct {
					Edges []struct{ Node struct{ ID string } }
				}
			}
			a.GraphQL(t, sales, `query($f: CustomFieldFilter!) { customersByCustomField(filter: $f) { edges { node { id } } } }`,
				map[string]any{"f": f}).MustSucceed(t).Decode(t, &found)
			if e := found.CustomersByCustomField.Edges; len(e) != 1 || e[0].Node.ID != c.CreateCustomer.ID {
				t.Errorf("search %v found %+v", f, found)
			}
		}
		res = a.GraphQL(t, sales, `{ customersByCustomField(filter: {field: "budget", value: "100"}) { edges { node { id } } } }`, nil)
		if len(res.Errors) != 1 || res.Errors[0].Pointers()[0] != "/filter/field" {
			t.Fatalf("a field that is not searchable: %s", res.Raw)
		}

		// An update merges: the budget changes, the ID number stays.
		var u struct {
			UpdateCustomer struct{ CustomFields map[string]any }
		}
		a.GraphQL(t, sales, `mutation($id: ID!) { updateCustomer(id: $id, input: {customFields: {budget: 200}}) { customFields } }`,
			map[string]any{"id": c.CreateCustomer.ID}).MustSucceed(t).Decode(t, &u)
		if cf := u.UpdateCustomer.CustomFields; cf["id_number"] != idNumber || cf["budget"] != float64(200) {
			t.Fatalf("after the update %v", cf)
		}

		// Version 2 requires a region: its dry run names the record.
		var draft struct{ NewFormDraft struct{ ID string } }
		a.GraphQL(t, admin, `mutation($id: ID!) { newFormDraft(definitionID: $id) { id } }`, map[string]any{"id": formID}).MustSucceed(t).Decode(t, &draft)
		v2 := draft.NewFormDraft.ID
		doc2 := customerForm(map[string]any{"region": map[string]any{"type": "string", "minLength": 1}}, "region")
		a.GraphQL(t, admin, `mutation($id: ID!, $d: Map!) { updateFormDraft(id: $id, document: $d) { id } }`, map[string]any{"id": v2, "d": doc2}).MustSucceed(t)
		a.GraphQL(t, admin, `mutation($id: ID!) { dryRunFormVersion(id: $id) }`, map[string]any{"id": v2}).MustSucceed(t)
		report := waitForReport(t, a, admin, v2, "dryRun")
		failures, _ := report["failures"].([]any)
		if report["total"] != float64(1) || report["invalid"] != float64(1) || len(failures) != 1 {
			t.Fatalf("dry run %v", report)
		}
		first := failures[0].(map[string]any)
		errs := first["errors"].([]any)
		if first["recordId"] != c.CreateCustomer.ID || errs[0].(map[string]any)["pointer"] != "/region" {
			t.Fatalf("dry run failure %v", first)
		}
		// With a default for the region, the record would pass; publish and
		// migrate with that step.
		steps := []map[string]any{{"op": "set_default", "field": "region", "value": "north"}}
		a.GraphQL(t, admin, `mutation($id: ID!, $s: [MigrationStepInput!]) { dryRunFormVersion(id: $id, steps: $s) }`,
			map[string]any{"id": v2, "s": steps}).MustSucceed(t)
		report = waitForReport(t, a, admin, v2, "dryRun", func(r map[string]any) bool { return r["valid"] == float64(1) })
		a.GraphQL(t, admin, `mutation($id: ID!) { publishFormVersion(id: $id) { state } }`, map[string]any{"id": v2}).MustSucceed(t)
		a.GraphQL(t, admin, `mutation($id: ID!, $s: [MigrationStepInput!]) { migrateFormRecords(id: $id, steps: $s) }`,
			map[string]any{"id": v2, "s": steps}).MustSucceed(t)
		report = waitForReport(t, a, admin, v2, "migration")
		if report["migrated"] != float64(1) {
			t.Fatalf("migration %v", report)
		}
		var after struct {
			Node struct{ CustomFields map[string]any }
		}
		a.GraphQL(t, sales, `query($id: ID!) { node(id: $id) { ... on Customer { customFields } } }`,
			map[string]any{"id": c.CreateCustomer.ID}).MustSucceed(t).Decode(t, &after)
		if cf := after.Node.CustomFields; cf["region"] != "north" || cf["id_number"] != idNumber {
			t.Fatalf("after the migration %v", cf)
		}
		// Version 2 requires a region: a customer created without custom
		// fields is refused; keys the form lacks (or the storage's own)
		// too.
		res = a.GraphQL(t, sales, `mutation { createCustomer(input: {name: "No region"}) { id } }`, nil)
		if len(res.Errors) != 1 || strings.Join(res.Errors[0].Pointers(), ",") != "/input/customFields/region" {
			t.Fatalf("a customer without the required region: %s", res.Raw)
		}
		res = a.GraphQL(t, sales, `mutation($cf: Map!) { createCustomer(input: {name: "X", customFields: $cf}) { id } }`,
			map[string]any{"cf": map[string]any{"region": "n", "zz": map[string]any{"x": 1}, "tier": map[string]any{"$sealed": "AAAA"}}})
		if len(res.Errors) != 1 || strings.Join(res.Errors[0].Pointers(), ",") != "/input/customFields/tier/$sealed,/input/customFields/zz" {
			t.Fatalf("unknown and reserved keys: %s", res.Raw)
		}

		// Runs read and rewrite every record: a designer whose customer
		// rights do not reach the whole tenant may not start one.
		designer := a.NewUser(t, tn, apptest.UserSpec{Email: "designer@acme.test"})
		sys := a.System(tn.Tenant.ID)
		a.Tx(t, sys, func(c *ent.Client) error {
			r, err := c.Role.Create().SetName("Designer").SetPermissions([]string{"form:design", "customer:read", "customer:update"}).
				SetScope(viewer.ScopeDepartment).Save(sys)
			if err != nil {
				return err
			}
			return c.RoleGrant.Create().SetUserID(designer.ID).SetRoleID(r.ID).Exec(sys)
		})
		res = a.GraphQL(t, a.Login(t, "acme", "designer@acme.test"), `mutation($id: ID!) { dryRunFormVersion(id: $id) }`, map[string]any{"id": v2})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("a designer with a narrow scope started a run: %s", res.Raw)
		}

		// The first version is retired but readable.
		var v1State struct{ Node struct{ State string } }
		a.GraphQL(t, sales, `query($id: ID!) { node(id: $id) { ... on FormVersion { state } } }`, map[string]any{"id": v1}).MustSucceed(t).Decode(t, &v1State)
		if v1State.Node.State != "retired" {
			t.Fatalf("version 1 is %s", v1State.Node.State)
		}
	})
}

// waitForReport polls a form version until its report (dryRun or
// migration) is there and, if given, satisfies ok.
func waitForReport(t *testing.T, a *apptest.App, token, versionID, field string, ok ...func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var out struct{ Node map[string]any }
		a.GraphQL(t, token, `query($id: ID!) { node(id: $id) { ... on FormVersion { dryRun migration } } }`,
			map[string]any{"id": versionID}).MustSucceed(t).Decode(t, &out)
		if r, _ := out.Node[field].(map[string]any); r != nil && (len(ok) == 0 || ok[0](r)) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s report: %v", field, out.Node)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
