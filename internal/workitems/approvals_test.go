package workitems_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// approvalFlow is a project workflow with one submit transition per
// approval mode; every step approves to "approved" and rejects to "draft".
// The approvers' ids are filled in by the test.
func approvalFlow(m1, m2, m3, submitter string) map[string]any {
	users := func(ids ...string) map[string]any {
		return map[string]any{"type": "approver.users", "config": map[string]any{"userIDs": ids}}
	}
	step := func(key, mode string, approvers map[string]any, extra map[string]any) map[string]any {
		s := map[string]any{"key": key, "mode": mode, "approvers": approvers, "onApprove": "approved", "onReject": "draft"}
		for k, v := range extra {
			s[k] = v
		}
		return s
	}
	var transitions []any
	for _, k := range []string{"all", "any", "ratio", "seq", "self", "empty", "chosen"} {
		transitions = append(transitions, map[string]any{"key": "submit_" + k, "from": []string{"draft"}, "to": "pending", "approval": k})
	}
	transitions = append(transitions, map[string]any{"key": "recall", "from": []string{"pending"}, "to": "draft"})
	return map[string]any{
		"initial": "draft",
		"states": []any{
			map[string]any{"key": "draft", "category": "todo"},
			map[string]any{"key": "pending", "category": "in_progress"},
			map[string]any{"key": "approved", "category": "done", "final": true},
		},
		"transitions": transitions,
		"approvals": []any{
			step("all", "all", users(m1, m2), nil),
			step("any", "any", users(m1, m2), nil),
			step("ratio", "ratio", users(m1, m2, m3), map[string]any{"ratio": 0.6}),
			step("seq", "sequential", users(m1, m2), nil),
			step("self", "all", users(submitter, m1), nil),
			step("empty", "any", map[string]any{"type": "approver.role", "config": map[string]any{"role": "nobody"}}, nil),
			step("chosen", "all", map[string]any{"type": "approver.chosen", "config": map[string]any{}}, nil),
		},
	}
}

type project struct {
	ID, State string
	History   []struct{ Transition, FromState, ToState string }
	Approvals []struct {
		Approval, Outcome string
		Approvers         []string
		Fallback          bool
	}
}

const projectFields = `id state history { transition fromState toState } approvals { approval outcome approvers fallback }`

