// Package workitems owns tickets and projects: records of a tenant's form
// and workflow. It creates them on the published version of a workflow
// (which they pin), lists what the viewer may do next, and moves them
// through transitions: guards and checks from package flows, the state
// change, the revision that makes concurrent transitions conflict, the
// append-only history, the transition's actions, approval requests and SLA
// timers, all in the caller's transaction. Whatever leaves the server
// (notices, e-mails, webhooks) goes through the outbox, so a transition
// that rolls back sends nothing.
package workitems

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/forms/expr"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/outbox"
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
	registry  *forms.Registry
	clock     clock.Clock
	queue     *jobs.Queue
	notify    *notify.Service
	outbox    *outbox.Service
	client    *ent.Client
}

// Config wires the Service.
type Config struct {
	Workflows *workflows.Service
	// Registry holds the action and approver resolver plugins.
	Registry *forms.Registry
	Clock    clock.Clock
	// Queue runs the SLA timer jobs; Client is the client they use.
	Queue  *jobs.Queue
	Client *ent.Client
	// Notify and Outbox carry what actions, approvals and timers send.
	Notify *notify.Service
	Outbox *outbox.Service
}

// New returns the service and registers its SLA timer job with the queue.
func New(c Config) *Service {
	s := &Service{
		workflows: c.Workflows, registry: c.Registry, clock: c.Clock, queue: c.Queue,
		notify: c.Notify, outbox: c.Outbox, client: c.Client,
	}
	jobs.Add(c.Queue, &timerWorker{s: s})
	return s
}

// Item is a ticket or a project as the engine sees it.
type Item struct {
	ID, TenantID, VersionID pulid.ID
	Module, Table           string
	Title                   string
	State                   string
	Revision                int
	Assignee, Owner         pulid.ID
	Customer                pulid.ID
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

// CreateTicket creates a ticket in the initial state of its workflow, in
// tx, and starts the SLA timers of that state.
func (s *Service) CreateTicket(ctx context.Context, tx *ent.Tx, in NewItem) (*ent.Ticket, error) {
	client := tx.Client()
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
	return t, s.started(ctx, tx, Ticket, t.ID, w)
}

// CreateProject creates a project in the initial state of its workflow, in
// tx, and starts the SLA timers of that state.
func (s *Service) CreateProject(ctx context.Context, tx *ent.Tx, in NewItem) (*ent.Project, error) {
	client := tx.Client()
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
	return p, s.started(ctx, tx, Project, p.ID, w)
}

// started writes the first history entry of a new record and starts the
// SLA timers of its initial state.
func (s *Service) started(ctx context.Context, tx *ent.Tx, module string, id pulid.ID, w *flows.Workflow) error {
	client := tx.Client()
	if err := s.record(ctx, client, id, "", w.Initial(), "create", "", nil); err != nil {
		return err
	}
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return err
	}
	return s.timers(ctx, tx, it, w, "", w.Initial())
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
		return &Item{ID: t.ID, TenantID: t.TenantID, VersionID: t.WorkflowVersionID, Module: Ticket, Table: "Ticket",
			Title: t.Title, State: t.State, Revision: t.Revision, Assignee: t.AssigneeID, Owner: t.OwnerID,
			Customer: t.CustomerID, DataKey: t.DataKey, Fields: t.CustomFields}, nil
	case Project:
		p, err := client.Project.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		return &Item{ID: p.ID, TenantID: p.TenantID, VersionID: p.WorkflowVersionID, Module: Project, Table: "Project",
			Title: p.Title, State: p.State, Revision: p.Revision, Assignee: p.AssigneeID, Owner: p.OwnerID,
			Customer: p.CustomerID, DataKey: p.DataKey, Fields: p.CustomFields}, nil
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
	// Approvers are the approvers the submitter chooses, for an approval
	// step whose resolver is approver.chosen.
	Approvers []pulid.ID
}

