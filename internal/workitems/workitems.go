// Package workitems owns tickets and projects: records of a tenant's form
// and workflow. It creates them on the published version of a workflow
// (which they pin), lists what the viewer may do next, and moves them
// through transitions: guards and checks from package flows, the state
// change, the revision that makes concurrent transitions conflict, and the
// append-only history, all in the caller's transaction. Approvals, SLA
// timers and transition actions come next.
package workitems

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/project"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/schema"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/ticket"
	"github.com/custos-crm/custos/ent/transitionevent"
	"github.com/custos-crm/custos/ent/workflowdefinition"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/forms/expr"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/workflows"
)

// Modules.
const (
	Ticket  = "ticket"
	Project = "project"
)

// Service runs tickets and projects.
type Service struct {
	workflows *workflows.Service
	clock     clock.Clock
}

// New returns the service.
func New(w *workflows.Service, clk clock.Clock) *Service {
	return &Service{workflows: w, clock: clk}
}

// Item is a ticket or a project as the engine sees it.
type Item struct {
	ID, TenantID, VersionID pulid.ID
	Table                   string
	State                   string
	Revision                int
	Assignee                pulid.ID
	DataKey                 []byte
	Fields                  map[string]any
}

// NewItem is a ticket or project to create.
type NewItem struct {
	Title        string
	CustomFields map[string]any
	AssigneeID   *pulid.ID
	CustomerID   *pulid.ID
	DueOn        *caldate.Date
	// WorkflowID picks the workflow; default: the module's built-in one
	// (<module>_default).
	WorkflowID *pulid.ID
}

// CreateTicket creates a ticket in the initial state of its workflow.
func (s *Service) CreateTicket(ctx context.Context, client *ent.Client, in NewItem) (*ent.Ticket, error) {
	ver, w, err := s.workflowFor(ctx, client, Ticket, in.WorkflowID)
	if err != nil {
		return nil, err
	}
	t, err := client.Ticket.Create().SetTitle(in.Title).SetState(w.Initial()).SetWorkflowVersionID(ver.ID).
		SetCustomFields(orEmpty(in.CustomFields)).SetNillableAssigneeID(in.AssigneeID).SetNillableCustomerID(in.CustomerID).
		SetNillableDueOn(in.DueOn).Save(ctx)
	if err != nil {
		return nil, err
	}
	return t, s.record(ctx, client, t.ID, "", w.Initial(), "create", "", nil)
}

