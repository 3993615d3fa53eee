package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/attachment"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// attachTo sends a GraphQL multipart request attaching content to the
// parents named in input (customerID, followUpID, ticketID, projectID).
func attachTo(t *testing.T, app *apptest.App, token string, input map[string]any, name string, content []byte) apptest.Result {
	t.Helper()
	in := map[string]any{"file": nil}
	for k, v := range input {
		in[k] = v
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($in: AttachFileInput!) { attachFile(input: $in) { id filename contentType size url customerID ticketID projectID } }`,
		"variables": map[string]any{"in": in},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.in.file"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := apptest.Result{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &res)
	return res
}

type attached struct {
	ID                         pulid.ID
	Filename, ContentType, URL string
	Size                       int
	CustomerID                 *pulid.ID
	TicketID                   *pulid.ID
	ProjectID                  *pulid.ID
}

// mustAttach attaches content and returns the new attachment.
func mustAttach(t *testing.T, app *apptest.App, token string, input map[string]any, name string, content []byte) attached {
	t.Helper()
	var out struct{ AttachFile attached }
	attachTo(t, app, token, input, name, content).MustSucceed(t).Decode(t, &out)
	return out.AttachFile
}

// workItemAttachments lists the attachments of a ticket or project through
// node(id) as the viewer of token.
func workItemAttachments(t *testing.T, app *apptest.App, token string, id pulid.ID) (ids []pulid.ID, total int, r apptest.Result) {
	t.Helper()
	r = app.GraphQL(t, token, `query($id: ID!) { node(id: $id) {
		... on Ticket { attachments(first: 10) { totalCount edges { node { id filename ticketID } } } }
		... on Project { attachments(first: 10) { totalCount edges { node { id filename projectID } } } } } }`,
		map[string]any{"id": id})
	if len(r.Errors) > 0 {
		return nil, 0, r
	}
	var out struct {
		Node *struct {
			Attachments struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID pulid.ID } }
			}
		}
	}
	r.Decode(t, &out)
	if out.Node == nil {
		return nil, 0, r
	}
	for _, e := range out.Node.Attachments.Edges {
		ids = append(ids, e.Node.ID)
	}
	return ids, out.Node.Attachments.TotalCount, r
}

func createWorkItem(t *testing.T, app *apptest.App, token, module string) pulid.ID {
	t.Helper()
	field := map[string]string{"ticket": "createTicket", "project": "createProject"}[module]
	var out map[string]struct{ ID pulid.ID }
	app.GraphQL(t, token, `mutation { `+field+`(input: {title: "Air conditioner"}) { id } }`, nil).MustSucceed(t).Decode(t, &out)
	return out[field].ID
}

func TestAttachmentsOnTicketsAndProjects(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		app := f.app
		if err := app.Background.EnsureDefaults(context.Background(), app.Client(), app.Logger(), app.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		// li and wang are sales people (scope self); clerk may read and update
		// every customer of the tenant but nothing of tickets and projects.
		app.NewUser(t, f.a, apptest.UserSpec{Email: "li@alpha.test", Roles: []*ent.Role{f.a.Role(tenancy.RoleSales)}})
		app.NewUser(t, f.a, apptest.UserSpec{Email: "wang@alpha.test", Roles: []*ent.Role{f.a.Role(tenancy.RoleSales)}})
		var clerkRole *ent.Role
		sys := app.System(f.a.Tenant.ID)
		app.Tx(t, sys, func(c *ent.Client) (err error) {
			clerkRole, err = c.Role.Create().SetName("customer clerk").
				SetPermissions([]string{viewer.PermCustomerRead, viewer.PermCustomerUpdate}).SetScope(viewer.ScopeAll).Save(sys)
			return err
		})
		app.NewUser(t, f.a, apptest.UserSpec{Email: "clerk@alpha.test", Roles: []*ent.Role{clerkRole}})
		li, wang := app.Login(t, "alpha", "li@alpha.test"), app.Login(t, "alpha", "wang@alpha.test")
		clerk := app.Login(t, "alpha", "clerk@alpha.test")

		var fu struct {
			CreateFollowUp struct{ ID pulid.ID } `json:"createFollowUp"`
		}
		app.GraphQL(t, f.tokA, `mutation($c: ID!) { createFollowUp(input: {customerID: $c, type: "call", content: "called"}) { id } }`,
			map[string]any{"c": f.customerA}).MustSucceed(t).Decode(t, &fu)
		ticketID := createWorkItem(t, app, li, "ticket")
		projectID := createWorkItem(t, app, li, "project")
		ticketContent := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("工单附件 ticket attachment "), 4000)...)
		projectContent := []byte("project plan, version 3\n")

		ta := mustAttach(t, app, li, map[string]any{"ticketID": ticketID}, "现场照片.pdf", ticketContent)
		if ta.TicketID == nil || *ta.TicketID != ticketID || ta.CustomerID != nil || ta.ProjectID != nil ||
			ta.Filename != "现场照片.pdf" || ta.ContentType != "application/pdf" || ta.Size != len(ticketContent) {
			t.Fatalf("ticket attachment %+v", ta)
		}
		pa := mustAttach(t, app, li, map[string]any{"projectID": projectID}, "plan.txt", projectContent)
		if pa.ProjectID == nil || *pa.ProjectID != projectID || pa.CustomerID != nil || pa.TicketID != nil || pa.ContentType != "text/plain" {
			t.Fatalf("project attachment %+v", pa)
		}

		t.Run("tickets and projects list their attachments", func(t *testing.T) {
			for _, c := range []struct {
				parent pulid.ID
				want   pulid.ID
			}{{ticketID, ta.ID}, {projectID, pa.ID}} {
				for _, token := range []string{li, f.tokA} {
					ids, total, r := workItemAttachments(t, app, token, c.parent)
					if total != 1 || !slices.Equal(ids, []pulid.ID{c.want}) {
						t.Fatalf("attachments of %s: %v (%d) %s", c.parent, ids, total, r.Raw)
					}
				}
			}
		})

		t.Run("lists of tickets and projects load their attachments", func(t *testing.T) {
			type edges []struct {
				Node struct {
					Attachments struct {
						TotalCount int
						Edges      []struct{ Node struct{ ID pulid.ID } }
					}
				}
			}
			var out struct {
				Tickets, Projects struct{ Edges edges }
			}
			q := `{ tickets(first: 10) { edges { node { attachments(first: 5) { totalCount edges { node { id } } } } } }
				projects(first: 10) { edges { node { attachments(first: 5) { totalCount edges { node { id } } } } } } }`
			app.GraphQL(t, li, q, nil).MustSucceed(t).Decode(t, &out)
			for _, c := range []struct {
				list edges
				want pulid.ID
			}{{out.Tickets.Edges, ta.ID}, {out.Projects.Edges, pa.ID}} {
				if len(c.list) != 1 || c.list[0].Node.Attachments.TotalCount != 1 || len(c.list[0].Node.Attachments.Edges) != 1 ||
					c.list[0].Node.Attachments.Edges[0].Node.ID != c.want {
					t.Fatalf("list with attachments: %+v", c.list)
				}
			}
		})

		t.Run("downloads return the content and are audited", func(t *testing.T) {
			for _, c := range []struct {
				a       attached
				content []byte
			}{{ta, ticketContent}, {pa, projectContent}} {
				status, got, _ := download(t, app, li, c.a.URL)
				if status != http.StatusOK || !bytes.Equal(got, c.content) {
					t.Fatalf("download %s: %d, %d bytes", c.a.ID, status, len(got))
				}
				for _, action := range []string{"create", "download"} {
					var n int
					err := app.Store.DB.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = $1 AND entity_type = 'Attachment' AND entity_id = $2`,
						action, string(c.a.ID)).Scan(&n)
					if err != nil || n != 1 {
						t.Fatalf("%s events of %s: %d %v", action, c.a.ID, n, err)
					}
				}
			}
		})

		t.Run("file names and content are encrypted at rest", func(t *testing.T) {
			raw := dump(t, app, dialect)
			for _, secret := range []string{"工单附件 ticket attachment", "现场照片", "project plan, version 3"} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Errorf("%q stored in plain text", secret)
				}
			}
		})

		t.Run("viewers outside the parent's scope get not found", func(t *testing.T) {
			for name, token := range map[string]string{"another sales user": wang, "a customer clerk": clerk, "another tenant": f.tokB} {
				for _, a := range []attached{ta, pa} {
					if status, _, _ := download(t, app, token, a.URL); status != http.StatusNotFound {
						t.Errorf("%s downloads %s: %d", name, a.ID, status)
					}
					r := app.GraphQL(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": a.ID})
					wantError(t, r, "NOT_FOUND")
					r = app.GraphQL(t, token, `mutation($id: ID!) { deleteAttachment(id: $id) }`, map[string]any{"id": a.ID})
					wantError(t, r, "NOT_FOUND")
				}
				if ids, _, _ := workItemAttachments(t, app, token, ticketID); len(ids) > 0 {
					t.Errorf("%s lists the ticket's attachments", name)
				}
			}
			// Attaching needs ticket:update (project:update) on a record in
			// the viewer's scope; another tenant's id is unknown.
			for name, token := range map[string]string{"another sales user": wang, "another tenant": f.tokB} {
				r := attachTo(t, app, token, map[string]any{"ticketID": ticketID}, "x.txt", []byte("x"))
				wantError(t, r, "BAD_USER_INPUT", "/input/ticketID")
				if r.Errors[0].Pointers()[0] != "/input/ticketID" || !bytes.Contains(r.Raw, []byte("unknown_reference")) {
					t.Fatalf("%s attaching to the ticket: %s", name, r.Raw)
				}
				r = attachTo(t, app, token, map[string]any{"projectID": projectID}, "x.txt", []byte("x"))
				wantError(t, r, "BAD_USER_INPUT", "/input/projectID")
			}
			// Without ticket:update at all, attaching to a ticket is forbidden.
			wantError(t, attachTo(t, app, clerk, map[string]any{"ticketID": ticketID}, "x.txt", []byte("x")), "FORBIDDEN")
		})

		t.Run("exactly one parent is named", func(t *testing.T) {
			for _, c := range []struct {
				input map[string]any
				want  []string
			}{
				{map[string]any{}, []string{"/input/customerID", "/input/ticketID", "/input/projectID"}},
				{map[string]any{"customerID": f.customerA, "ticketID": ticketID}, []string{"/input/ticketID"}},
				{map[string]any{"ticketID": ticketID, "projectID": projectID}, []string{"/input/projectID"}},
				{map[string]any{"followUpID": fu.CreateFollowUp.ID, "projectID": projectID}, []string{"/input/projectID"}},
			} {
				r := attachTo(t, app, f.tokA, c.input, "x.txt", []byte("x"))
				wantError(t, r, "BAD_USER_INPUT", c.want...)
				if got := r.Errors[0].Pointers(); len(got) != len(c.want) {
					t.Errorf("input %v: pointers %v, want %v", c.input, got, c.want)
				}
			}
			// The hook keeps the invariant on every write path, the system
			// context included.
			for name, set := range map[string]func(*ent.AttachmentCreate){
				"none":     func(*ent.AttachmentCreate) {},
				"two":      func(c *ent.AttachmentCreate) { c.SetCustomerID(f.customerA).SetTicketID(ticketID) },
				"followUp": func(c *ent.AttachmentCreate) { c.SetFollowUpID(fu.CreateFollowUp.ID) },
			} {
				err := app.TryTx(sys, func(c *ent.Client) error {
					create := c.Attachment.Create().SetFilename(secret.Plain("x.txt")).SetContentType("text/plain").
						SetSize(1).SetStorage(attachment.StorageDatabase)
					set(create)
					_, err := create.Save(sys)
					return err
				})
				if e := apierr.As(err); e == nil || e.Code != apierr.BadUserInput || e.Fields[0].MessageKey != "one_parent" {
					t.Errorf("system create with %s parents: %v", name, err)
				}
			}
		})

		t.Run("customer attachments still work", func(t *testing.T) {
			content := []byte("%PDF-1.4\ncontract\n")
			ca := mustAttach(t, app, f.tokA, map[string]any{"customerID": f.customerA}, "contract.pdf", content)
			if ca.CustomerID == nil || *ca.CustomerID != f.customerA || ca.TicketID != nil {
				t.Fatalf("customer attachment %+v", ca)
			}
			// A follow-up's attachment belongs to its customer too.
			fa := mustAttach(t, app, f.tokA, map[string]any{"followUpID": fu.CreateFollowUp.ID}, "minutes.txt", []byte("minutes"))
			if fa.CustomerID == nil || *fa.CustomerID != f.customerA {
				t.Fatalf("follow-up attachment %+v", fa)
			}
			var out struct {
				Node struct{ Attachments []struct{ ID pulid.ID } }
			}
			app.GraphQL(t, clerk, `query($id: ID!) { node(id: $id) { ... on Customer { attachments { id } } } }`,
				map[string]any{"id": f.customerA}).MustSucceed(t).Decode(t, &out)
			var got []pulid.ID
			for _, a := range out.Node.Attachments {
				got = append(got, a.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, []pulid.ID{ca.ID, fa.ID}) { // ULIDs: in creation order
				t.Fatalf("customer attachments seen by the clerk: %+v", out.Node.Attachments)
			}
			// The clerk reaches customer files, not ticket files.
			if status, got, _ := download(t, app, clerk, ca.URL); status != http.StatusOK || !bytes.Equal(got, content) {
				t.Fatalf("clerk downloads the customer's file: %d", status)
			}
			if status, _, _ := download(t, app, li, ca.URL); status != http.StatusNotFound {
				t.Fatalf("a sales user downloads another's customer file: %d", status)
			}
		})

		t.Run("whoever may update the parent deletes its attachments", func(t *testing.T) {
			app.GraphQL(t, li, `mutation($id: ID!) { deleteAttachment(id: $id) }`, map[string]any{"id": ta.ID}).MustSucceed(t)
			if ids, total, r := workItemAttachments(t, app, li, ticketID); total != 0 || len(ids) != 0 {
				t.Fatalf("the deleted attachment is still listed: %s", r.Raw)
			}
			if status, _, _ := download(t, app, li, ta.URL); status != http.StatusNotFound {
				t.Fatalf("download of a deleted attachment: %d", status)
			}
			var n int
			if err := app.Store.DB.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = 'delete' AND entity_id = $1`, string(ta.ID)).Scan(&n); err != nil || n != 1 {
				t.Fatalf("delete events: %d %v", n, err)
			}
			if ids, _, _ := workItemAttachments(t, app, li, projectID); len(ids) != 1 {
				t.Fatalf("the project's attachment went too")
			}
		})
	})
}
