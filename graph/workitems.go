package graph

import (
	"context"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/workitems"
)

// decideTicket records the viewer's approval decision on a ticket and
// returns the ticket as it is afterwards.
func (r *mutationResolver) decideTicket(ctx context.Context, id pulid.ID, d workitems.Decision) (*ent.Ticket, error) {
	if _, err := r.workitems.Decide(ctx, ent.TxFromContext(ctx), workitems.Ticket, id, d); err != nil {
		return nil, err
	}
	return r.approvedTicket(ctx, id)
}

// decideProject records the viewer's approval decision on a project.
func (r *mutationResolver) decideProject(ctx context.Context, id pulid.ID, d workitems.Decision) (*ent.Project, error) {
	if _, err := r.workitems.Decide(ctx, ent.TxFromContext(ctx), workitems.Project, id, d); err != nil {
		return nil, err
	}
	return r.approvedProject(ctx, id)
}

// approvedTicket returns a ticket after the viewer decided on it: under
// the viewer's scope when it is in it (an open or decided approval task
// puts it there), and otherwise, as after delegating the task away, as the
// approver saw it when deciding. Fields that read further (history,
// customFields) apply the viewer's scope.
func (r *mutationResolver) approvedTicket(ctx context.Context, id pulid.ID) (*ent.Ticket, error) {
	client := ent.FromContext(ctx)
	t, err := client.Ticket.Get(ctx, id)
	if ent.IsNotFound(err) {
		v := viewer.FromContext(ctx)
		return client.Ticket.Get(viewer.NewSystemContext(ctx, v.TenantID, "approver reads "+string(id), r.clock.Now()), id)
	}
	return t, err
}

// approvedProject is approvedTicket for projects.
func (r *mutationResolver) approvedProject(ctx context.Context, id pulid.ID) (*ent.Project, error) {
	client := ent.FromContext(ctx)
	p, err := client.Project.Get(ctx, id)
	if ent.IsNotFound(err) {
		v := viewer.FromContext(ctx)
		return client.Project.Get(viewer.NewSystemContext(ctx, v.TenantID, "approver reads "+string(id), r.clock.Now()), id)
	}
	return p, err
}
