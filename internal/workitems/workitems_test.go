package workitems_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/custos-crm/custos/ent"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

type ticket struct {
	ID, State            string
	Revision             int
	AvailableTransitions []struct{ Transition, To string }
	History              []struct {
		Transition, FromState, ToState string
		Comment                        *string
	}
}

const ticketFields = `id state revision availableTransitions { transition to } history { transition fromState toState comment }`

func TestTicketsMoveThroughTheirWorkflow(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		if err := a.Background.EnsureDefaults(context.Background(), a.Client(), a.Logger(), a.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		a.NewUser(t, tn, apptest.UserSpec{Email: "li@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		a.NewUser(t, tn, apptest.UserSpec{Email: "wang@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		li, wang := a.Login(t, "acme", "li@acme.test"), a.Login(t, "acme", "wang@acme.test")
		admin := a.Login(t, "acme", "admin@acme.test")

		var created struct{ CreateTicket ticket }
		a.GraphQL(t, li, `mutation { createTicket(input: {title: "Printer jammed"}) { `+ticketFields+` } }`, nil).MustSucceed(t).Decode(t, &created)
		tk := created.CreateTicket
		if tk.State != "new" || len(tk.AvailableTransitions) != 1 || tk.AvailableTransitions[0].Transition != "start" ||
			len(tk.History) != 1 || tk.History[0].Transition != "create" {
			t.Fatalf("new ticket %+v", tk)
		}
		move := func(token, transition string, revision int, extra string) (ticket, []string, string) {
			var out struct{ TransitionTicket ticket }
			res := a.GraphQL(t, token, `mutation($id: ID!, $t: String!, $r: Int) { transitionTicket(id: $id, transition: $t, revision: $r`+extra+`) { `+ticketFields+` } }`,
				map[string]any{"id": tk.ID, "t": transition, "r": revision})
			if len(res.Errors) > 0 {
				return ticket{}, res.Errors[0].Pointers(), res.Errors[0].Code()
			}
			res.Decode(t, &out)
			return out.TransitionTicket, nil, ""
		}
		got, _, code := move(li, "start", 0, "")
		if code != "" || got.State != "in_progress" || got.Revision != 1 {
			t.Fatalf("start: %s %+v", code, got)
		}
		// A transition that does not leave the current state.
		if _, pointers, code := move(li, "close", 1, ""); code != "BAD_USER_INPUT" || len(pointers) == 0 {
			t.Fatalf("close from in_progress: %s %v", code, pointers)
		}
		// Someone outside the owner's scope cannot see it, let alone move it.
		if _, _, code := move(wang, "resolve", 1, ""); code != "NOT_FOUND" {
			t.Fatalf("another sales user: %s", code)
		}

		// Two transitions from the same revision at once: exactly one wins.
		var wg sync.WaitGroup
		codes := make([]string, 2)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, codes[i] = move(li, "resolve", 1, "")
			}()
		}
		wg.Wait()
		if !((codes[0] == "" && codes[1] == "CONFLICT") || (codes[0] == "CONFLICT" && codes[1] == "")) {
			t.Fatalf("concurrent transitions: %v", codes)
		}

		// Reopening needs the transition form's reason.
		if _, pointers, code := move(li, "reopen", 2, ""); code != "BAD_USER_INPUT" || !strings.Contains(strings.Join(pointers, ","), "reason") {
			t.Fatalf("reopen without a reason: %s %v", code, pointers)
		}
		got, _, code = move(li, "reopen", 2, `, input: {reason: "still jams"}, comment: "customer called again"`)
		if code != "" || got.State != "in_progress" {
			t.Fatalf("reopen: %s %+v", code, got)
		}
		h := got.History
		if len(h) != 4 || h[1].Transition != "start" || h[2].Transition != "resolve" || h[3].FromState != "resolved" ||
			h[3].Comment == nil || *h[3].Comment != "customer called again" {
			t.Fatalf("history %+v", h)
		}

		// The history is append-only, even for an administrator.
		events, err := a.Client().TransitionEvent.Query().All(a.System(tn.Tenant.ID))
		if err != nil {
			t.Fatal(err)
		}
		adminCtx := viewer.NewContext(context.Background(), &viewer.Viewer{TenantID: tn.Tenant.ID, UserID: tn.Admin.ID,
			Grants: []viewer.Grant{{RoleID: tn.Role("admin").ID, Permissions: viewer.AllPermissions(), Scope: viewer.ScopeAll}}, Now: a.Clock.Now()})
		err = a.TryTx(adminCtx, func(c *ent.Client) error {
			return c.TransitionEvent.UpdateOneID(events[0].ID).SetUpdatedAt(a.Clock.Now()).Exec(adminCtx)
		})
		if err == nil {
			t.Fatal("a history entry was changed")
		}
		err = a.TryTx(adminCtx, func(c *ent.Client) error { return c.TransitionEvent.DeleteOneID(events[0].ID).Exec(adminCtx) })
		if err == nil {
			t.Fatal("a history entry was deleted")
		}

		// Filters: by state and assignee through the generated where input.
		var list struct {
			Tickets struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		a.GraphQL(t, admin, `{ tickets(where: {state: "in_progress"}) { edges { node { id } } } }`, nil).MustSucceed(t).Decode(t, &list)
		if len(list.Tickets.Edges) != 1 {
			t.Fatalf("tickets in progress %+v", list)
		}

		// Projects: guards by role. A sales user may submit but not cancel.
		var p struct {
			CreateProject struct {
				ID, State            string
				AvailableTransitions []struct{ Transition string }
			}
		}
		a.GraphQL(t, li, `mutation { createProject(input: {title: "New office"}) { id state availableTransitions { transition } } }`, nil).MustSucceed(t).Decode(t, &p)
		if p.CreateProject.State != "draft" || len(p.CreateProject.AvailableTransitions) != 1 || p.CreateProject.AvailableTransitions[0].Transition != "submit" {
			t.Fatalf("project for sales %+v", p)
		}
		res := a.GraphQL(t, li, `mutation($id: ID!) { transitionProject(id: $id, transition: "cancel") { state } }`, map[string]any{"id": p.CreateProject.ID})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("sales cancelled: %s", res.Raw)
		}
		var cancelled struct{ TransitionProject struct{ State string } }
		a.GraphQL(t, admin, `mutation($id: ID!) { transitionProject(id: $id, transition: "cancel") { state } }`,
			map[string]any{"id": p.CreateProject.ID}).MustSucceed(t).Decode(t, &cancelled)
		if cancelled.TransitionProject.State != "cancelled" {
			t.Fatalf("admin cancel %+v", cancelled)
		}
	})
}