// CreateProject creates a project in the initial state of its workflow.
func (s *Service) CreateProject(ctx context.Context, client *ent.Client, in NewItem) (*ent.Project, error) {
	ver, w, err := s.workflowFor(ctx, client, Project, in.WorkflowID)
	if err != nil {
		return nil, err
	}
	p, err := client.Project.Create().SetTitle(in.Title).SetState(w.Initial()).SetWorkflowVersionID(ver.ID).
		SetCustomFields(orEmpty(in.CustomFields)).SetNillableAssigneeID(in.AssigneeID).SetNillableCustomerID(in.CustomerID).
		SetNillableDueOn(in.DueOn).Save(ctx)
	if err != nil {
		return nil, err
	}
	return p, s.record(ctx, client, p.ID, "", w.Initial(), "create", "", nil)
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// workflowFor returns the published version of the chosen workflow of a
// module, parsed.
func (s *Service) workflowFor(ctx context.Context, client *ent.Client, module string, id *pulid.ID) (*ent.WorkflowVersion, *flows.Workflow, error) {
	q := client.WorkflowDefinition.Query().Where(workflowdefinition.ModuleEQ(workflowdefinition.Module(module)))
	if id != nil {
		q = q.Where(workflowdefinition.ID(*id))
	} else {
		q = q.Where(workflowdefinition.Key(module + "_default"))
	}
	d, err := q.Only(ctx)
	if err != nil {
		return nil, nil, apierr.BadInput(apierr.Field("/input/workflowID", "unknown_reference"))
	}
	ver, err := workflows.Published(ctx, client, d.ID)
	if err != nil {
		return nil, nil, apierr.BadInput(apierr.Field("/input/workflowID", "form_not_published"))
	}
	w, err := s.parse(ctx, client, ver)
	return ver, w, err
}

// parse returns the parsed workflow of a version.
func (s *Service) parse(ctx context.Context, client *ent.Client, ver *ent.WorkflowVersion) (*flows.Workflow, error) {
	return s.workflows.Version(ctx, client, ver)
}

// load reads a ticket or project under the viewer's scope.
func (s *Service) load(ctx context.Context, client *ent.Client, module string, id pulid.ID) (*Item, error) {
	switch module {
	case Ticket:
		t, err := client.Ticket.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return &Item{ID: t.ID, TenantID: t.TenantID, VersionID: t.WorkflowVersionID, Table: "Ticket", State: t.State,
			Revision: t.Revision, Assignee: t.AssigneeID, DataKey: t.DataKey, Fields: t.CustomFields}, nil
	case Project:
		p, err := client.Project.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return &Item{ID: p.ID, TenantID: p.TenantID, VersionID: p.WorkflowVersionID, Table: "Project", State: p.State,
			Revision: p.Revision, Assignee: p.AssigneeID, DataKey: p.DataKey, Fields: p.CustomFields}, nil
	}
	return nil, fmt.Errorf("workitems: unknown module %q", module)
}

// evalContext returns the record as guards see it and the viewer.
func (s *Service) evalContext(ctx context.Context, client *ent.Client, it *Item) (flows.Record, expr.Viewer, error) {
	ref := vault.Ref{TenantID: string(it.TenantID), Table: it.Table, RowID: string(it.ID)}
	data, err := schema.OpenCustomFields(ctx, client.Vault, ref, it.DataKey, it.Fields)
	if err != nil {
		return flows.Record{}, expr.Viewer{}, err
	}
	ev, err := ExprViewer(ctx, client)
	return flows.Record{Data: data, Assignee: string(it.Assignee)}, ev, err
}

// ExprViewer is the viewer as workflow expressions see it: what form
// expressions see, plus the keys of the built-in roles (and ids of other
// roles) it holds.
func ExprViewer(ctx context.Context, client *ent.Client) (expr.Viewer, error) {
	out := formdefs.ExprViewer(ctx)
	v := viewer.FromContext(ctx)
	if v == nil || len(v.Grants) == 0 {
		return out, nil
	}
	ids := make([]pulid.ID, 0, len(v.Grants))
	for _, g := range v.Grants {
		ids = append(ids, g.RoleID)
	}
	roles, err := client.Role.Query().Where(role.IDIn(ids...)).All(ctx)
	if err != nil {
		return out, err
	}
	for _, r := range roles {
		if r.Builtin != "" {
			out.Roles = append(out.Roles, r.Builtin)
		}
		out.Roles = append(out.Roles, string(r.ID))
	}
	return out, nil
}

// Available lists the transitions the viewer may take on a record now.
func (s *Service) Available(ctx context.Context, client *ent.Client, module string, id pulid.ID) ([]flows.Option, error) {
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return nil, err
	}
	ver, err := client.WorkflowVersion.Get(ctx, it.VersionID)
	if err != nil {
		return nil, err
	}
	w, err := s.parse(ctx, client, ver)
	if err != nil {
		return nil, err
	}
	rec, ev, err := s.evalContext(ctx, client, it)
	if err != nil {
		return nil, err
	}
	return w.Available(ctx, it.State, rec, ev, s.clock.Now())
}

// Move is a transition to take.
type Move struct {
	Transition string
	Input      map[string]any
	Comment    *string
	// Revision, when given, is the revision the client saw: if the record
	// changed since, the transition is refused with CONFLICT.
	Revision *int
}

