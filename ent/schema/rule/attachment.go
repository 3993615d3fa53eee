package rule

import (
	"context"
	"errors"
	"strings"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/project"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/ticket"
	"github.com/custos-crm/custos/internal/apierr"
)

// TicketScope returns how tickets are guarded.
func TicketScope() DataScope {
	return DataScope{
		Read:   viewer.PermTicketRead,
		Create: viewer.PermTicketCreate,
		Update: viewer.PermTicketUpdate,
		Delete: viewer.PermTicketDelete,
		// Approvers read the tickets of their approval tasks.
		Granted: GrantedRecords("ticket"),
	}
}

// ProjectScope returns how projects are guarded.
func ProjectScope() DataScope {
	return DataScope{
		Read:   viewer.PermProjectRead,
		Create: viewer.PermProjectCreate,
		Update: viewer.PermProjectUpdate,
		Delete: viewer.PermProjectDelete,
		// Approvers read the projects of their approval tasks.
		Granted: GrantedRecords("project"),
	}
}

// parentKind is one kind of record an attachment may belong to.
type parentKind struct {
	// edge is the attachment's edge to the parent, field its column and
	// pointer the input that names it.
	edge, field, pointer string
	scope                ChildScope
	// exists reports whether the parent id is a live record the viewer
	// reaches, also matching p.
	exists func(ctx context.Context, c *ent.Client, id pulid.ID, p entql.P) (bool, error)
}

// attachmentParents lists the kinds of parent in the order the errors name
// them.
var attachmentParents = []parentKind{
	{edge: "customer", field: "customer_id", pointer: "/input/customerID", scope: CustomerChild(),
		exists: func(ctx context.Context, c *ent.Client, id pulid.ID, p entql.P) (bool, error) {
			q := c.Customer.Query().Where(customer.ID(id))
			q.Filter().Where(p)
			return q.Exist(ctx)
		}},
	{edge: "ticket", field: "ticket_id", pointer: "/input/ticketID", scope: ChildScope{Parent: TicketScope()},
		exists: func(ctx context.Context, c *ent.Client, id pulid.ID, p entql.P) (bool, error) {
			q := c.Ticket.Query().Where(ticket.ID(id))
			q.Filter().Where(p)
			return q.Exist(ctx)
		}},
	{edge: "project", field: "project_id", pointer: "/input/projectID", scope: ChildScope{Parent: ProjectScope()},
		exists: func(ctx context.Context, c *ent.Client, id pulid.ID, p entql.P) (bool, error) {
			q := c.Project.Query().Where(project.ID(id))
			q.Filter().Where(p)
			return q.Exist(ctx)
		}},
}

// AttachmentParentError returns nil when exactly one parent is named — a
// customer (a follow-up counts as its customer), a ticket or a project —
// and otherwise a BAD_USER_INPUT error with the message key "one_parent":
// at every parent's input when none is named, at the later ones when
// several are.
func AttachmentParentError(customer, ticket, project bool) error {
	named := []bool{customer, ticket, project}
	var bad []apierr.FieldError
	first := -1
	for i, set := range named {
		switch {
		case !set:
		case first < 0:
			first = i
		default:
			bad = append(bad, apierr.Field(attachmentParents[i].pointer, "one_parent"))
		}
	}
	if first < 0 {
		for _, k := range attachmentParents {
			bad = append(bad, apierr.Field(k.pointer, "one_parent"))
		}
	}
	if len(bad) > 0 {
		return apierr.BadInput(bad...)
	}
	return nil
}

// attachmentParentOf returns the parent a new attachment names and its id,
// or the error of AttachmentParentError. A follow-up needs its customer.
func attachmentParentOf(m ent.Mutation) (parentKind, pulid.ID, error) {
	var (
		kind parentKind
		id   pulid.ID
		set  [3]bool
	)
	for i, k := range attachmentParents {
		v, ok := m.Field(k.field)
		if !ok {
			continue
		}
		set[i] = true
		kind = k
		id, _ = v.(pulid.ID)
	}
	if err := AttachmentParentError(set[0], set[1], set[2]); err != nil {
		return parentKind{}, "", err
	}
	if _, ok := m.Field("follow_up_id"); ok && !set[0] {
		return parentKind{}, "", apierr.BadInput(apierr.Field("/input/followUpID", "one_parent"))
	}
	return kind, id, nil
}

