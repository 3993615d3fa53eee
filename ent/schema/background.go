package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// WebhookEndpoint is a URL of a tenant's that receives signed event
// deliveries. Its secrets are encrypted; during a rotation the previous
// secret signs too until it expires.
type WebhookEndpoint struct{ ent.Schema }

// Mixin of the WebhookEndpoint.
func (WebhookEndpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("whk"), TenantMixin{}, TimeMixin{},
		PersonalMixin{fields: []personalField{
			{name: "secret", internal: true}, {name: "previous_secret", internal: true},
		}},
	}
}

// Fields of the WebhookEndpoint.
func (WebhookEndpoint) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("url").NotEmpty().MaxLen(2000),
		field.String("description").Optional().MaxLen(500),
		field.Strings("events"),
		field.Bool("enabled").Default(true),
		field.Time("previous_secret_expires_at").Optional().Nillable().Annotations(skipInputs),
		field.String("created_by").GoType(pulid.ID("")).Optional().Immutable().Annotations(skipInputs),
	}
}

// Indexes of the WebhookEndpoint.
func (WebhookEndpoint) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "enabled")}
}

// Annotations of the WebhookEndpoint.
func (WebhookEndpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy lets holders of webhook:manage see and change endpoints; the
// outbox reads them in its write context and the deliverer in the system
// context.
func (WebhookEndpoint) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(), rule.AllowOutboxRead(), rule.AllowQueryIfPermission(viewer.PermWebhookManage), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowIfPermission(viewer.PermWebhookManage), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks records the audit trail; secrets appear in it by name only.
func (WebhookEndpoint) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("WebhookEndpoint")}
}

// OutboxMessage is a side effect (a webhook delivery or an e-mail) written in
// the transaction of the change that causes it and delivered after commit.
// Its payload carries ids, never personal data.
type OutboxMessage struct{ ent.Schema }

// Mixin of the OutboxMessage.
func (OutboxMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("obx"), TenantMixin{}, TimeMixin{}}
}

// Fields of the OutboxMessage.
func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values("webhook", "email").Immutable(),
		// event names what happened (customer.updated) or, for e-mail, the
		// notification kind (followup.due).
		field.String("event").NotEmpty().MaxLen(100).Immutable(),
		field.String("subject_id").Optional().Immutable(),
		field.String("endpoint_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.String("user_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.JSON("payload", map[string]any{}).Immutable().Annotations(entgql.Type("Map")),
		field.String("idempotency_key").NotEmpty().Immutable(),
		field.Enum("state").Values("pending", "delivered", "dead").Default("pending"),
		field.Int("attempts").Default(0),
		field.Time("next_attempt_at"),
		field.Int("last_status").Optional().Nillable(),
		field.String("last_error").Optional().Nillable(),
		field.Int("last_duration_ms").Optional().Nillable(),
		field.Time("delivered_at").Optional().Nillable(),
	}
}

// Edges of the OutboxMessage.
func (OutboxMessage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("endpoint", WebhookEndpoint.Type).Field("endpoint_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the OutboxMessage.
func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("idempotency_key").Unique(),
		index.Fields("tenant_id", "endpoint_id", "created_at"),
		index.Fields("state", "next_attempt_at"),
	}
}

// Annotations of the OutboxMessage.
func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy lets holders of webhook:manage read the delivery log. Messages are
// written by the outbox package in the transaction of the change (its write
// context, which also checks idempotency keys) and updated only by the
// deliverer, a system context.
func (OutboxMessage) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(), rule.AllowOutboxRead(), rule.AllowQueryIfPermission(viewer.PermWebhookManage), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowOutboxWrite(), privacy.AlwaysDenyRule(),
		},
	}
}

// Notification is an entry in a user's in-app inbox. It stores the kind, the
// record it is about and non-personal parameters; its text is rendered in
// the reader's language when read.
type Notification struct{ ent.Schema }

// Mixin of the Notification.
func (Notification) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ntf"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Notification.
func (Notification) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("kind").NotEmpty().MaxLen(100).Immutable(),
		field.String("record_id").Optional().Immutable(),
		field.JSON("params", map[string]string{}).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		// dedupe_key makes a notice idempotent: a job that runs twice
		// notifies once.
		field.String("dedupe_key").NotEmpty().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("read_at").Optional().Nillable(),
	}
}

// Edges of the Notification.
func (Notification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the Notification.
func (Notification) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "dedupe_key").Unique(),
		index.Fields("tenant_id", "user_id", "created_at"),
		index.Fields("tenant_id", "user_id", "read_at"),
	}
}

// Annotations of the Notification.
func (Notification) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy lets a user read and mark their own notifications; the notifier
// creates them through the system context or in the transaction of the
// change that causes them (the outbox write context).
func (Notification) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowIfSystem(), rule.AllowOutboxRead(), rule.FilterOwnRows(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowOutboxWrite(), rule.AllowOwnRowUpdates(), privacy.AlwaysDenyRule(),
		},
	}
}

// NotificationPreference is a user's choice of channels for one kind of
// notification. Without a row, a kind goes to the inbox and by e-mail.
type NotificationPreference struct{ ent.Schema }

// Mixin of the NotificationPreference.
func (NotificationPreference) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("npr"), TenantMixin{}, TimeMixin{}}
}

// Fields of the NotificationPreference.
func (NotificationPreference) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.String("kind").NotEmpty().MaxLen(100).Immutable(),
		field.Bool("inbox").Default(true),
		field.Bool("email").Default(true),
	}
}

// Edges of the NotificationPreference.
func (NotificationPreference) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the NotificationPreference.
func (NotificationPreference) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "user_id", "kind").Unique()}
}

// Annotations of the NotificationPreference.
func (NotificationPreference) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy lets users read and set their own preferences; the notifier reads
// them through the system context or its write context.
func (NotificationPreference) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(), rule.AllowOutboxRead(), rule.FilterOwnRows(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), rule.AllowOwnRows(), privacy.AlwaysDenyRule()},
	}
}
