// Package collect holds the schema annotation that tells GraphQL field
// collection which columns a resolver-backed field reads.
//
// entgql selects only the columns of the fields a query asks for, but a
// field it does not know (one with its own resolver, such as a decrypted
// personal field) makes it load every column of the row. A Columns
// annotation names the columns such a field needs, so a page that shows a
// customer's mobile loads the mobile's ciphertext and the record's data key,
// not every other encrypted column as well. Fields not named in it keep
// entgql's behaviour of loading the whole row.
package collect

import "entgo.io/ent/schema"

// Columns maps GraphQL field names of one entity to the columns their
// resolvers read.
type Columns struct {
	Fields map[string][]string
}

// Name implements schema.Annotation.
func (Columns) Name() string { return "ResolverColumns" }

// Merge implements schema.Merger, so that several mixins of one schema can
// each name the columns of their own fields.
func (c Columns) Merge(other schema.Annotation) schema.Annotation {
	var o Columns
	switch other := other.(type) {
	case Columns:
		o = other
	case *Columns:
		if other == nil {
			return c
		}
		o = *other
	default:
		return c
	}
	merged := Columns{Fields: make(map[string][]string, len(c.Fields)+len(o.Fields))}
	for name, cols := range c.Fields {
		merged.Fields[name] = cols
	}
	for name, cols := range o.Fields {
		merged.Fields[name] = append(append([]string(nil), merged.Fields[name]...), cols...)
	}
	return merged
}

// Field returns a Columns annotation naming the columns of one field.
func Field(name string, columns ...string) Columns {
	return Columns{Fields: map[string][]string{name: columns}}
}

var (
	_ schema.Annotation = Columns{}
	_ schema.Merger     = Columns{}
)
