package workitems_test

import (
	"slices"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// TestTicketEndToEnd: an admin designs a ticket form and a flow with an
// approval and per-state field access, publishes both; a user files a
// ticket (an invalid one first), it moves through the approval to done,
// and the history shows every step.
func TestTicketEndToEnd(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		a.NewUser(t, tn, apptest.UserSpec{Email: "li@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		boss := a.NewUser(t, tn, apptest.UserSpec{Email: "boss@acme.test", Roles: []*ent.Role{tn.Role("manager")}})
		admin, li, bossTok := a.Login(t, "acme", "admin@acme.test"), a.Login(t, "acme", "li@acme.test"), a.Login(t, "acme", "boss@acme.test")

		var form struct {
			CreateForm struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!) { createForm(input: {key: "repair", module: ticket, nameZh: "报修", nameEn: "Repair", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": map[string]any{
				"schema": map[string]any{"type": "object", "required": []string{"priority"}, "properties": map[string]any{
					"priority":      map[string]any{"type": "string", "enum": []string{"low", "high"}, "x-searchable": true},
					"cost":          map[string]any{"type": "number", "minimum": 0},
					"internal_note": map[string]any{"type": "string"},
				}},
				"uiSchema": map[string]any{"type": "VerticalLayout", "elements": []any{
					map[string]any{"type": "Control", "scope": "#/properties/priority"},
					map[string]any{"type": "Control", "scope": "#/properties/cost"},
					map[string]any{"type": "Control", "scope": "#/properties/internal_note"},
				}},
			}}).MustSucceed(t).Decode(t, &form)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishFormVersion(id: $id) { id } }`, map[string]any{"id": form.CreateForm.LatestVersion.ID}).MustSucceed(t)
		a.GraphQL(t, admin, `mutation($id: ID!) { setFormActive(definitionID: $id, active: true) { id } }`, map[string]any{"id": form.CreateForm.ID}).MustSucceed(t)

		flow := map[string]any{
			"initial": "new",
			"states": []any{
				map[string]any{"key": "new", "category": "todo"},
				map[string]any{"key": "pending", "category": "in_progress"},
				map[string]any{"key": "done", "category": "done", "final": true},
			},
			"fieldAccess": []any{
				map[string]any{"state": "new", "roles": []string{"sales"}, "hidden": []string{"internal_note"}},
				map[string]any{"state": "pending", "readOnly": []string{"cost"}},
			},
			"transitions": []any{
				map[string]any{"key": "submit", "from": []string{"new"}, "to": "pending", "approval": "boss", "requires": []string{"cost"},
					"guards": map[string]any{"expr": "!has(data.cost) || data.cost < 10000.0 || viewer.roles.exists(r, r == 'manager')"}},
			},
			"approvals": []any{map[string]any{"key": "boss", "mode": "any", "onApprove": "done", "onReject": "new",
				"approvers": map[string]any{"type": "approver.users", "config": map[string]any{"userIDs": []string{string(boss.ID)}}}}},
		}
		var wf struct {
			CreateWorkflow struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!, $f: ID!) { createWorkflow(input: {key: "repair", module: ticket, nameZh: "报修", nameEn: "Repair", formID: $f, document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": flow, "f": form.CreateForm.ID}).MustSucceed(t).Decode(t, &wf)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": wf.CreateWorkflow.LatestVersion.ID}).MustSucceed(t)

		const fields = `id state customFields availableTransitions { transition blocked { key } } history { transition fromState toState }`
		type ticket struct {
			ID, State            string
			CustomFields         map[string]any
			AvailableTransitions []struct {
				Transition string
				Blocked    []struct{ Key string }
			}
			History []struct{ Transition, FromState, ToState string }
		}
		create := `mutation($w: ID!, $c: Map) { createTicket(input: {title: "Air conditioner", workflowID: $w, customFields: $c}) { ` + fields + ` } }`
		res := a.GraphQL(t, li, create, map[string]any{"w": wf.CreateWorkflow.ID, "c": map[string]any{"priority": "urgent", "cost": -1}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("an invalid ticket: %s", res.Raw)
		}
		if got := res.Errors[0].Pointers(); !slices.Contains(got, "/input/customFields/priority") || !slices.Contains(got, "/input/customFields/cost") {
			t.Fatalf("pointers %v", got)
		}
		var c struct{ CreateTicket ticket }
		a.GraphQL(t, li, create, map[string]any{"w": wf.CreateWorkflow.ID, "c": map[string]any{"priority": "high", "internal_note": "vendor is slow"}}).
			MustSucceed(t).Decode(t, &c)
		tk := c.CreateTicket
		if _, seen := tk.CustomFields["internal_note"]; seen || tk.CustomFields["priority"] != "high" {
			t.Fatalf("sales sees %v in state new", tk.CustomFields)
		}
		if len(tk.AvailableTransitions) != 1 || len(tk.AvailableTransitions[0].Blocked) != 1 || tk.AvailableTransitions[0].Blocked[0].Key != "requires" {
			t.Fatalf("submit should be blocked until cost is filled in: %+v", tk.AvailableTransitions)
		}
		var adminView struct{ Node ticket }
		a.GraphQL(t, admin, `query($id: ID!) { node(id: $id) { ... on Ticket { `+fields+` } } }`, map[string]any{"id": tk.ID}).MustSucceed(t).Decode(t, &adminView)
		if adminView.Node.CustomFields["internal_note"] != "vendor is slow" {
			t.Fatalf("the admin sees %v", adminView.Node.CustomFields)
		}
		res = a.GraphQL(t, li, `mutation($id: ID!) { transitionTicket(id: $id, transition: "submit") { state } }`, map[string]any{"id": tk.ID})
		if len(res.Errors) != 1 || !slices.Contains(res.Errors[0].Pointers(), "/customFields/cost") {
			t.Fatalf("submit without cost: %s", res.Raw)
		}
		a.GraphQL(t, admin, `mutation($id: ID!) { updateTicket(id: $id, input: {customFields: {cost: 350}}) { id } }`, map[string]any{"id": tk.ID}).MustSucceed(t)
		var moved struct{ TransitionTicket ticket }
		a.GraphQL(t, li, `mutation($id: ID!) { transitionTicket(id: $id, transition: "submit") { `+fields+` } }`, map[string]any{"id": tk.ID}).MustSucceed(t).Decode(t, &moved)
		if moved.TransitionTicket.State != "pending" {
			t.Fatalf("after submit %+v", moved.TransitionTicket)
		}
		// While it waits for approval nobody changes the cost.
		res = a.GraphQL(t, admin, `mutation($id: ID!) { updateTicket(id: $id, input: {customFields: {cost: 9999}}) { id } }`, map[string]any{"id": tk.ID})
		if len(res.Errors) != 1 || !slices.Equal(res.Errors[0].Pointers(), []string{"/input/customFields/cost"}) {
			t.Fatalf("a read-only field changed: %s", res.Raw)
		}
		var done struct{ ApproveTicket ticket }
		a.GraphQL(t, bossTok, `mutation($id: ID!) { approveTicket(id: $id, comment: "go ahead") { `+fields+` } }`, map[string]any{"id": tk.ID}).MustSucceed(t).Decode(t, &done)
		var steps []string
		for _, h := range done.ApproveTicket.History {
			steps = append(steps, h.Transition+":"+h.FromState+">"+h.ToState)
		}
		want := []string{"create:>new", "submit:new>pending", "approval.approve:pending>pending", "approval.approved:pending>done"}
		if done.ApproveTicket.State != "done" || !slices.Equal(steps, want) {
			t.Fatalf("after the approval: %s %v, want %v", done.ApproveTicket.State, steps, want)
		}

		// Lists filter on a searchable form field, with the usual filters.
		find := func(value, state string) int {
			var out struct{ TicketsByCustomField struct{ TotalCount int } }
			a.GraphQL(t, li, `query($v: String!, $s: String) { ticketsByCustomField(filter: {field: "priority", value: $v}, where: {state: $s}) { totalCount } }`,
				map[string]any{"v": value, "s": state}).MustSucceed(t).Decode(t, &out)
			return out.TicketsByCustomField.TotalCount
		}
		if find("high", "done") != 1 || find("low", "done") != 0 || find("high", "new") != 0 {
			t.Fatalf("filters: high/done %d, low/done %d, high/new %d", find("high", "done"), find("low", "done"), find("high", "new"))
		}
		res = a.GraphQL(t, li, `{ ticketsByCustomField(filter: {field: "cost", value: "350"}) { totalCount } }`, nil)
		if len(res.Errors) != 1 || !slices.Equal(res.Errors[0].Pointers(), []string{"/filter/field"}) {
			t.Fatalf("a field not marked searchable: %s", res.Raw)
		}
	})
}
