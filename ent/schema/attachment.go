package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
)

// Attachment is a file attached to exactly one parent: a customer (possibly
// through one of its follow-ups), a ticket or a project. Its name and
// content are encrypted under its own data key; the content lives in
// attachment_chunks (or a configured directory) and is read through
// GET /files/{id}, which finds it under the parent's access rules.
type Attachment struct{ ent.Schema }

// Mixin of the Attachment.
func (Attachment) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("att"), TenantMixin{}, TimeMixin{}, SoftDeleteMixin{},
		PersonalMixin{fields: []personalField{{name: "filename", index: noIndex}}},
	}
}

// Fields of the Attachment.
func (Attachment) Fields() []ent.Field {
	return []ent.Field{
		// Exactly one parent: customer_id (follow_up_id only with it),
		// ticket_id or project_id. Nillable, so that GraphQL shows the
		// others as null.
		field.String("customer_id").GoType(pulid.ID("")).Optional().Nillable().Immutable(),
		field.String("follow_up_id").GoType(pulid.ID("")).Optional().Nillable().Immutable(),
		field.String("ticket_id").GoType(pulid.ID("")).Optional().Nillable().Immutable(),
		field.String("project_id").GoType(pulid.ID("")).Optional().Nillable().Immutable(),
		field.String("content_type").Immutable(),
		field.Int64("size").Immutable().NonNegative(),
		field.Enum("storage").Values("database", "directory").Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("uploaded_by").GoType(pulid.ID("")).Optional().Immutable().Annotations(entgql.Type("ID")),
	}
}

// Edges of the Attachment.
func (Attachment) Edges() []ent.Edge {
	return []ent.Edge{
		// A parent cannot be removed from under its files (parents are
		// soft-deleted), as when customer_id was required.
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.NoAction)),
		edge.To("follow_up", FollowUp.Type).Field("follow_up_id").Unique().Immutable(),
		edge.To("ticket", Ticket.Type).Field("ticket_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.NoAction)),
		edge.To("project", Project.Type).Field("project_id").Unique().Immutable().Annotations(entsql.OnDelete(entsql.NoAction)),
	}
}

// Indexes of the Attachment.
func (Attachment) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "customer_id"), index.Fields("tenant_id", "follow_up_id"),
		index.Fields("tenant_id", "ticket_id"), index.Fields("tenant_id", "project_id"),
	}
}

// Annotations of the Attachment.
func (Attachment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy makes attachments visible exactly when their parent is, and
// writable by whoever may update it.
func (Attachment) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), rule.AttachmentScope{}.QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), rule.AttachmentScope{}.MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks checks that a new attachment names exactly one parent, on every
// write path (the system context too), and records the audit trail.
func (Attachment) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if err := rule.CheckAttachmentParent(m); err != nil {
					return nil, err
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate),
		auditHook("Attachment"),
	}
}

// AttachmentChunk holds one encrypted piece of an attachment's content.
type AttachmentChunk struct{ ent.Schema }

// Mixin of the AttachmentChunk.
func (AttachmentChunk) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the AttachmentChunk.
func (AttachmentChunk) Fields() []ent.Field {
	return []ent.Field{
		field.String("attachment_id").GoType(pulid.ID("")).Immutable(),
		field.Int("seq").Immutable(),
		field.Bytes("data").Immutable(),
	}
}

// Indexes of the AttachmentChunk.
func (AttachmentChunk) Indexes() []ent.Index {
	return []ent.Index{index.Fields("attachment_id", "seq").Unique()}
}

// Policy denies everything: the file store uses SQL.
func (AttachmentChunk) Policy() ent.Policy { return denyAll() }
