package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/custos-crm/custos/ent/schema/bigram"
)

// NameSearchMixin keeps a record's name tokens (package bigram) beside its
// name, with a GIN index on PostgreSQL, so that quick search finds names
// containing a fragment without reading every record of the tenant. The
// tokens are derived from the plain-text name; the hook sets them whenever
// the name is set, and the audit trail leaves them out.
type NameSearchMixin struct{ mixin.Schema }

// Fields of the NameSearchMixin.
func (NameSearchMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Other("name_tokens", bigram.Tokens{}).
			SchemaType(map[string]string{dialect.Postgres: "text[]", dialect.SQLite: "text"}).
			Optional().
			Annotations(entgql.Skip()),
	}
}

// Indexes of the NameSearchMixin.
func (NameSearchMixin) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name_tokens").Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"})),
	}
}

// Hooks of the NameSearchMixin.
func (NameSearchMixin) Hooks() []ent.Hook {
	return []ent.Hook{nameTokensHook}
}

// nameTokensHook sets the name tokens from the name a mutation sets.
func nameTokensHook(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		if v, ok := m.Field("name"); ok {
			name, _ := v.(string)
			if err := m.SetField("name_tokens", bigram.Of(name)); err != nil {
				return nil, err
			}
		}
		return next.Mutate(ctx, m)
	})
}
