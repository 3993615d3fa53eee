package pulid

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// MixinWithPrefix returns a mixin whose id field is a pulid with prefix.
func MixinWithPrefix(prefix string) Mixin {
	if len(prefix) != PrefixLen {
		panic("pulid: prefix " + prefix + " has the wrong length")
	}
	return Mixin{prefix: prefix}
}

// Mixin gives an entity a pulid id field.
type Mixin struct {
	mixin.Schema
	prefix string
}

// Fields returns the id field.
func (m Mixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(ID("")).
			MaxLen(PrefixLen + 26).
			Immutable().
			DefaultFunc(func() ID { return New(m.prefix, time.Now()) }),
	}
}

// Annotation records an entity's id prefix for code generation.
type Annotation struct {
	Prefix string
}

// Name implements schema.Annotation.
func (Annotation) Name() string { return "PULID" }

// Annotations returns the prefix annotation.
func (m Mixin) Annotations() []schema.Annotation {
	return []schema.Annotation{Annotation{Prefix: m.prefix}}
}