func TestApprovals(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		sales, manager := tn.Role("sales"), tn.Role("manager")
		sub := a.NewUser(t, tn, apptest.UserSpec{Email: "sub@acme.test", Roles: []*ent.Role{sales}})
		m1 := a.NewUser(t, tn, apptest.UserSpec{Email: "m1@acme.test", Roles: []*ent.Role{manager}})
		m2 := a.NewUser(t, tn, apptest.UserSpec{Email: "m2@acme.test", Roles: []*ent.Role{manager}})
		m3 := a.NewUser(t, tn, apptest.UserSpec{Email: "m3@acme.test", Roles: []*ent.Role{manager}})
		d := a.NewUser(t, tn, apptest.UserSpec{Email: "d@acme.test", Roles: []*ent.Role{manager}})
		admin := a.Login(t, "acme", "admin@acme.test")
		tok := map[string]string{}
		for _, e := range []string{"sub", "m1", "m2", "m3", "d"} {
			tok[e] = a.Login(t, "acme", e+"@acme.test")
		}
		doc := approvalFlow(string(m1.ID), string(m2.ID), string(m3.ID), string(sub.ID))
		workflowID := publishProjectFlow(t, a, admin, doc)

		submit := func(mode string, chosen ...string) project {
			t.Helper()
			var c struct{ CreateProject project }
			a.GraphQL(t, tok["sub"], `mutation($w: ID!) { createProject(input: {title: "Booth", workflowID: $w}) { id } }`,
				map[string]any{"w": workflowID}).MustSucceed(t).Decode(t, &c)
			var out struct{ TransitionProject project }
			a.GraphQL(t, tok["sub"], `mutation($id: ID!, $t: String!, $ap: [ID!]) { transitionProject(id: $id, transition: $t, approvers: $ap) { `+projectFields+` } }`,
				map[string]any{"id": c.CreateProject.ID, "t": "submit_" + mode, "ap": chosen}).MustSucceed(t).Decode(t, &out)
			if out.TransitionProject.State != "pending" || len(out.TransitionProject.Approvals) != 1 {
				t.Fatalf("submit %s: %+v", mode, out.TransitionProject)
			}
			return out.TransitionProject
		}
		// decide returns the project's state, or the error code.
		decide := func(who, verb string, p project, extra string) (string, string) {
			t.Helper()
			var out map[string]project
			res := a.GraphQL(t, tok[who], `mutation($id: ID!) { r: `+verb+`Project(id: $id`+extra+`) { `+projectFields+` } }`, map[string]any{"id": p.ID})
			if len(res.Errors) > 0 {
				return "", res.Errors[0].Code() + ":" + res.Errors[0].Message
			}
			res.Decode(t, &out)
			return out["r"].State, ""
		}
		tasks := func(who string) []string {
			t.Helper()
			var out struct {
				MyApprovalTasks []struct{ RecordID, Approval, Status string }
			}
			a.GraphQL(t, tok[who], `{ myApprovalTasks { recordID approval status } }`, nil).MustSucceed(t).Decode(t, &out)
			var ids []string
			for _, x := range out.MyApprovalTasks {
				ids = append(ids, x.RecordID+"/"+x.Approval)
			}
			return ids
		}
		must := func(state, code, want string) {
			t.Helper()
			if code != "" || state != want {
				t.Fatalf("state %q (error %q), want %q", state, code, want)
			}
		}
		refused := func(state, code, wantPrefix string) {
			t.Helper()
			if len(code) < len(wantPrefix) || code[:len(wantPrefix)] != wantPrefix {
				t.Fatalf("state %q error %q, want %s", state, code, wantPrefix)
			}
		}

		// 会签 (all): both must approve.
		p := submit("all")
		if got := tasks("m1"); !slices.Contains(got, p.ID+"/all") {
			t.Fatalf("m1's tasks %v lack %s", got, p.ID)
		}
		s, code := decide("m1", "approve", p, "")
		must(s, code, "pending")
		s, code = decide("m1", "approve", p, "")
		refused(s, code, "FORBIDDEN")
		s, code = decide("m3", "approve", p, "") // not an approver
		refused(s, code, "FORBIDDEN")
		s, code = decide("m2", "approve", p, `, comment: "ok"`)
		must(s, code, "approved")
		if got := tasks("m1"); slices.Contains(got, p.ID+"/all") {
			t.Fatalf("a decided task is still open: %v", got)
		}

		// 或签 (any): one approval is enough.
		p = submit("any")
		s, code = decide("m2", "approve", p, "")
		must(s, code, "approved")
		if got := tasks("m1"); slices.Contains(got, p.ID+"/any") {
			t.Fatalf("m1 still has a task after m2 decided 或签: %v", got)
		}

		// Ratio 0.6 of three: two approvals.
		p = submit("ratio")
		s, code = decide("m1", "approve", p, "")
		must(s, code, "pending")
		s, code = decide("m2", "reject", p, "")
		must(s, code, "pending")
		s, code = decide("m3", "approve", p, "")
		must(s, code, "approved")
		// And a ratio that can no longer be reached rejects.
		p = submit("ratio")
		decide("m1", "reject", p, "")
		s, code = decide("m2", "reject", p, "")
		must(s, code, "draft")

		// Sequential: m2 waits for m1; m1's rejection sends it back.
		p = submit("seq")
		if got := tasks("m2"); slices.Contains(got, p.ID+"/seq") {
			t.Fatalf("m2's turn came before m1 decided: %v", got)
		}
		s, code = decide("m2", "approve", p, "")
		refused(s, code, "FORBIDDEN")
		s, code = decide("m1", "approve", p, "")
		must(s, code, "pending")
		if got := tasks("m2"); !slices.Contains(got, p.ID+"/seq") {
			t.Fatalf("m2's turn did not come: %v", got)
		}
		s, code = decide("m2", "reject", p, `, comment: "budget"`)
		must(s, code, "draft")
		var hist struct{ Project project }
		a.GraphQL(t, tok["sub"], `query($id: ID!) { project: node(id: $id) { ... on Project { `+projectFields+` } } }`, map[string]any{"id": p.ID}).MustSucceed(t).Decode(t, &hist)
		var steps []string
		for _, h := range hist.Project.History {
			steps = append(steps, h.Transition+":"+h.FromState+">"+h.ToState)
		}
		want := []string{"create:>draft", "submit_seq:draft>pending", "approval.approve:pending>pending", "approval.reject:pending>pending", "approval.rejected:pending>draft"}
		if !slices.Equal(steps, want) {
			t.Fatalf("history %v, want %v", steps, want)
		}

		// Delegation: m1 hands over to d, who decides instead.
		p = submit("all")
		s, code = decide("m1", "delegate", p, `, to: "`+string(d.ID)+`"`)
		must(s, code, "pending")
		s, code = decide("m1", "approve", p, "")
		refused(s, code, "FORBIDDEN")
		decide("m2", "approve", p, "")
		s, code = decide("d", "approve", p, "")
		must(s, code, "approved")
		// Delegating to someone already an approver is refused.
		p = submit("all")
		s, code = decide("m1", "delegate", p, `, to: "`+string(m2.ID)+`"`)
		refused(s, code, "BAD_USER_INPUT")

		// Self-approval skipped: the submitter is no approver of their own request.
		p = submit("self")
		if got := p.Approvals[0].Approvers; len(got) != 1 || got[0] != string(m1.ID) {
			t.Fatalf("self step approvers %v, want only m1", got)
		}
		s, code = decide("sub", "approve", p, "")
		refused(s, code, "FORBIDDEN")
		s, code = decide("m1", "approve", p, "")
		must(s, code, "approved")

		// An empty approver set falls back to the admins, and the history says so.
		p = submit("empty")
		if ap := p.Approvals[0]; !ap.Fallback || len(ap.Approvers) != 1 || ap.Approvers[0] != string(tn.Admin.ID) {
			t.Fatalf("fallback %+v, want the admin", ap)
		}
		if h := p.History[len(p.History)-1]; h.Transition != "approval.fallback" {
			t.Fatalf("history %+v lacks the fallback", p.History)
		}
		if s, code = decide("m1", "approve", p, ""); code == "" {
			t.Fatal("a non-approver decided a fallback step")
		}
		var out struct{ ApproveProject project }
		a.GraphQL(t, admin, `mutation($id: ID!) { approveProject(id: $id) { state } }`, map[string]any{"id": p.ID}).MustSucceed(t).Decode(t, &out)
		if out.ApproveProject.State != "approved" {
			t.Fatalf("admin approval: %+v", out)
		}

		// Chosen approvers.
		p = submit("chosen", string(m3.ID))
		if got := p.Approvals[0].Approvers; len(got) != 1 || got[0] != string(m3.ID) {
			t.Fatalf("chosen approvers %v", got)
		}
		s, code = decide("m3", "approve", p, "")
		must(s, code, "approved")

		// Two approvers deciding at once: no vote is lost. A decision that
		// read the votes before the other committed gets CONFLICT and is
		// tried again.
		p = submit("all")
		var wg sync.WaitGroup
		codes := make([]string, 2)
		for i, who := range []string{"m1", "m2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, codes[i] = decide(who, "approve", p, "")
			}()
		}
		wg.Wait()
		for i, who := range []string{"m1", "m2"} {
			if strings.HasPrefix(codes[i], "CONFLICT") {
				_, codes[i] = decide(who, "approve", p, "")
			}
			if codes[i] != "" {
				t.Fatalf("%s's concurrent approval: %s", who, codes[i])
			}
		}
		var final struct{ Project project }
		a.GraphQL(t, tok["sub"], `query($id: ID!) { project: node(id: $id) { ... on Project { `+projectFields+` } } }`, map[string]any{"id": p.ID}).MustSucceed(t).Decode(t, &final)
		if final.Project.State != "approved" || final.Project.Approvals[0].Outcome != "approved" {
			t.Fatalf("after two concurrent approvals: %+v", final.Project)
		}

		// Recalling a request before it is decided withdraws it: the tasks
		// close and nobody can decide any more.
		p = submit("any")
		var recalled struct{ TransitionProject project }
		a.GraphQL(t, tok["sub"], `mutation($id: ID!) { transitionProject(id: $id, transition: "recall") { `+projectFields+` } }`,
			map[string]any{"id": p.ID}).MustSucceed(t).Decode(t, &recalled)
		if r := recalled.TransitionProject; r.State != "draft" || r.Approvals[0].Outcome != "withdrawn" ||
			r.History[len(r.History)-2].Transition != "approval.withdrawn" {
			t.Fatalf("after the recall %+v", r)
		}
		if got := tasks("m1"); slices.Contains(got, p.ID+"/any") {
			t.Fatalf("a withdrawn request left an open task: %v", got)
		}
		s, code = decide("m1", "approve", p, "")
		refused(s, code, "BAD_USER_INPUT")

		// Approval notices reached the approvers' inboxes.
		var inbox struct {
			MyNotifications struct {
				Edges []struct{ Node struct{ Kind string } }
			}
		}
		a.GraphQL(t, tok["m3"], `{ myNotifications(first: 50) { edges { node { kind } } } }`, nil).MustSucceed(t).Decode(t, &inbox)
		n := 0
		for _, e := range inbox.MyNotifications.Edges {
			if e.Node.Kind == "approval.requested" {
				n++
			}
		}
		if n != 3 { // ratio twice, chosen once
			raw, _ := json.Marshal(inbox)
			t.Fatalf("m3 got %d approval notices, want 3: %s", n, raw)
		}
	})
}