// Transition moves a record through a transition in tx: it checks the
// guards and validators, changes the state, bumps the revision (a
// concurrent transition that read the same revision fails with CONFLICT),
// appends to the history, runs the transition's actions, opens its
// approval step and starts, stops, pauses or resumes SLA timers. It
// returns the new state.
func (s *Service) Transition(ctx context.Context, tx *ent.Tx, module string, id pulid.ID, mv Move) (string, error) {
	client := tx.Client()
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
	from := it.State
	if err := s.withdraw(ctx, tx, it); err != nil {
		return "", err
	}
	if err := s.setState(ctx, client, it, d.To); err != nil {
		return "", err
	}
	comment := ""
	if mv.Comment != nil {
		comment = *mv.Comment
	}
	var changes []string
	for k := range mv.Input {
		changes = append(changes, k)
	}
	if err := s.record(ctx, client, id, from, d.To, mv.Transition, comment, changes); err != nil {
		return "", err
	}
	submitter := pulid.ID("")
	if v := viewer.FromContext(ctx); v != nil {
		submitter = v.UserID
	}
	for _, a := range d.Actions {
		if err := s.runAction(ctx, tx, it, submitter, a); err != nil {
			return "", err
		}
	}
	if d.Approval != "" {
		if err := s.openApproval(ctx, tx, it, w, mv.Transition, d.Approval, submitter, mv.Approvers); err != nil {
			return "", err
		}
	}
	return d.To, s.timers(ctx, tx, it, w, from, d.To)
}

// setState moves it to state if its revision is still the one read, and
// bumps the revision; otherwise the answer is CONFLICT. ctx is the
// viewer's for a transition and the tenant's system context when an
// approval decides where the record goes.
func (s *Service) setState(ctx context.Context, client *ent.Client, it *Item, state string) error {
	var n int
	var err error
	switch it.Module {
	case Ticket:
		n, err = client.Ticket.Update().Where(ticket.ID(it.ID), ticket.Revision(it.Revision)).
			SetState(state).AddRevision(1).Save(ctx)
	case Project:
		n, err = client.Project.Update().Where(project.ID(it.ID), project.Revision(it.Revision)).
			SetState(state).AddRevision(1).Save(ctx)
	}
	if err != nil {
		return err
	}
	if n == 0 {
		return apierr.New(apierr.Conflict)
	}
	it.State = state
	it.Revision++
	return nil
}

// system returns the tenant's system context for the engine's own writes.
func (s *Service) system(ctx context.Context, tenantID pulid.ID, reason string) context.Context {
	return viewer.NewSystemContext(ctx, tenantID, reason, s.clock.Now())
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

// record appends an entry to a record's history, numbered after the
// entries the transaction sees.
func (s *Service) record(ctx context.Context, client *ent.Client, id pulid.ID, from, to, transition, comment string, changes []string) error {
	hctx := rule.NewHistoryWriteContext(ctx)
	seq, err := client.TransitionEvent.Query().Where(transitionevent.RecordID(id)).Count(s.system(ctx, tenantOf(ctx), "number history"))
	if err != nil {
		return err
	}
	c := client.TransitionEvent.Create().SetRecordID(id).SetToState(to).SetTransition(transition).SetChanges(changes).SetSeq(seq)
	if from != "" {
		c.SetFromState(from)
	}
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" && !v.System {
		c.SetActorID(v.UserID)
	}
	if comment != "" {
		c.SetComment(secret.Plain(comment))
	}
	return c.Exec(hctx)
}

// tenantOf returns the tenant of the viewer in ctx.
func tenantOf(ctx context.Context) pulid.ID {
	if v := viewer.FromContext(ctx); v != nil {
		return v.TenantID
	}
	return ""
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
		Order(ent.Asc(transitionevent.FieldSeq), ent.Asc(transitionevent.FieldCreatedAt), ent.Asc(transitionevent.FieldID)).All(sys)
}

