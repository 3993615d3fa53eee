package schema

import (
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/settings"
)

// Tenant is one customer organisation of the Custos installation.
type Tenant struct{ ent.Schema }

// SlugPattern is the shape of a tenant slug.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// Mixin of the Tenant.
func (Tenant) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ten"), TimeMixin{}}
}

// Fields of the Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").Unique().Immutable().Match(slugPattern),
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("status").Values("active", "suspended").Default("active").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.JSON("settings", settings.Tenant{}).
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Policy lets members read their own tenant and tenant managers change it;
// tenants are created by the system context only.
func (Tenant) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.DenyIfNoViewer(), rule.AllowPreAuthQuery(), rule.AllowIfSystem(),
			rule.FilterOwnTenant(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.DenyIfNoViewer(), rule.AllowIfSystem(),
			rule.AllowOwnTenantUpdate(viewer.PermTenantManage), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks of the Tenant.
func (Tenant) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Tenant"), tenantSettingsHook}
}
