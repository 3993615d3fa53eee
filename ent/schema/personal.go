package schema

import (
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/custos-crm/custos/ent/schema/collect"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/internal/personal"
)

// The blind indexes a personal field can feed. Fields of one kind share an
// index space, so one phone number finds the customer's mobile, its
// telephone and a contact's mobile alike.
const (
	noIndex     personal.Kind = ""
	phoneIndex                = personal.Phone
	emailIndex                = personal.Email
	wechatIndex               = personal.WeChat
)

// personalField is an encrypted column and the blind index it feeds.
type personalField struct {
	name  string
	index personal.Kind
	// unique makes the blind index unique within the tenant.
	unique bool
	// internal keeps the field out of GraphQL altogether (secrets such as
	// TOTP seeds are never client input nor output).
	internal bool
}

// PersonalMixin gives an entity holding a natural person's data its own
// data key and encrypted columns; searchable ones get a blind index column
// (<name>_bidx). The seal hook encrypts on the way in; GraphQL reads go
// through the disclosure policy.
type PersonalMixin struct {
	mixin.Schema
	fields []personalField
}

// Fields returns data_key and the encrypted and index columns.
func (m PersonalMixin) Fields() []ent.Field {
	out := []ent.Field{
		field.Bytes("data_key").Optional().Sensitive().Annotations(entgql.Skip(entgql.SkipAll)),
	}
	for _, f := range m.fields {
		ann := entgql.Skip(entgql.SkipType, entgql.SkipWhereInput, entgql.SkipOrderField)
		if f.internal {
			ann = entgql.Skip(entgql.SkipAll)
		}
		out = append(out, field.Bytes(f.name).GoType(secret.Text{}).Optional().
			Annotations(entgql.Type("String"), ann))
		if f.index != noIndex {
			out = append(out, field.Bytes(f.name+"_bidx").Optional().Annotations(entgql.Skip(entgql.SkipAll)))
		}
	}
	return out
}

// Annotations names the columns each personal field's resolver reads: its
// ciphertext, the record's wrapped data key and the tenant the key is
// bound to. A page selecting one personal field then loads no other.
func (m PersonalMixin) Annotations() []schema.Annotation {
	cols := collect.Columns{Fields: map[string][]string{}}
	for _, f := range m.fields {
		if !f.internal {
			cols.Fields[graphQLName(f.name)] = []string{f.name, "data_key", "tenant_id"}
		}
	}
	if len(cols.Fields) == 0 {
		return nil
	}
	return []schema.Annotation{cols}
}

// graphQLName returns the GraphQL name entgql gives a snake_case field.
func graphQLName(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// Indexes returns tenant-first indexes on the blind index columns.
func (m PersonalMixin) Indexes() []ent.Index {
	var out []ent.Index
	for _, f := range m.fields {
		if f.index != noIndex {
			idx := index.Fields("tenant_id", f.name+"_bidx")
			if f.unique {
				idx = idx.Unique()
			}
			out = append(out, idx)
		}
	}
	return out
}

// Hooks encrypts personal fields and computes their blind indexes.
func (m PersonalMixin) Hooks() []ent.Hook {
	return []ent.Hook{sealHook(m.fields)}
}
