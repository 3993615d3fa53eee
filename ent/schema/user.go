package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// User is a person who signs in to a tenant.
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("usr"), TenantMixin{}, TimeMixin{},
		// The email's blind index keeps emails unique per tenant and finds
		// a user at sign-in.
		PersonalMixin{fields: []personalField{
			{name: "email", index: emailIndex, unique: true},
			{name: "totp_secret", internal: true},
		}},
	}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("locale").Optional().
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Enum("status").Values("active", "disabled").Default("active").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("password_hash").Optional().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bool("must_change_password").Default(false).
			Annotations(entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationUpdateInput)),
		field.Time("password_changed_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		// Lockout state of the password factor.
		field.Int("failed_logins").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("lock_count").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("locked_until").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		// TOTP second factor: the last time step used (replay protection),
		// when it was enabled, and hashes of unused recovery codes.
		field.Int64("totp_last_step").Default(0).Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("totp_enabled_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
		field.JSON("recovery_codes", [][]byte{}).Optional().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("department_id").GoType(pulid.ID("")),
		field.String("reports_to_id").GoType(pulid.ID("")).Optional(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.To("department", Department.Type).Field("department_id").Unique().Required(),
		edge.To("subordinates", User.Type).Annotations(skipInputs).
			From("reports_to").Field("reports_to_id").Unique(),
		edge.To("roles", Role.Type).Through("grants", RoleGrant.Type).Annotations(skipInputs),
		edge.From("led_departments", Department.Type).Ref("leader").Annotations(skipInputs),
		edge.To("sessions", Session.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "department_id"),
		index.Fields("tenant_id", "reports_to_id"),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}

// Policy lets every member of the tenant read users and those holding
// user:manage change them.
func (User) Policy() ent.Policy {
	p := directoryPolicy(viewer.PermUserManage).(privacy.Policy)
	// Sign-in records failed attempts, locks and TOTP steps before any
	// viewer exists.
	p.Mutation = append(privacy.MutationPolicy{rule.AllowPreAuthMutation()}, p.Mutation...)
	return p
}

// Hooks of the User.
func (User) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("User", "name"), userHook}
}