// HideFields removes from data, a record's decrypted form data, the fields
// the workflow's field access rules hide from the viewer in state. The
// rules name dot-separated paths of schema properties. Within a request
// (NewRequestContext) the viewer's roles and each version are read once.
func (s *Service) HideFields(ctx context.Context, client *ent.Client, versionID pulid.ID, state string, data map[string]any) (map[string]any, error) {
	w, err := s.pinnedWorkflow(ctx, client, versionID)
	if err != nil {
		return nil, err
	}
	roles, err := s.viewerRoles(ctx, client)
	if err != nil {
		return nil, err
	}
	hidden := w.FieldRules(state, roles).Hidden
	if len(hidden) == 0 {
		return data, nil
	}
	out := cloneMap(data)
	for _, path := range hidden {
		removePath(out, strings.Split(path, "."))
	}
	return out, nil
}

// removePath deletes the value at keys below m, copying the maps on the
// way so that the caller's data stay as they were.
func removePath(m map[string]any, keys []string) {
	if len(keys) == 1 {
		delete(m, keys[0])
		return
	}
	child, ok := m[keys[0]].(map[string]any)
	if !ok {
		return
	}
	child = cloneMap(child)
	m[keys[0]] = child
	removePath(child, keys[1:])
}

// Change is an update of a ticket or project; nil fields keep their value.
type Change struct {
	Title *string
	// CustomFields are merged into the stored data (a null removes a
	// field) and the result is validated against the form version.
	CustomFields map[string]any
	AssigneeID   *pulid.ID
	DueOn        *caldate.Date
}

// Update changes a record in the viewer's scope, in tx: the workflow's
// field access rules for the viewer in the record's state refuse changes
// to read-only (and hidden) fields, each with its pointer; the revision
// grows, so a transition that read the record before gets CONFLICT.
func (s *Service) Update(ctx context.Context, tx *ent.Tx, module string, id pulid.ID, ch Change) error {
	client := tx.Client()
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return err
	}
	if len(ch.CustomFields) > 0 {
		ver, err := client.WorkflowVersion.Get(ctx, it.VersionID)
		if err != nil {
			return err
		}
		w, err := s.parse(ctx, client, ver)
		if err != nil {
			return err
		}
		ev, err := ExprViewer(ctx, client)
		if err != nil {
			return err
		}
		var fields []apierr.FieldError
		for _, path := range w.FieldRules(it.State, ev.Roles).ReadOnly {
			keys := strings.Split(path, ".")
			if touches(ch.CustomFields, keys) {
				fields = append(fields, apierr.Field("/input/customFields/"+strings.Join(keys, "/"), "read_only"))
			}
		}
		if len(fields) > 0 {
			return apierr.BadInput(fields...)
		}
	}
	switch module {
	case Ticket:
		u := client.Ticket.UpdateOneID(id).Where(ticket.Revision(it.Revision)).AddRevision(1).
			SetNillableTitle(ch.Title).SetNillableAssigneeID(ch.AssigneeID).SetNillableDueOn(ch.DueOn)
		if len(ch.CustomFields) > 0 {
			u.SetCustomFields(ch.CustomFields)
		}
		err = u.Exec(ctx)
	case Project:
		u := client.Project.UpdateOneID(id).Where(project.Revision(it.Revision)).AddRevision(1).
			SetNillableTitle(ch.Title).SetNillableAssigneeID(ch.AssigneeID).SetNillableDueOn(ch.DueOn)
		if len(ch.CustomFields) > 0 {
			u.SetCustomFields(ch.CustomFields)
		}
		err = u.Exec(ctx)
	}
	if ent.IsNotFound(err) {
		return apierr.New(apierr.Conflict)
	}
	return err
}

// touches reports whether patch sets or removes the value at keys (or a
// value inside it).
func touches(patch map[string]any, keys []string) bool {
	v, ok := patch[keys[0]]
	if !ok {
		return false
	}
	if len(keys) == 1 {
		return true
	}
	child, isMap := v.(map[string]any)
	if !isMap {
		return true // the whole parent is replaced or removed
	}
	return touches(child, keys[1:])
}