// Transition moves a record through a transition in the caller's
// transaction: it checks the guards and validators, changes the state,
// bumps the revision (a concurrent transition that read the same revision
// fails with CONFLICT) and appends to the history. It returns the new
// state.
func (s *Service) Transition(ctx context.Context, client *ent.Client, module string, id pulid.ID, mv Move) (string, error) {
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return "", err
	}
	if mv.Revision != nil && *mv.Revision != it.Revision {
		return "", apierr.New(apierr.Conflict)
	}
	ver, err := client.WorkflowVersion.Get(ctx, it.VersionID)
	if err != nil {
		return "", err
	}
	w, err := s.parse(ctx, client, ver)
	if err != nil {
		return "", err
	}
	rec, ev, err := s.evalContext(ctx, client, it)
	if err != nil {
		return "", err
	}
	d, err := w.Check(ctx, mv.Transition, it.State, rec, ev, mv.Input, s.clock.Now())
	if errors.Is(err, flows.ErrUnknownTransition) {
		return "", apierr.BadInput(apierr.Field("/transition", "invalid"))
	}
	if err != nil {
		return "", err
	}
	if !d.Allowed {
		return "", refusal(d.Reasons)
	}
	var n int
	switch module {
	case Ticket:
		n, err = client.Ticket.Update().Where(ticket.ID(id), ticket.Revision(it.Revision)).
			SetState(d.To).AddRevision(1).Save(ctx)
	case Project:
		n, err = client.Project.Update().Where(project.ID(id), project.Revision(it.Revision)).
			SetState(d.To).AddRevision(1).Save(ctx)
	}
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", apierr.New(apierr.Conflict)
	}
	comment := ""
	if mv.Comment != nil {
		comment = *mv.Comment
	}
	var changes []string
	for k := range mv.Input {
		changes = append(changes, k)
	}
	return d.To, s.record(ctx, client, id, it.State, d.To, mv.Transition, comment, changes)
}

// refusal turns the reasons a transition was refused into the client's
// error: each reason an item with its pointer and messages.
func refusal(reasons []flows.Reason) error {
	var fields []apierr.FieldError
	for _, r := range reasons {
		// Input problems point into the input, data problems into the
		// record's custom fields, the rest at the transition.
		pointer := "/transition"
		switch r.Key {
		case flows.ReasonForm:
			pointer = "/input" + r.Field
		case flows.ReasonRequires, flows.ReasonSchema:
			pointer = "/customFields" + r.Field
		}
		f := apierr.Field(pointer, r.Key)
		f.Messages = r.Message
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		fields = append(fields, apierr.Field("/transition", "invalid"))
	}
	return apierr.BadInput(fields...)
}

// record appends an entry to a record's history.
func (s *Service) record(ctx context.Context, client *ent.Client, id pulid.ID, from, to, transition, comment string, changes []string) error {
	c := client.TransitionEvent.Create().SetRecordID(id).SetToState(to).SetTransition(transition).SetChanges(changes)
	if from != "" {
		c.SetFromState(from)
	}
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
		c.SetActorID(v.UserID)
	}
	if comment != "" {
		c.SetComment(secret.Plain(comment))
	}
	return c.Exec(rule.NewHistoryWriteContext(ctx))
}

// History returns a record's history, oldest first. The record is loaded
// under the viewer's scope first; the entries are then read in the
// tenant's system context.
func (s *Service) History(ctx context.Context, client *ent.Client, module string, id pulid.ID) ([]*ent.TransitionEvent, error) {
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return nil, err
	}
	sys := viewer.NewSystemContext(ctx, it.TenantID, "read history of "+string(id), s.clock.Now())
	return client.TransitionEvent.Query().
		Where(transitionevent.TenantID(it.TenantID), transitionevent.RecordID(id)).
		Order(ent.Asc(transitionevent.FieldCreatedAt), ent.Asc(transitionevent.FieldID)).All(sys)
}