// TestApproverReadsTheRecord checks that an approval task lets its approver
// read the record outside their data scope, and nothing else: not other
// records, not after they delegated the task, not for writing.
func TestApproverReadsTheRecord(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		sales := tn.Role("sales") // scope self: sees only their own projects
		sub := a.NewUser(t, tn, apptest.UserSpec{Email: "sub@acme.test", Roles: []*ent.Role{sales}})
		s1 := a.NewUser(t, tn, apptest.UserSpec{Email: "s1@acme.test", Roles: []*ent.Role{sales}})
		s2 := a.NewUser(t, tn, apptest.UserSpec{Email: "s2@acme.test", Roles: []*ent.Role{sales}})
		noRole := a.NewUser(t, tn, apptest.UserSpec{Email: "plain@acme.test"})
		a.NewUser(t, tn, apptest.UserSpec{Email: "other@acme.test", Roles: []*ent.Role{sales}})
		admin := a.Login(t, "acme", "admin@acme.test")
		tok := map[string]string{}
		for _, e := range []string{"sub", "s1", "s2", "plain", "other"} {
			tok[e] = a.Login(t, "acme", e+"@acme.test")
		}
		// s1 and the user without any role approve (会签); s2 is not asked.
		doc := approvalFlow(string(s1.ID), string(noRole.ID), string(s2.ID), string(sub.ID))
		workflowID := publishProjectFlow(t, a, admin, doc)
		newProject := func() string {
			t.Helper()
			var c struct{ CreateProject struct{ ID string } }
			a.GraphQL(t, tok["sub"], `mutation($w: ID!) { createProject(input: {title: "Booth", workflowID: $w}) { id } }`,
				map[string]any{"w": workflowID}).MustSucceed(t).Decode(t, &c)
			return c.CreateProject.ID
		}
		submitted, untouched := newProject(), newProject()
		attachment := attachText(t, a, tok["sub"], submitted, "budget.txt", "stand 12, 3 days")
		reads := func(who, id string) bool {
			t.Helper()
			var out struct{ Project *project }
			res := a.GraphQL(t, tok[who], `query($id: ID!) { project: node(id: $id) { ... on Project { `+projectFields+` } } }`,
				map[string]any{"id": id})
			if len(res.Errors) == 1 && (res.Errors[0].Code() == "NOT_FOUND" || res.Errors[0].Code() == "FORBIDDEN") {
				return false
			}
			res.MustSucceed(t).Decode(t, &out)
			if out.Project != nil && len(out.Project.History) == 0 {
				t.Fatalf("%s reads %s without its history: %+v", who, id, out.Project)
			}
			return out.Project != nil
		}
		for _, who := range []string{"s1", "plain", "s2"} {
			if reads(who, submitted) {
				t.Fatalf("%s reads a project before any task", who)
			}
		}
		a.GraphQL(t, tok["sub"], `mutation($id: ID!) { transitionProject(id: $id, transition: "submit_all") { state } }`,
			map[string]any{"id": submitted}).MustSucceed(t)

		for _, who := range []string{"s1", "plain"} {
			if !reads(who, submitted) {
				t.Errorf("approver %s cannot read the project of their task", who)
			}
			var files struct {
				Project struct {
					Attachments struct {
						Edges []struct{ Node struct{ ID string } }
					}
				}
			}
			a.GraphQL(t, tok[who], `query($id: ID!) { project: node(id: $id) { ... on Project { attachments { edges { node { id } } } } } }`,
				map[string]any{"id": submitted}).MustSucceed(t).Decode(t, &files)
			if e := files.Project.Attachments.Edges; len(e) != 1 || e[0].Node.ID != attachment {
				t.Errorf("approver %s sees attachments %+v, want %s", who, e, attachment)
			}
			if status := download(t, a, tok[who], attachment); status != http.StatusOK {
				t.Errorf("approver %s downloads the attachment: %d", who, status)
			}
			if reads(who, untouched) {
				t.Errorf("approver %s reads another project of the submitter", who)
			}
		}
		if reads("s2", submitted) || reads("other", submitted) {
			t.Error("a user without a task reads the project")
		}
		if status := download(t, a, tok["other"], attachment); status != http.StatusNotFound {
			t.Errorf("a user without a task downloads the attachment: %d", status)
		}
		var list struct {
			Projects struct{ TotalCount int }
		}
		a.GraphQL(t, tok["plain"], `{ projects { totalCount } }`, nil).MustSucceed(t).Decode(t, &list)
		if list.Projects.TotalCount != 1 {
			t.Errorf("the approver without a role lists %d projects, want the 1 of their task", list.Projects.TotalCount)
		}
		// Reading is all a task grants.
		res := a.GraphQL(t, tok["plain"], `mutation($id: ID!) { updateProject(id: $id, input: {title: "Mine"}) { id } }`, map[string]any{"id": submitted})
		if len(res.Errors) == 0 {
			t.Fatalf("an approver updated the project: %s", res.Data)
		}
		// A delegated task no longer grants; the delegate now reads it.
		a.GraphQL(t, tok["s1"], `mutation($id: ID!, $to: ID!) { delegateProject(id: $id, to: $to) { id } }`,
			map[string]any{"id": submitted, "to": string(s2.ID)}).MustSucceed(t)
		if reads("s1", submitted) {
			t.Error("s1 still reads the project after delegating the task")
		}
		if !reads("s2", submitted) {
			t.Error("the delegate cannot read the project")
		}
	})
}

