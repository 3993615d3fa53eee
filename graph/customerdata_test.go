package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// personalValues are what the test writes; none may be found at rest.
var personalValues = []string{
	"13812345678", "1234 5678", "zhang.san@example.com", "ZHANG.SAN", "wx_zhangsan88",
	"88886666", "li.si@example.org", "lisi_wechat", "18611112222",
	"浦东新区世纪大道100号", "prefers calls after 6pm", "wants a discount on the renewal",
	"newuser@alpha.test",
}

const customerInput = `mutation($owner: ID) {
  createCustomer(input: {name: "张三贸易", kind: individual, mobile: "+86 138 1234 5678", telephone: "021-8888 6666",
    wechat: "wx_zhangsan88", email: "Zhang.San@Example.com", address: "浦东新区世纪大道100号",
    notes: "prefers calls after 6pm", level: "key_account", regionProvince: "310000", ownerID: $owner}) { id }
}`

func createPersonalData(t *testing.T, f *fixture) (customerID, contactID pulid.ID) {
	t.Helper()
	var c struct {
		CreateCustomer struct{ ID pulid.ID } `json:"createCustomer"`
	}
	f.app.GraphQL(t, f.tokA, customerInput, nil).MustSucceed(t).Decode(t, &c)
	var ct struct {
		CreateContact struct{ ID pulid.ID } `json:"createContact"`
	}
	f.app.GraphQL(t, f.tokA, `mutation($c: ID!) { createContact(input: {customerID: $c, name: "李四", title: "采购经理", mobile: "186 1111 2222",
		email: "li.si@example.org", wechat: "lisi_wechat", notes: "wants a discount on the renewal"}) { id } }`,
		map[string]any{"c": c.CreateCustomer.ID}).MustSucceed(t).Decode(t, &ct)
	f.app.GraphQL(t, f.tokA, `mutation($c: ID!, $p: ID!) { createFollowUp(input: {customerID: $c, contactID: $p, type: "call",
		content: "called 13812345678, will send the quote", nextFollowUpOn: "2026-03-09"}) { id } }`,
		map[string]any{"c": c.CreateCustomer.ID, "p": ct.CreateContact.ID}).MustSucceed(t)
	f.app.GraphQL(t, f.tokA, `mutation($d: ID!) { createUser(input: {email: "newuser@alpha.test", name: "New", password: "long enough pw", departmentID: $d}) { id } }`,
		map[string]any{"d": f.a.Department.ID}).MustSucceed(t)
	f.app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateCustomer(id: $id, input: {telephone: "021-1234 5678", name: "张三贸易有限公司"}) { id } }`,
		map[string]any{"id": c.CreateCustomer.ID}).MustSucceed(t)
	return c.CreateCustomer.ID, ct.CreateContact.ID
}

// dump returns every stored byte of the database as text.
func dump(t *testing.T, app *apptest.App, dialect string) []byte {
	t.Helper()
	if dialect == storetest.SQLite {
		if _, err := app.Store.DB.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		var path string
		if err := app.Store.DB.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
			t.Fatal(err)
		}
		var all []byte
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err == nil {
				all = append(all, b...)
			}
		}
		return all
	}
	rows, err := app.Store.DB.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	var buf bytes.Buffer
	for _, table := range tables {
		var text sql.NullString
		q := fmt.Sprintf(`SELECT string_agg(t::text, E'\n') FROM %q t`, table)
		if err := app.Store.DB.QueryRow(q).Scan(&text); err != nil {
			t.Fatal(err)
		}
		buf.WriteString(text.String)
	}
	return buf.Bytes()
}

func TestNoPlaintextPersonalDataAtRest(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		createPersonalData(t, f)
		raw := dump(t, f.app, dialect)
		if len(raw) < 1000 || !bytes.Contains(raw, []byte("张三贸易")) {
			t.Fatalf("the dump does not look like the database (%d bytes)", len(raw))
		}
		for _, v := range personalValues {
			for _, form := range []string{v, strings.ToLower(v), strings.ReplaceAll(v, " ", "")} {
				if bytes.Contains(raw, []byte(form)) {
					t.Errorf("%q is stored in plain text", form)
				}
			}
		}
		for _, digits := range []string{"8613812345678", "862188886666", "8618611112222"} {
			if bytes.Contains(raw, []byte(digits)) {
				t.Errorf("normalised phone %q is stored in plain text", digits)
			}
		}
	})
}

func TestSearchByPersonalValues(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		customerID, contactID := createPersonalData(t, f)
		for _, spelling := range []string{"13812345678", "+86 138 1234 5678", "138-1234-5678", "１３８１２３４５６７８"} {
			t.Run("customers where mobile "+spelling, func(t *testing.T) {
				var out struct {
					Customers struct {
						Edges []struct{ Node struct{ ID pulid.ID } }
					}
				}
				f.app.GraphQL(t, f.tokA, `query($m: String!) { customers(where: {mobile: $m}) { edges { node { id } } } }`,
					map[string]any{"m": spelling}).MustSucceed(t).Decode(t, &out)
				if len(out.Customers.Edges) != 1 || out.Customers.Edges[0].Node.ID != customerID {
					t.Fatalf("found %+v", out)
				}
			})
			t.Run("quick search "+spelling, func(t *testing.T) {
				r := f.app.GraphQL(t, f.tokA, `query($q: String!) { search(query: $q) { customers { id } contacts { id } } }`, map[string]any{"q": spelling}).MustSucceed(t)
				if !strings.Contains(string(r.Data), string(customerID)) {
					t.Fatalf("quick search missed the customer: %s", r.Data)
				}
			})
		}
		checks := []struct{ query, value string }{
			{`query($v: String!) { contacts(where: {email: $v}) { totalCount } }`, "LI.SI@example.org "},
			{`query($v: String!) { contacts(where: {mobile: $v}) { totalCount } }`, "18611112222"},
			{`query($v: String!) { customers(where: {telephone: $v}) { totalCount } }`, "(021) 1234-5678"},
			{`query($v: String!) { customers(where: {wechat: $v}) { totalCount } }`, "WX_ZhangSan88"},
			{`query($v: String!) { customers(where: {email: $v}) { totalCount } }`, "zhang.san@example.com"},
		}
		for _, c := range checks {
			r := f.app.GraphQL(t, f.tokA, c.query, map[string]any{"v": c.value}).MustSucceed(t)
			if !strings.Contains(string(r.Data), `"totalCount":1`) {
				t.Errorf("%s with %q: %s", c.query, c.value, r.Data)
			}
		}
		t.Run("the old telephone no longer matches", func(t *testing.T) {
			r := f.app.GraphQL(t, f.tokA, `{ customers(where: {telephone: "021-88886666"}) { totalCount } }`, nil).MustSucceed(t)
			if !strings.Contains(string(r.Data), `"totalCount":0`) {
				t.Fatalf("%s", r.Data)
			}
		})
		t.Run("another tenant finds nothing", func(t *testing.T) {
			r := f.app.GraphQL(t, f.tokB, `{ customers(where: {mobile: "13812345678"}) { totalCount } search(query: "13812345678") { customers { id } } }`, nil).MustSucceed(t)
			if strings.Contains(string(r.Data), string(customerID)) || !strings.Contains(string(r.Data), `"totalCount":0`) {
				t.Fatalf("%s", r.Data)
			}
		})
		t.Run("values read back in clear", func(t *testing.T) {
			var out struct {
				Node struct {
					Mobile, Telephone, Email, Wechat, Address, Notes *string
					LastFollowUpAt                                   *string
					Contacts                                         struct {
						Edges []struct {
							Node struct{ Email, Notes *string }
						}
					}
				}
			}
			f.app.GraphQL(t, f.tokA, `query($id: ID!) { node(id: $id) { ... on Customer { mobile telephone email wechat address notes lastFollowUpAt
				contacts { edges { node { email notes } } } } } }`, map[string]any{"id": customerID}).MustSucceed(t).Decode(t, &out)
			n := out.Node
			if *n.Mobile != "+86 138 1234 5678" || *n.Telephone != "021-1234 5678" || *n.Email != "Zhang.San@Example.com" ||
				*n.Address != "浦东新区世纪大道100号" || n.LastFollowUpAt == nil || *n.Contacts.Edges[0].Node.Email != "li.si@example.org" {
				t.Fatalf("read back %+v", n)
			}
		})
		_ = contactID
	})
}

func TestCiphertextBoundToItsRow(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		victim, _ := createPersonalData(t, f)
		// Copy the mobile ciphertext onto another customer of the same
		// tenant and onto one of another tenant.
		var other struct {
			CreateCustomer struct{ ID pulid.ID } `json:"createCustomer"`
		}
		f.app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "Other", mobile: "13900000000"}) { id } }`, nil).MustSucceed(t).Decode(t, &other)
		var foreign struct {
			CreateCustomer struct{ ID pulid.ID } `json:"createCustomer"`
		}
		f.app.GraphQL(t, f.tokB, `mutation { createCustomer(input: {name: "Foreign", mobile: "13900000001"}) { id } }`, nil).MustSucceed(t).Decode(t, &foreign)
		for _, target := range []struct {
			id  pulid.ID
			tok string
		}{{other.CreateCustomer.ID, f.tokA}, {foreign.CreateCustomer.ID, f.tokB}} {
			_, err := f.app.Store.DB.Exec(`UPDATE customers SET mobile = (SELECT mobile FROM customers WHERE id = $1) WHERE id = $2`, string(victim), string(target.id))
			if err != nil {
				t.Fatal(err)
			}
			r := f.app.GraphQL(t, target.tok, `query($id: ID!) { node(id: $id) { ... on Customer { mobile } } }`, map[string]any{"id": target.id})
			if strings.Contains(string(r.Raw), "138") || len(r.Errors) == 0 {
				t.Fatalf("a moved ciphertext decrypted: %s", r.Raw)
			}
			wantError(t, r, "INTERNAL")
		}
	})
}

