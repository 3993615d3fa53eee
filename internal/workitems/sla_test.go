package workitems_test

import (
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// slaFlow is a ticket workflow with one SLA: one calendar hour from
// "open", paused while "waiting", stopped by "done", a warning at half
// time, and an escalation to escalateTo on breach.
func slaFlow(escalateTo string) map[string]any {
	tr := func(key, from, to string) map[string]any {
		return map[string]any{"key": key, "from": []string{from}, "to": to}
	}
	return map[string]any{
		"initial": "open",
		"states": []any{
			map[string]any{"key": "open", "category": "todo"},
			map[string]any{"key": "waiting", "category": "in_progress"},
			map[string]any{"key": "done", "category": "done", "final": true},
		},
		"transitions": []any{tr("wait", "open", "waiting"), tr("resume", "waiting", "open"), tr("finish", "open", "done")},
		"sla": []any{map[string]any{
			"key": "respond", "start": map[string]any{"enter": []string{"open"}}, "stop": map[string]any{"enter": []string{"done"}},
			"pause": map[string]any{"enter": []string{"waiting"}}, "target": "1h", "calendar": "calendar", "warnAt": []float64{0.5},
			"breach": []any{map[string]any{"type": "action.assign", "config": map[string]any{"to": escalateTo}}},
		}},
	}
}

type slaTicket struct {
	ID, State string
	Assignee  *struct{ ID string }
	SLATimers []struct {
		SLA, Status   string
		Deadline      *time.Time
		BreachedAt    *time.Time
		WarningsFired int
	}
	History []struct{ Transition string }
}

const slaFields = `id state assignee { id } slaTimers { sla status deadline breachedAt warningsFired } history { transition }`

func TestSLATimersFireOnce(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
		a.Clock.Set(start)
		tn := a.NewTenant(t, "acme")
		a.NewUser(t, tn, apptest.UserSpec{Email: "li@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		boss := a.NewUser(t, tn, apptest.UserSpec{Email: "boss@acme.test", Roles: []*ent.Role{tn.Role("manager")}})
		admin, li := a.Login(t, "acme", "admin@acme.test"), a.Login(t, "acme", "li@acme.test")
		var wf struct {
			CreateWorkflow struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!) { createWorkflow(input: {key: "sla", module: ticket, nameZh: "时限", nameEn: "SLA", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": slaFlow(string(boss.ID))}).MustSucceed(t).Decode(t, &wf)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": wf.CreateWorkflow.LatestVersion.ID}).MustSucceed(t)

		create := func() slaTicket {
			var c struct{ CreateTicket slaTicket }
			a.GraphQL(t, li, `mutation($w: ID!) { createTicket(input: {title: "Printer", workflowID: $w}) { `+slaFields+` } }`,
				map[string]any{"w": wf.CreateWorkflow.ID}).MustSucceed(t).Decode(t, &c)
			return c.CreateTicket
		}
		read := func(id string) slaTicket {
			var out struct{ Node slaTicket }
			a.GraphQL(t, li, `query($id: ID!) { node(id: $id) { ... on Ticket { `+slaFields+` } } }`, map[string]any{"id": id}).MustSucceed(t).Decode(t, &out)
			return out.Node
		}
		move := func(id, transition string) {
			a.GraphQL(t, li, `mutation($id: ID!, $t: String!) { transitionTicket(id: $id, transition: $t) { id } }`,
				map[string]any{"id": id, "t": transition}).MustSucceed(t)
		}
		notices := func() map[string]int {
			var out struct {
				MyNotifications struct {
					Edges []struct {
						Node struct{ Kind, RecordID string }
					}
				}
			}
			a.GraphQL(t, li, `{ myNotifications(first: 100) { edges { node { kind recordID } } } }`, nil).MustSucceed(t).Decode(t, &out)
			m := map[string]int{}
			for _, e := range out.MyNotifications.Edges {
				m[e.Node.RecordID+"/"+e.Node.Kind]++
			}
			return m
		}
		waitFor := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					t.Fatalf("timed out waiting for %s", what)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}

		tk := create()
		if len(tk.SLATimers) != 1 || tk.SLATimers[0].Status != "running" || tk.SLATimers[0].Deadline == nil ||
			!tk.SLATimers[0].Deadline.Equal(start.Add(time.Hour)) {
			t.Fatalf("new ticket's timer %+v", tk.SLATimers)
		}
		// A second ticket is paused for 20 minutes: its deadline moves.
		paused := create()
		a.Clock.Advance(10 * time.Minute)
		move(paused.ID, "wait")
		a.Clock.Advance(20 * time.Minute)
		move(paused.ID, "resume")
		if got := read(paused.ID).SLATimers[0]; got.Status != "running" || !got.Deadline.Equal(start.Add(80*time.Minute)) {
			t.Fatalf("resumed timer %+v, want the deadline 20 minutes later", got)
		}
		// A third is finished in time: nothing fires for it.
		done := create()
		move(done.ID, "finish")

		// Half time: the warning fires, once.
		a.Clock.Advance(5 * time.Minute) // 35 minutes in
		waitFor("the warning", func() bool { return notices()[tk.ID+"/sla.warning"] == 1 })
		if got := read(tk.ID).SLATimers[0]; got.WarningsFired != 1 || got.BreachedAt != nil {
			t.Fatalf("after the warning %+v", got)
		}
		// The deadline: the breach fires once, escalates and shows in the history.
		a.Clock.Advance(30 * time.Minute) // 65 minutes in
		waitFor("the breach", func() bool { return notices()[tk.ID+"/sla.breached"] == 1 })
		got := read(tk.ID)
		if got.SLATimers[0].BreachedAt == nil || got.Assignee == nil || got.Assignee.ID != string(boss.ID) ||
			got.History[len(got.History)-1].Transition != "sla.breached" {
			t.Fatalf("after the breach %+v", got)
		}
		// The paused ticket breaches 20 minutes later, the finished one never.
		if n := notices()[paused.ID+"/sla.breached"]; n != 0 {
			t.Fatalf("the paused ticket breached early")
		}
		a.Clock.Advance(20 * time.Minute)
		waitFor("the paused ticket's breach", func() bool { return notices()[paused.ID+"/sla.breached"] == 1 })
		// Later, whatever River still holds has run: nothing fired twice.
		a.Clock.Advance(2 * time.Hour)
		time.Sleep(6 * time.Second) // River's scheduler runs every 5 s
		li = a.Login(t, "acme", "li@acme.test")
		n := notices()
		if n[tk.ID+"/sla.warning"] != 1 || n[tk.ID+"/sla.breached"] != 1 || n[paused.ID+"/sla.warning"] != 1 ||
			n[paused.ID+"/sla.breached"] != 1 || n[done.ID+"/sla.warning"]+n[done.ID+"/sla.breached"] != 0 {
			t.Fatalf("notices %v", n)
		}
	})
}

// TestWorkingTimeSLA: a working-time SLA counts on the tenant's working
// calendar, which admins set with pointer-level errors for bad values.
func TestWorkingTimeSLA(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		// Friday 2026-10-09 16:00 in Shanghai.
		a.Clock.Set(time.Date(2026, 10, 9, 8, 0, 0, 0, time.UTC))
		a.NewTenant(t, "acme")
		admin := a.Login(t, "acme", "admin@acme.test")
		res := a.GraphQL(t, admin, `mutation { updateTenantSettings(input: {workingCalendar: {timeZone: "Asia/Shanghai", weekdays: ["mon", "funday"], hours: [{start: "09:00", end: "18:00"}]}}) { id } }`, nil)
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" || len(res.Errors[0].Pointers()) == 0 ||
			res.Errors[0].Pointers()[0] != "/input/workingCalendar/weekdays/1" {
			t.Fatalf("a bad calendar: %s", res.Raw)
		}
		// Monday 2026-10-12 is a holiday here.
		a.GraphQL(t, admin, `mutation { updateTenantSettings(input: {workingCalendar: {timeZone: "Asia/Shanghai", weekdays: ["mon", "tue", "wed", "thu", "fri"], hours: [{start: "09:00", end: "18:00"}], holidays: ["2026-10-12"]}}) { id } }`, nil).MustSucceed(t)
		var settings struct {
			Tenant struct {
				Settings struct{ WorkingCalendar map[string]any }
			}
		}
		a.GraphQL(t, admin, `{ tenant { settings { workingCalendar } } }`, nil).MustSucceed(t).Decode(t, &settings)
		if h, _ := settings.Tenant.Settings.WorkingCalendar["holidays"].([]any); len(h) != 1 {
			t.Fatalf("calendar read back %v", settings.Tenant.Settings.WorkingCalendar)
		}
		doc := slaFlow("")
		sla := doc["sla"].([]any)[0].(map[string]any)
		sla["calendar"], sla["target"], sla["breach"] = "working", "4h", []any{}
		var wf struct {
			CreateWorkflow struct {
				ID            string
				LatestVersion struct{ ID string }
			}
		}
		a.GraphQL(t, admin, `mutation($d: Map!) { createWorkflow(input: {key: "work", module: ticket, nameZh: "工作时", nameEn: "Working", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": doc}).MustSucceed(t).Decode(t, &wf)
		a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": wf.CreateWorkflow.LatestVersion.ID}).MustSucceed(t)
		var c struct{ CreateTicket slaTicket }
		a.GraphQL(t, admin, `mutation($w: ID!) { createTicket(input: {title: "Printer", workflowID: $w}) { `+slaFields+` } }`,
			map[string]any{"w": wf.CreateWorkflow.ID}).MustSucceed(t).Decode(t, &c)
		// Two hours on Friday, the weekend and the Monday holiday skipped,
		// two more on Tuesday: Tuesday 11:00 in Shanghai.
		want := time.Date(2026, 10, 13, 3, 0, 0, 0, time.UTC)
		if got := c.CreateTicket.SLATimers[0].Deadline; got == nil || !got.Equal(want) {
			t.Fatalf("deadline %v, want %v", got, want)
		}
	})
}
