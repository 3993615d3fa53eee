package workitems_test

import (
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/notification"
	"github.com/custos-crm/custos/ent/outboxmessage"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// TestActionsRunInTheTransaction: a transition's actions write in its
// transaction and send through the outbox, so a transition that fails
// part-way leaves nothing behind and sends nothing.
func TestActionsRunInTheTransaction(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		tn := a.NewTenant(t, "acme")
		li := a.NewUser(t, tn, apptest.UserSpec{Email: "li@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		gone := a.NewUser(t, tn, apptest.UserSpec{Email: "gone@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		sys := a.System(tn.Tenant.ID)
		a.Tx(t, sys, func(c *ent.Client) error { return c.User.UpdateOneID(gone.ID).SetStatus(user.StatusDisabled).Exec(sys) })
		admin, token := a.Login(t, "acme", "admin@acme.test"), a.Login(t, "acme", "li@acme.test")
		a.GraphQL(t, admin, `mutation { createWebhookEndpoint(input: {url: "https://hooks.example.test/custos", events: ["ticket.workflow"]}) { endpoint { id } } }`, nil).MustSucceed(t)

		notifyOwner := map[string]any{"type": "action.notify", "config": map[string]any{"to": "owner"}}
		hook := map[string]any{"type": "action.webhook", "config": map[string]any{"event": "escalated"}}
		doc := map[string]any{
			"initial": "open",
			"states": []any{
				map[string]any{"key": "open", "category": "todo"},
				map[string]any{"key": "escalated", "category": "done", "final": true},
			},
			"transitions": []any{
				map[string]any{"key": "escalate", "from": []string{"open"}, "to": "escalated", "actions": []any{notifyOwner, hook}},
				map[string]any{"key": "broken", "from": []string{"open"}, "to": "escalated", "actions": []any{
					notifyOwner, hook, map[string]any{"type": "action.assign", "config": map[string]any{"to": string(gone.ID)}},
				}},
			},
		}
		var wf struct {
			CreateWorkflow struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!) { createWorkflow(input: {key: "esc", module: ticket, nameZh: "升级", nameEn: "Escalation", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": doc}).MustSucceed(t).Decode(t, &wf)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": wf.CreateWorkflow.LatestVersion.ID}).MustSucceed(t)
		var c struct{ CreateTicket struct{ ID string } }
		a.GraphQL(t, token, `mutation($w: ID!) { createTicket(input: {title: "Outage", workflowID: $w}) { id } }`,
			map[string]any{"w": wf.CreateWorkflow.ID}).MustSucceed(t).Decode(t, &c)
		counts := func() (notices, hooks int) {
			t.Helper()
			notices, err := a.Client().Notification.Query().Where(notification.UserID(li.ID)).Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			hooks, err = a.Client().OutboxMessage.Query().Where(outboxmessage.Event("ticket.workflow")).Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			return notices, hooks
		}

		res := a.GraphQL(t, token, `mutation($id: ID!) { transitionTicket(id: $id, transition: "broken") { state } }`, map[string]any{"id": c.CreateTicket.ID})
		if len(res.Errors) != 1 {
			t.Fatalf("the broken transition succeeded: %s", res.Raw)
		}
		if n, h := counts(); n != 0 || h != 0 {
			t.Fatalf("a rolled-back transition left %d notices and %d webhook messages", n, h)
		}
		var out struct{ TransitionTicket struct{ State string } }
		a.GraphQL(t, token, `mutation($id: ID!) { transitionTicket(id: $id, transition: "escalate") { state } }`,
			map[string]any{"id": c.CreateTicket.ID}).MustSucceed(t).Decode(t, &out)
		if out.TransitionTicket.State != "escalated" {
			t.Fatalf("state %q", out.TransitionTicket.State)
		}
		if n, h := counts(); n != 1 || h != 1 {
			t.Fatalf("the transition left %d notices and %d webhook messages, want 1 and 1", n, h)
		}
		m, err := a.Client().OutboxMessage.Query().Where(outboxmessage.Event("ticket.workflow")).Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := m.Payload["data"].(map[string]any)
		if data["id"] != c.CreateTicket.ID || data["signal"] != "escalated" || data["type"] != "ticket" {
			t.Fatalf("webhook payload %v", m.Payload)
		}
	})
}