func TestMaskingPolicyCoversEveryRead(t *testing.T) {
	f := newFixture(t, "sqlite")
	customerID, _ := createPersonalData(t, f)
	masked := f.app.WithDisclosure(t, disclosure.PolicyFunc(func(context.Context, *viewer.Viewer, string) disclosure.Decision {
		return disclosure.Masked
	}))
	tok := masked.Login(t, "alpha", "admin@alpha.test")
	q := `query($id: ID!) {
	  node(id: $id) { ... on Customer { mobile telephone wechat email address notes
	    contacts { edges { node { mobile email wechat notes } } }
	    followUps { edges { node { content author { email } } } } } }
	  users { edges { node { email } } }
	  auditEvents(first: 100) { edges { node { changes { field before after } } } }
	  viewer { user { email } }
	}`
	r := masked.GraphQL(t, tok, q, map[string]any{"id": customerID}).MustSucceed(t)
	for _, v := range append(personalValues, "Zhang.San@Example.com", "+86 138 1234 5678", "admin@alpha.test", "021-1234 5678", "called 13812345678") {
		if strings.Contains(string(r.Data), v) {
			t.Errorf("clear value %q in a masked answer", v)
		}
	}
	for _, want := range []string{`"mobile":"+86 138****5678"`, `"email":"Z***@Example.com"`, `"before":"张**"`} {
		if !strings.Contains(string(r.Data), want) {
			t.Errorf("masked answer lacks %s: %.600s", want, r.Data)
		}
	}
}

