package workflows_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

type simulated struct {
	Transition, To string
	Passed         bool
	Reasons        []struct{ Key, Pointer, Message string }
}

func simulate(t *testing.T, a *apptest.App, token, version, state string, data map[string]any, roles ...string) map[string]simulated {
	t.Helper()
	var out struct{ SimulateTransition []simulated }
	a.GraphQL(t, token, `query($v: ID!, $s: String, $d: Map!, $r: [String!]!) {
		simulateTransition(workflowVersionID: $v, state: $s, data: $d, roles: $r) { transition to passed reasons { key pointer message(locale: "en") } } }`,
		map[string]any{"v": version, "s": state, "d": data, "r": roles}).MustSucceed(t).Decode(t, &out)
	m := map[string]simulated{}
	for _, o := range out.SimulateTransition {
		m[o.Transition] = o
	}
	return m
}

func TestWorkflowDefinitions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		admin := a.Login(t, "acme", "admin@acme.test")
		if err := a.Background.EnsureDefaults(context.Background(), a.Client(), a.Logger(), a.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		// Twice is harmless.
		if err := a.Background.EnsureDefaults(context.Background(), a.Client(), a.Logger(), a.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		var defs struct {
			WorkflowDefinitions []struct {
				Key              string
				PublishedVersion *struct{ ID, State string }
			}
		}
		a.GraphQL(t, admin, `{ workflowDefinitions { key publishedVersion { id state } } }`, nil).MustSucceed(t).Decode(t, &defs)
		if len(defs.WorkflowDefinitions) != 2 || defs.WorkflowDefinitions[0].Key != "project_default" ||
			defs.WorkflowDefinitions[0].PublishedVersion == nil || defs.WorkflowDefinitions[1].Key != "ticket_default" {
			t.Fatalf("defaults %+v", defs)
		}
		project := defs.WorkflowDefinitions[0].PublishedVersion.ID

		// Simulation: a sales user may submit a draft project but not
		// cancel it; a manager may cancel.
		sim := simulate(t, a, admin, project, "draft", map[string]any{}, "sales")
		if !sim["submit"].Passed || sim["cancel"].Passed || sim["cancel"].Reasons[0].Key != "guard.role" {
			t.Fatalf("sales in draft %+v", sim)
		}
		if sim := simulate(t, a, admin, project, "draft", map[string]any{}, "manager"); !sim["cancel"].Passed {
			t.Fatalf("manager in draft %+v", sim)
		}
		// Published versions are frozen.
		res := a.GraphQL(t, admin, `mutation($id: ID!) { updateWorkflowDraft(id: $id, document: {}) { id } }`, map[string]any{"id": project})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" {
			t.Fatalf("a published version changed: %s", res.Raw)
		}

		// A ticket form types the workflow's expressions.
		var form struct {
			CreateForm struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!) { createForm(input: {key: "ticket", module: ticket, nameZh: "工单", nameEn: "Ticket", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": map[string]any{
				"schema":   map[string]any{"type": "object", "properties": map[string]any{"priority": map[string]any{"type": "string", "enum": []string{"low", "high"}}}},
				"uiSchema": map[string]any{"type": "VerticalLayout", "elements": []any{map[string]any{"type": "Control", "scope": "#/properties/priority"}}},
			}}).MustSucceed(t).Decode(t, &form)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishFormVersion(id: $id) { id } }`, map[string]any{"id": form.CreateForm.LatestVersion.ID}).MustSucceed(t)

		doc := func(guard string, extra map[string]any) map[string]any {
			d := map[string]any{
				"initial": "open",
				"states": []any{
					map[string]any{"key": "open", "category": "todo"},
					map[string]any{"key": "escalated", "category": "in_progress"},
					map[string]any{"key": "done", "category": "done", "final": true},
				},
				"transitions": []any{
					map[string]any{"key": "escalate", "from": []string{"open"}, "to": "escalated", "guards": map[string]any{"expr": guard},
						"actions": []any{map[string]any{"type": "action.notify", "config": map[string]any{"to": "assignee"}}}},
					map[string]any{"key": "finish", "from": []string{"open", "escalated"}, "to": "done"},
				},
			}
			for k, v := range extra {
				d[k] = v
			}
			return d
		}
		create := func(key string, d map[string]any) (string, []string) {
			var out struct {
				CreateWorkflow struct{ LatestVersion struct{ ID string } }
			}
			res := a.GraphQL(t, admin, `mutation($in: CreateWorkflowInput!) { createWorkflow(input: $in) { latestVersion { id } } }`,
				map[string]any{"in": map[string]any{"key": key, "module": "ticket", "nameZh": "升级", "nameEn": "Escalation", "formID": form.CreateForm.ID, "document": d}})
			if len(res.Errors) > 0 {
				return "", res.Errors[0].Pointers()
			}
			res.Decode(t, &out)
			return out.CreateWorkflow.LatestVersion.ID, nil
		}

		// A type error in an expression, an unknown state, an unknown
		// plugin and a bad plugin configuration are refused at save with
		// pointers into the document.
		bad := doc("data.priority > 3", nil)
		bad["transitions"].([]any)[1].(map[string]any)["to"] = "nowhere"
		bad["transitions"].([]any)[0].(map[string]any)["actions"] = []any{
			map[string]any{"type": "action.notify", "config": map[string]any{"to": "everyone"}},
			map[string]any{"type": "action.teleport"},
		}
		_, pointers := create("bad", bad)
		got := strings.Join(pointers, ",")
		for _, want := range []string{
			"/input/document/transitions/0/guards/expr", "/input/document/transitions/1/to",
			"/input/document/transitions/0/actions/0/config/to", "/input/document/transitions/0/actions/1/type",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("no problem at %s in %s", want, got)
			}
		}

		v, pointers := create("escalation", doc("data.priority == 'high'", nil))
		if v == "" {
			t.Fatalf("a good workflow was refused: %v", pointers)
		}
		if sim := simulate(t, a, admin, v, "", map[string]any{"priority": "high"}, "sales"); !sim["escalate"].Passed || !sim["finish"].Passed {
			t.Fatalf("high priority %+v", sim)
		}
		sim = simulate(t, a, admin, v, "open", map[string]any{"priority": "low"}, "sales")
		if sim["escalate"].Passed || sim["escalate"].Reasons[0].Key != "guard.expr" || sim["escalate"].Reasons[0].Message == "" {
			t.Fatalf("low priority %+v", sim)
		}
		if sim := simulate(t, a, admin, v, "done", map[string]any{}, "sales"); len(sim) != 0 {
			t.Fatalf("transitions out of a final state: %+v", sim)
		}
		a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": v}).MustSucceed(t)

		// Designing needs form:design.
		a.NewUser(t, tn, apptest.UserSpec{Email: "s@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		res = a.GraphQL(t, a.Login(t, "acme", "s@acme.test"), `mutation($in: CreateWorkflowInput!) { createWorkflow(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"key": "mine", "module": "ticket", "nameZh": "我的", "nameEn": "Mine", "document": doc("true", nil)}})
		if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("a user without form:design: %s", res.Raw)
		}
	})
}