// attachText attaches a text file to a project through a GraphQL multipart
// request and returns the attachment's id.
func attachText(t *testing.T, a *apptest.App, token, projectID, name, content string) string {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: AttachFileInput!) { attachFile(input: $in) { id } }`,
		"variables": map[string]any{"in": map[string]any{"projectID": projectID, "file": nil}},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.in.file"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.Server.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct{ AttachFile struct{ ID string } }
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil || out.Data.AttachFile.ID == "" {
		t.Fatalf("attachFile: %d %s", resp.StatusCode, raw)
	}
	return out.Data.AttachFile.ID
}

// download fetches an attachment as token and returns the status.
func download(t *testing.T, a *apptest.App, token, id string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.Server.URL+"/files/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := a.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// publishProjectFlow creates the project workflow "approvals" from doc as
// the admin, publishes it and returns its id.
func publishProjectFlow(t *testing.T, a *apptest.App, admin string, doc map[string]any) string {
	t.Helper()
	var wf struct {
		CreateWorkflow struct {
			ID            string
			LatestVersion struct{ ID string }
		}
	}
	a.GraphQL(t, admin, `mutation($d: Map!) { createWorkflow(input: {key: "approvals", module: project, nameZh: "审批", nameEn: "Approvals", document: $d}) { id latestVersion { id } } }`,
		map[string]any{"d": doc}).MustSucceed(t).Decode(t, &wf)
	a.GraphQL(t, admin, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`, map[string]any{"id": wf.CreateWorkflow.LatestVersion.ID}).MustSucceed(t)
	return wf.CreateWorkflow.ID
}
