package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// WorkItemMixin holds what tickets and projects share: a title, the
// workflow version the record pinned and its state, an assignee, a linked
// customer, a due date, and a revision that makes concurrent transitions
// conflict instead of overwriting each other. Their form data are their
// custom fields.
type WorkItemMixin struct{ mixin.Schema }

// Fields of the WorkItemMixin.
func (WorkItemMixin) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("TITLE")),
		field.String("state").NotEmpty().MaxLen(64).Annotations(skipInputs),
		field.String("workflow_version_id").GoType(pulid.ID("")).Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.String("assignee_id").GoType(pulid.ID("")).Optional(),
		field.String("customer_id").GoType(pulid.ID("")).Optional(),
		field.String("due_on").GoType(caldate.Date{}).Optional().Nillable().
			Annotations(entgql.Type("Date"), entgql.OrderField("DUE_ON")),
		field.Int("revision").Default(0).Annotations(skipInputs),
	}
}

// Edges of the WorkItemMixin.
func (WorkItemMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("assignee", User.Type).Field("assignee_id").Unique(),
		edge.To("customer", Customer.Type).Field("customer_id").Unique(),
	}
}

// attachmentsEdge is a ticket's or project's attachments (ref names the
// attachment's edge back), a connection in GraphQL; files are attached with
// attachFile, not through update inputs.
func attachmentsEdge(ref string) ent.Edge {
	return edge.From("attachments", Attachment.Type).Ref(ref).
		Comment("The files attached to the record, oldest first; visible to whoever can see the record.").
		Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput))
}

// Ticket is a work order (工单) on a tenant's ticket form and workflow.
type Ticket struct{ ent.Schema }

// Mixin of the Ticket.
func (Ticket) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("tkt"), TenantMixin{}, OwnerMixin{}, TimeMixin{}, SoftDeleteMixin{},
		CustomFieldsMixin{module: "ticket"}, PersonalMixin{}, WorkItemMixin{},
	}
}

// Edges of the Ticket: its attachments (the workflow fields come from
// WorkItemMixin).
func (Ticket) Edges() []ent.Edge {
	return []ent.Edge{attachmentsEdge("ticket")}
}

// Indexes of the Ticket.
func (Ticket) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "state"), index.Fields("tenant_id", "assignee_id"), index.Fields("tenant_id", "customer_id")}
}

// Annotations of the Ticket.
func (Ticket) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection(), entgql.Mutations(entgql.MutationUpdate())}
}

// Policy confines tickets to the viewer's data scope for ticket:*; an
// approver also reads the tickets of their approval tasks.
func (Ticket) Policy() ent.Policy {
	s := rule.TicketScope()
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), s.QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), s.MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks records the audit trail.
func (Ticket) Hooks() []ent.Hook { return []ent.Hook{auditHook("Ticket", "title")} }

// Project is a project on a tenant's project form and workflow.
type Project struct{ ent.Schema }

// Mixin of the Project.
func (Project) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("prj"), TenantMixin{}, OwnerMixin{}, TimeMixin{}, SoftDeleteMixin{},
		CustomFieldsMixin{module: "project"}, PersonalMixin{}, WorkItemMixin{},
	}
}

// Edges of the Project: its attachments.
func (Project) Edges() []ent.Edge {
	return []ent.Edge{attachmentsEdge("project")}
}

// Indexes of the Project.
func (Project) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "state"), index.Fields("tenant_id", "assignee_id"), index.Fields("tenant_id", "customer_id")}
}

// Annotations of the Project.
func (Project) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection(), entgql.Mutations(entgql.MutationUpdate())}
}

// Policy confines projects to the viewer's data scope for project:*; an
// approver also reads the projects of their approval tasks.
func (Project) Policy() ent.Policy {
	s := rule.ProjectScope()
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), s.QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), s.MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks records the audit trail.
func (Project) Hooks() []ent.Hook { return []ent.Hook{auditHook("Project", "title")} }

// TransitionEvent is one entry of a ticket's or project's append-only
// history: who moved it from which state to which, by which transition,
// with which comment and which fields changed. Nothing updates or deletes
// an entry.
type TransitionEvent struct{ ent.Schema }

// Mixin of the TransitionEvent.
func (TransitionEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("trn"), TenantMixin{}, TimeMixin{},
		PersonalMixin{fields: []personalField{{name: "comment", index: noIndex}}},
	}
}

// Fields of the TransitionEvent.
func (TransitionEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("record_id").GoType(pulid.ID("")).Immutable(),
		field.String("actor_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.String("from_state").Optional().Immutable(),
		field.String("to_state").Immutable(),
		// transition is the transition's key; "create" for the first entry.
		field.String("transition").Immutable(),
		field.Strings("changes").Optional().Immutable(),
		// seq numbers a record's entries from 0 in the order they were
		// written, so entries written at the same instant keep their order.
		field.Int("seq").Default(0).Immutable(),
	}
}

// Indexes of the TransitionEvent.
func (TransitionEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "record_id", "seq")}
}

// Annotations of the TransitionEvent.
func (TransitionEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy: the history is read through its record (the resolver loads the
// record under the viewer's scope first) and written only by the engine,
// in the transaction of the transition; nothing updates or deletes it.
func (TransitionEvent) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
				if m.Op().Is(ent.OpCreate) && (rule.IsHistoryWrite(ctx) || viewer.FromContext(ctx) != nil && viewer.FromContext(ctx).System) {
					return privacy.Allow
				}
				return privacy.Denyf("the transition history is append-only")
			}),
		},
	}
}
