package workitems

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/webhooks"
	"github.com/custos-crm/custos/internal/workflows"
)

// actionEnv lets an action act on one record in one transaction, in the
// tenant's system context: the workflow's designer decided what the action
// does, and the viewer's right to take the transition was checked by its
// guards. The history names the viewer.
type actionEnv struct {
	s      *Service
	tx     *ent.Tx
	it     *Item
	target workflows.Target
	// key makes the notices of one run idempotent.
	key string
}

// runAction runs one action of a transition or an SLA breach on it.
func (s *Service) runAction(ctx context.Context, tx *ent.Tx, it *Item, submitter pulid.ID, a flows.Plugin) error {
	sys := s.system(ctx, it.TenantID, "workflow action "+a.Type+" on "+string(it.ID))
	env := &actionEnv{s: s, tx: tx, it: it, target: target(it, submitter), key: fmt.Sprintf("%s:%d:%s", it.ID, it.Revision, a.Type)}
	if err := workflows.RunAction(sys, s.registry, env, a.Type, a.Config); err != nil {
		return fmt.Errorf("workitems: action %s: %w", a.Type, err)
	}
	return nil
}

func target(it *Item, submitter pulid.ID) workflows.Target {
	return workflows.Target{
		Module: it.Module, ID: it.ID, TenantID: it.TenantID, OwnerID: it.Owner, AssigneeID: it.Assignee,
		CustomerID: it.Customer, SubmitterID: submitter,
	}
}

// Target implements workflows.ActionEnv.
func (e *actionEnv) Target() workflows.Target { return e.target }

// SetField implements workflows.ActionEnv: the record's data with the field
// set are validated against its pinned form version like any update.
func (e *actionEnv) SetField(ctx context.Context, path string, value any) error {
	client := e.tx.Client()
	ref := vault.Ref{TenantID: string(e.it.TenantID), Table: e.it.Table, RowID: string(e.it.ID)}
	data, err := schema.OpenCustomFields(ctx, client.Vault, ref, e.it.DataKey, e.it.Fields)
	if err != nil {
		return err
	}
	keys := strings.Split(path, ".")
	top := keys[0]
	var set any = value
	if len(keys) > 1 {
		parent, _ := data[top].(map[string]any)
		root := cloneMap(parent)
		cur := root
		for _, k := range keys[1 : len(keys)-1] {
			next := cloneMap(asMap(cur[k]))
			cur[k] = next
			cur = next
		}
		cur[keys[len(keys)-1]] = value
		set = root
	}
	patch := map[string]any{top: set}
	switch e.it.Module {
	case Ticket:
		err = client.Ticket.UpdateOneID(e.it.ID).SetCustomFields(patch).Exec(ctx)
	case Project:
		err = client.Project.UpdateOneID(e.it.ID).SetCustomFields(patch).Exec(ctx)
	}
	if err != nil {
		return err
	}
	// Later actions see the change.
	return e.reload(ctx)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reload reads the record again after an action changed it.
func (e *actionEnv) reload(ctx context.Context) error {
	it, err := e.s.load(ctx, e.tx.Client(), e.it.Module, e.it.ID)
	if err != nil {
		return err
	}
	*e.it = *it
	e.target.AssigneeID = it.Assignee
	return nil
}

// Assign implements workflows.ActionEnv.
func (e *actionEnv) Assign(ctx context.Context, to pulid.ID) error {
	client := e.tx.Client()
	ok, err := client.User.Query().Where(user.ID(to), user.TenantID(e.it.TenantID), user.StatusEQ(user.StatusActive)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("assign: %s is not an active user of the tenant", to)
	}
	switch e.it.Module {
	case Ticket:
		err = client.Ticket.UpdateOneID(e.it.ID).SetAssigneeID(to).Exec(ctx)
	case Project:
		err = client.Project.UpdateOneID(e.it.ID).SetAssigneeID(to).Exec(ctx)
	}
	if err != nil {
		return err
	}
	return e.reload(ctx)
}

// Notify implements workflows.ActionEnv.
func (e *actionEnv) Notify(ctx context.Context, to pulid.ID, kind string) error {
	return e.s.notify.NotifyTx(ctx, e.tx, notify.Notice{
		TenantID: e.it.TenantID, UserID: to, Kind: kind, RecordID: string(e.it.ID),
		Key: kind + ":" + e.key + ":" + string(to),
	})
}

// Webhook implements workflows.ActionEnv.
func (e *actionEnv) Webhook(ctx context.Context, event string) error {
	name := webhooks.EventTicketWorkflow
	if e.it.Module == Project {
		name = webhooks.EventProjectWorkflow
	}
	return e.s.outbox.EmitTx(ctx, e.tx, outbox.Event{
		TenantID: e.it.TenantID, Name: name,
		Subject: webhooks.Subject{Type: e.it.Module, ID: string(e.it.ID), Signal: event},
	})
}

// CreateFollowUp implements workflows.ActionEnv.
func (e *actionEnv) CreateFollowUp(ctx context.Context, followUpType string, inDays int) error {
	if e.it.Customer == "" {
		return nil
	}
	client := e.tx.Client()
	tn, err := client.Tenant.Get(ctx, e.it.TenantID)
	if err != nil {
		return err
	}
	due := caldate.Of(e.s.clock.Now(), tn.Settings.Location()).AddDays(inDays)
	return client.FollowUp.Create().SetTenantID(e.it.TenantID).SetCustomerID(e.it.Customer).SetType(followUpType).
		SetContent(secret.Plain(e.it.Title)).SetNextFollowUpOn(due).Exec(ctx)
}

// resolverEnv lets approver resolvers read the tenant in its system context.
type resolverEnv struct {
	client *ent.Client
	target workflows.Target
	chosen []pulid.ID
}

func (e *resolverEnv) Client() *ent.Client      { return e.client }
func (e *resolverEnv) Target() workflows.Target { return e.target }
func (e *resolverEnv) Chosen() []pulid.ID       { return e.chosen }
