package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/flows"
)

// engineOnly is the policy of the workflow engine's bookkeeping (approval
// requests and tasks, SLA timers): the engine reads and writes them in the
// tenant's system context after it has loaded the record under the
// viewer's scope; nobody reaches them directly.
func engineOnly() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}

// ApprovalRequest is one run of an approval step on a ticket or project:
// who submitted it, the approvers the resolver listed when it opened, the
// votes in order and the outcome. The tally is replayed from the votes
// (package flows), so the votes are the truth.
type ApprovalRequest struct{ ent.Schema }

// Mixin of the ApprovalRequest.
func (ApprovalRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("apr"), TenantMixin{}, TimeMixin{}}
}

// Fields of the ApprovalRequest.
func (ApprovalRequest) Fields() []ent.Field {
	return []ent.Field{
		field.String("record_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("module").Values("project", "ticket").Immutable(),
		field.String("workflow_version_id").GoType(pulid.ID("")).Immutable(),
		// approval is the key of the step in the workflow.
		field.String("approval").Immutable(),
		// transition is the key of the transition that opened the step.
		field.String("transition").Immutable(),
		field.String("submitter_id").GoType(pulid.ID("")).Optional().Immutable(),
		// approvers are the user ids the resolver listed, in order, less
		// the submitter unless the step allows self-approval; the fallback
		// approvers replace them when none was left.
		field.Strings("approvers"),
		// fallback reports that the fallback approvers were used.
		field.Bool("fallback").Default(false),
		field.JSON("votes", []flows.Vote{}).Optional().Annotations(entgql.Skip()),
		// outcome is withdrawn when the record left the step's state by
		// another transition before the step was decided.
		field.Enum("outcome").Values("pending", "approved", "rejected", "withdrawn").Default("pending"),
	}
}

// Indexes of the ApprovalRequest.
func (ApprovalRequest) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "record_id", "outcome")}
}

// Annotations of the ApprovalRequest.
func (ApprovalRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy: engine only.
func (ApprovalRequest) Policy() ent.Policy { return engineOnly() }

// ApprovalTask is one approver's part in an approval request: open while
// the engine waits for their decision, waiting while their turn has not
// come (sequential steps), then approved, rejected, delegated or closed
// (the step was decided without them). myApprovalTasks lists the open ones.
type ApprovalTask struct{ ent.Schema }

// Mixin of the ApprovalTask.
func (ApprovalTask) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("apt"), TenantMixin{}, TimeMixin{}}
}

// Fields of the ApprovalTask.
func (ApprovalTask) Fields() []ent.Field {
	return []ent.Field{
		field.String("request_id").GoType(pulid.ID("")).Immutable(),
		field.String("record_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("module").Values("project", "ticket").Immutable(),
		field.String("approval").Immutable(),
		field.String("approver_id").GoType(pulid.ID("")).Immutable(),
		field.String("submitter_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.Enum("status").Values("open", "waiting", "approved", "rejected", "delegated", "closed"),
	}
}

// Indexes of the ApprovalTask.
func (ApprovalTask) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("request_id", "approver_id").Unique(),
		index.Fields("tenant_id", "approver_id", "status"),
	}
}

// Annotations of the ApprovalTask.
func (ApprovalTask) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy: engine only; myApprovalTasks reads the viewer's own tasks in the
// tenant's system context.
func (ApprovalTask) Policy() ent.Policy { return engineOnly() }

// SLATimer is one SLA timer of one ticket or project: when it started, its
// pauses, whether it still runs, and which of its warnings and its breach
// have fired. Each time the timer's deadline may move (start, pause,
// resume) its generation grows and jobs for the new instants are queued;
// a job of an older generation does nothing, and a job records what it
// fired in the transaction that completes it, so each fires exactly once.
type SLATimer struct{ ent.Schema }

// Mixin of the SLATimer.
func (SLATimer) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("sla"), TenantMixin{}, TimeMixin{}}
}

// Fields of the SLATimer.
func (SLATimer) Fields() []ent.Field {
	return []ent.Field{
		field.String("record_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("module").Values("project", "ticket").Immutable(),
		field.String("workflow_version_id").GoType(pulid.ID("")).Immutable(),
		// sla is the key of the timer in the workflow.
		field.String("sla").Immutable(),
		field.Time("started_at"),
		field.JSON("paused", []flows.Interval{}).Optional().Annotations(entgql.Skip()),
		field.Enum("status").Values("running", "paused", "stopped"),
		// deadline is when the timer breaches, unless it is paused first;
		// null while paused.
		field.Time("deadline").Optional().Nillable(),
		field.Int("generation").Default(0),
		// warnings_fired counts the warnings sent, in WarnAt order.
		field.Int("warnings_fired").Default(0),
		field.Time("breached_at").Optional().Nillable(),
	}
}

// Indexes of the SLATimer.
func (SLATimer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("record_id", "sla").Unique(), index.Fields("tenant_id", "status", "deadline")}
}

// Annotations of the SLATimer.
func (SLATimer) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy: engine only; records show their timers through a resolver.
func (SLATimer) Policy() ent.Policy { return engineOnly() }
