package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// AuditEvent is one entry of a tenant's tamper-evident audit trail. Events
// are written by the audit hook in the transaction of the change they
// record; seq, prev_hash and hash link them into a per-tenant hash chain
// when the transaction commits. Nothing updates or deletes them.
type AuditEvent struct{ ent.Schema }

// Mixin of the AuditEvent.
func (AuditEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("aud"), TenantMixin{}}
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("seq").Optional().Nillable().Annotations(entgql.OrderField("SEQ")),
		field.Bytes("prev_hash").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bytes("hash").Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("category").Values("data", "auth", "security", "system"),
		field.String("actor_id").GoType(pulid.ID("")).Optional().Annotations(entgql.Type("ID")),
		field.String("actor").Comment("who acted: a user id, or system: and the reason"),
		field.String("action"),
		field.String("entity_type").Optional(),
		field.String("entity_id").GoType(pulid.ID("")).Optional().Annotations(entgql.Type("ID")),
		// changes is JSON text, hashed exactly as stored.
		field.Text("changes").Default("[]").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("request_id").Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("ip").Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("created_at").Immutable().Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "seq").Unique(),
		// The sealer finds the transaction's unsealed events through this
		// small partial index instead of scanning the table.
		index.Fields("seq").Annotations(entsql.IndexWhere("seq IS NULL")),
		index.Fields("tenant_id", "created_at"),
		index.Fields("tenant_id", "entity_id"),
		index.Fields("tenant_id", "actor_id"),
	}
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}

// Policy lets auditors read the trail; only the audit hook writes it.
func (AuditEvent) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(), rule.AllowQueryIfPermission(viewer.PermAuditRead), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{rule.AllowAuditWrite(), privacy.AlwaysDenyRule()},
	}
}

// internalMixin marks tables that only infrastructure code reads and writes
// with SQL: no GraphQL, and a policy that denies everything.
type internalMixin struct{ mixin.Schema }

// Annotations hides the entity from GraphQL.
func (internalMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// AuditChain holds the head of each tenant's audit hash chain. The sealer
// locks a tenant's row for the moment it links a transaction's events.
type AuditChain struct{ ent.Schema }

// Mixin of the AuditChain.
func (AuditChain) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the AuditChain.
func (AuditChain) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").GoType(pulid.ID("")).StorageKey("tenant_id").Immutable(),
		field.Int64("seq"),
		field.Bytes("hash").Optional(),
	}
}

// Policy denies everything: the sealer uses SQL.
func (AuditChain) Policy() ent.Policy { return denyAll() }

// TenantKey holds a tenant's data and index keys, wrapped by the master key.
type TenantKey struct{ ent.Schema }

// Mixin of the TenantKey.
func (TenantKey) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the TenantKey.
func (TenantKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").GoType(pulid.ID("")).StorageKey("tenant_id").Immutable(),
		field.String("key_id").Immutable(),
		field.Bytes("wrapped_data_key").Immutable().Sensitive(),
		field.Bytes("wrapped_index_key").Immutable().Sensitive(),
		field.Time("created_at").Immutable(),
	}
}

// Policy denies everything: the vault's key store uses SQL.
func (TenantKey) Policy() ent.Policy { return denyAll() }

// VaultMeta holds the vault's own records, such as the master key check.
type VaultMeta struct{ ent.Schema }

// Mixin of the VaultMeta.
func (VaultMeta) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the VaultMeta.
func (VaultMeta) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("name").Immutable(),
		field.Bytes("value"),
	}
}

// Policy denies everything: the vault's key store uses SQL.
func (VaultMeta) Policy() ent.Policy { return denyAll() }

func denyAll() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