// CheckAttachmentParent returns a BAD_USER_INPUT error unless the
// attachment create m names exactly one parent: a customer (possibly with
// one of its follow-ups), a ticket or a project. The attachment's hook
// calls it, so that every write path — the system context included —
// keeps the invariant.
func CheckAttachmentParent(m ent.Mutation) error {
	_, _, err := attachmentParentOf(m)
	return err
}

// AttachmentScope guards attachments by their parent: an attachment is
// visible exactly when its customer, ticket or project is (customers
// through CustomerChild, tickets and projects through their own data
// scopes), and may be written by whoever may update that parent. A viewer
// reaches the attachments of each kind of parent they hold the read
// permission for; a soft-deleted parent hides its attachments.
type AttachmentScope struct{}

// reach returns the predicate matching attachments whose parent the viewer
// reaches with the permission perm picks, ORed over the kinds of parent,
// or a denial when the viewer reaches no parent at all. Reads follow each
// parent's read rule, records granted to the viewer (an approver's)
// included.
func (AttachmentScope) reach(ctx context.Context, v *viewer.Viewer, read bool, perm func(DataScope) string) (entql.P, error) {
	var (
		ps      []entql.P
		lacking []string
	)
	for _, k := range attachmentParents {
		permission := perm(k.scope.Parent)
		if read && k.scope.Parent.Granted != nil {
			// The parent's own read rule, grants included.
			p, err := k.scope.Parent.readPredicate(ctx, v)
			switch {
			case errors.Is(err, privacy.Deny):
				lacking = append(lacking, permission)
			case err != nil:
				return nil, err
			default:
				live := entql.FieldNil(customer.FieldDeletedAt)
				if p != nil {
					live = entql.And(live, p)
				}
				ps = append(ps, entql.HasEdgeWith(k.edge, live))
			}
			continue
		}
		if _, ok := v.ScopeFor(permission); !ok {
			lacking = append(lacking, permission)
			continue
		}
		p, err := k.scope.parentPredicate(ctx, v, permission)
		if err != nil {
			return nil, err
		}
		ps = append(ps, entql.HasEdgeWith(k.edge, p))
	}
	switch len(ps) {
	case 0:
		return nil, privacy.Denyf("viewer lacks %s", strings.Join(lacking, ", "))
	case 1:
		return ps[0], nil
	}
	return entql.Or(ps[0], ps[1], ps[2:]...), nil
}

// QueryRule filters reads to attachments of parents the viewer can read.
func (s AttachmentScope) QueryRule() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		p, err := s.reach(ctx, v, true, func(d DataScope) string { return d.Read })
		if err != nil {
			return err
		}
		f.Where(p)
		return privacy.Allow
	})
}

// MutationRule lets viewers write attachments of parents they may update.
// A create names exactly one parent, which must be such a record; another
// tenant's id, or one out of the viewer's reach, is an unknown reference.
func (s AttachmentScope) MutationRule() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() {
			return privacy.Skip
		}
		if m.Op().Is(ent.OpCreate) {
			k, id, err := attachmentParentOf(m)
			if err != nil {
				return err
			}
			p, err := k.scope.parentPredicate(ctx, v, k.scope.Parent.Update)
			if err != nil {
				return err
			}
			cm, ok := m.(interface{ Client() *ent.Client })
			if !ok {
				return privacy.Denyf("unexpected mutation type %T", m)
			}
			found, err := k.exists(ctx, cm.Client(), id, p)
			if err != nil {
				return err
			}
			if !found {
				return apierr.BadInput(apierr.Field(k.pointer, "unknown_reference"))
			}
			return privacy.Allow
		}
		p, err := s.reach(ctx, v, false, func(d DataScope) string { return d.Update })
		if err != nil {
			return err
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			f.Where(p)
			return privacy.Allow
		}).EvalMutation(ctx, m)
	})
}