func TestAuditTrail(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		customerID, _ := createPersonalData(t, f)
		var out struct {
			AuditEvents struct {
				Edges []struct {
					Node struct {
						Action, EntityType, Actor, Category string
						EntityID                            pulid.ID
						RequestID                           *string `json:"requestID"`
						Changes                             []struct {
							Field         string
							Before, After *string
						}
					}
				}
			}
		}
		f.app.GraphQL(t, f.tokA, `query($id: ID!) { auditEvents(where: {entityID: $id}) { edges { node {
			action entityType entityID actor category requestID changes { field before after } } } } }`,
			map[string]any{"id": customerID}).MustSucceed(t).Decode(t, &out)
		var update, create bool
		for _, e := range out.AuditEvents.Edges {
			n := e.Node
			if n.EntityID != customerID || n.Category != "data" || n.Actor != string(f.a.Admin.ID) || n.RequestID == nil {
				t.Errorf("event %+v", n)
			}
			for _, ch := range n.Changes {
				if n.Action == "update" && ch.Field == "telephone" {
					update = ch.Before != nil && *ch.Before == "021-8888 6666" && ch.After != nil && *ch.After == "021-1234 5678"
				}
				if n.Action == "create" && ch.Field == "name" {
					create = ch.After != nil && *ch.After == "张三贸易"
				}
			}
		}
		if !update || !create {
			t.Fatalf("events lack the decrypted changes (update %v, create %v): %+v", update, create, out)
		}
		t.Run("sales users cannot read it", func(t *testing.T) {
			tok := f.app.Login(t, "alpha", "sales@alpha.test")
			wantError(t, f.app.GraphQL(t, tok, `{ auditEvents { totalCount } }`, nil), "FORBIDDEN")
		})
		t.Run("a failed mutation leaves no change and no event", func(t *testing.T) {
			count := func() int {
				var n int
				if err := f.app.Store.DB.QueryRow(`SELECT COUNT(*) FROM audit_events`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			before := count()
			// The mobile is fine, the email is not: nothing may be written.
			r := f.app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateCustomer(id: $id, input: {mobile: "13999999999", email: "not-an-email"}) { id } }`,
				map[string]any{"id": customerID})
			wantError(t, r, "BAD_USER_INPUT", "/input/email")
			r = f.app.GraphQL(t, f.tokA, `mutation($d: ID!) { createUser(input: {email: "x@alpha.test", name: "X", password: "long enough pw", departmentID: $d, roleIDs: ["rol00000000000000000000000000"]}) { id } }`,
				map[string]any{"d": f.a.Department.ID})
			wantError(t, r, "BAD_USER_INPUT")
			if after := count(); after != before {
				t.Fatalf("failed mutations left %d events", after-before)
			}
			var one struct{ Customers struct{ TotalCount int } }
			f.app.GraphQL(t, f.tokA, `{ customers(where: {mobile: "13999999999"}) { totalCount } }`, nil).MustSucceed(t).Decode(t, &one)
			if one.Customers.TotalCount != 0 {
				t.Fatal("the failed update changed the customer")
			}
		})
		t.Run("the chain verifies and finds a changed byte", func(t *testing.T) {
			n, problem, err := audit.Verify(context.Background(), f.app.Store.DB, string(f.a.Tenant.ID))
			if err != nil || problem != nil || n < 10 {
				t.Fatalf("verify: %d events, %v, %v", n, problem, err)
			}
			var id string
			var seq int64
			if err := f.app.Store.DB.QueryRow(`SELECT id, seq FROM audit_events WHERE tenant_id = $1 AND seq = 5`, string(f.a.Tenant.ID)).Scan(&id, &seq); err != nil {
				t.Fatal(err)
			}
			if _, err := f.app.Store.DB.Exec(`UPDATE audit_events SET action = 'read' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			_, problem, err = audit.Verify(context.Background(), f.app.Store.DB, string(f.a.Tenant.ID))
			if err != nil || problem == nil || problem.EventID != id || problem.Seq != 5 {
				t.Fatalf("tampering not found at %s: %+v %v", id, problem, err)
			}
		})
	})
}

func TestPicklistsAndFollowUps(t *testing.T) {
	f := newFixture(t, "sqlite")
	customerID, contactID := createPersonalData(t, f)
	wantError(t, f.app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "x", level: "platinum"}) { id } }`, nil), "BAD_USER_INPUT", "/input/level")
	r := f.app.GraphQL(t, f.tokA, `mutation { updatePicklist(kind: "customer_level", options: [
		{key: "platinum", labelZh: "铂金", labelEn: "Platinum"}, {key: "regular", labelZh: "普通", labelEn: "Regular", active: false}]) { kind options { key active } } }`, nil).MustSucceed(t)
	if !strings.Contains(string(r.Data), `"platinum"`) {
		t.Fatalf("%s", r.Data)
	}
	f.app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "x", level: "platinum"}) { id } }`, nil).MustSucceed(t)
	wantError(t, f.app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "y", level: "regular"}) { id } }`, nil), "BAD_USER_INPUT", "/input/level")
	wantError(t, f.app.GraphQL(t, f.tokA, `mutation { updatePicklist(kind: "customer_level", options: [{key: "Bad Key", labelZh: "", labelEn: "x"}]) { kind } }`, nil),
		"BAD_USER_INPUT", "/input/options/0/key", "/input/options/0/labelZh")
	sales := f.app.Login(t, "alpha", "sales@alpha.test")
	wantError(t, f.app.GraphQL(t, sales, `mutation { updatePicklist(kind: "follow_up_type", options: []) { kind } }`, nil), "FORBIDDEN")
	var lists struct{ Picklists []struct{ Kind string } }
	f.app.GraphQL(t, sales, `{ picklists { kind } }`, nil).MustSucceed(t).Decode(t, &lists)
	if len(lists.Picklists) != 4 {
		t.Fatalf("picklists %+v", lists)
	}

	// A follow-up cannot name a contact of another customer.
	r = f.app.GraphQL(t, f.tokA, `mutation($c: ID!, $p: ID!) { createFollowUp(input: {customerID: $c, contactID: $p, type: "call"}) { id } }`,
		map[string]any{"c": f.customerA, "p": contactID})
	wantError(t, r, "BAD_USER_INPUT", "/input/contactID")
	// Sales users can neither read nor add follow-ups of customers they do not own.
	r = f.app.GraphQL(t, sales, `mutation($c: ID!) { createFollowUp(input: {customerID: $c, type: "call"}) { id } }`, map[string]any{"c": customerID})
	wantError(t, r, "BAD_USER_INPUT", "/input/customerID")
	var seen struct{ FollowUps struct{ TotalCount int } }
	f.app.GraphQL(t, sales, `{ followUps { totalCount } }`, nil).MustSucceed(t).Decode(t, &seen)
	if seen.FollowUps.TotalCount != 0 {
		t.Fatalf("sales user sees %d follow-ups of others", seen.FollowUps.TotalCount)
	}
	// Deleting the customer hides its contacts and follow-ups.
	f.app.GraphQL(t, f.tokA, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": customerID}).MustSucceed(t)
	var after struct {
		Contacts  struct{ TotalCount int }
		FollowUps struct{ TotalCount int }
	}
	f.app.GraphQL(t, f.tokA, `{ contacts { totalCount } followUps { totalCount } }`, nil).MustSucceed(t).Decode(t, &after)
	if after.Contacts.TotalCount != 0 || after.FollowUps.TotalCount != 0 {
		t.Fatalf("children of a deleted customer are visible: %+v", after)
	}
}

func TestQuickSearchByName(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		var c struct{ CreateCustomer struct{ ID pulid.ID } }
		f.app.GraphQL(t, f.tokA, `mutation { createCustomer(input: {name: "青岛海禾投资管理有限公司"}) { id } }`, nil).MustSucceed(t).Decode(t, &c)
		f.app.GraphQL(t, f.tokA, `mutation($c: ID!) { createContact(input: {name: "Fabrikam Buyer", customerID: $c}) { id } }`,
			map[string]any{"c": c.CreateCustomer.ID}).MustSucceed(t)
		found := func(q string) (customers, contacts int) {
			t.Helper()
			var out struct {
				Search struct{ Customers, Contacts []struct{ ID pulid.ID } }
			}
			f.app.GraphQL(t, f.tokA, `query($q: String!) { search(query: $q) { customers { id } contacts { id } } }`, map[string]any{"q": q}).MustSucceed(t).Decode(t, &out)
			return len(out.Search.Customers), len(out.Search.Contacts)
		}
		for q, want := range map[string][2]int{
			"海禾": {1, 0}, "海禾投资": {1, 0}, "海": {1, 0}, "禾海": {0, 0}, "海禾投资管理有限公司青岛": {0, 0},
			"fabrikam": {0, 1}, "KAM BUY": {0, 1}, "m b": {0, 1}, "mb": {0, 0},
		} {
			if cu, co := found(q); cu != want[0] || co != want[1] {
				t.Errorf("search(%q) found %d customers and %d contacts, want %v", q, cu, co, want)
			}
		}
		f.app.GraphQL(t, f.tokA, `mutation($id: ID!) { updateCustomer(id: $id, input: {name: "深圳府信文化传媒"}) { id } }`,
			map[string]any{"id": c.CreateCustomer.ID}).MustSucceed(t)
		if cu, _ := found("海禾"); cu != 0 {
			t.Errorf("the old name is still found after a rename")
		}
		if cu, _ := found("文化"); cu != 1 {
			t.Errorf("the new name is not found after a rename")
		}
		r := f.app.GraphQL(t, f.tokB, `{ search(query: "文化") { customers { id } } }`, nil).MustSucceed(t)
		if strings.Contains(string(r.Data), string(c.CreateCustomer.ID)) {
			t.Error("another tenant's search finds the customer")
		}
	})
}
