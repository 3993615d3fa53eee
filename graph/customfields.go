package graph

import (
	"context"
	"slices"
	"strconv"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema"
	"github.com/custos-crm/custos/ent/schema/customfields"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/graph/model"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/vault"
)

// customFields returns a record's custom fields as the viewer may see them.
func (r *Resolver) customFields(ctx context.Context, table string, tenantID, id pulid.ID, key []byte, stored map[string]any, versionID pulid.ID) (map[string]any, error) {
	if len(stored) == 0 {
		return map[string]any{}, nil
	}
	formats := map[string]string{}
	if versionID != "" {
		if v, err := r.clientFor(ctx).FormVersion.Get(ctx, versionID); err == nil {
			formats = formdefs.Formats(v.Document)
		}
	}
	ref := vault.Ref{TenantID: string(tenantID), Table: table, RowID: string(id)}
	return r.disclose.CustomFields(ctx, ref, key, stored, formats)
}

// clientFor returns the client a resolver reads through: inside a
// mutation its transaction's (on SQLite, the one connection is the
// transaction's), otherwise the handler's.
func (r *Resolver) clientFor(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.client
}

// customFieldPredicate returns the filter of records whose searchable
// custom field equals the filter's value: the blind index for sensitive
// fields, the stored value for others.
func (r *Resolver) customFieldPredicate(ctx context.Context, module string, f model.CustomFieldFilter) (func(*sql.Selector), error) {
	v := viewer.FromContext(ctx)
	ver, err := formdefs.Active(ctx, r.client, v.TenantID, module)
	if ent.IsNotFound(err) {
		return nil, apierr.BadInput(apierr.Field("/filter/field", "not_searchable"))
	}
	if err != nil {
		return nil, err
	}
	form, err := r.forms.Form(ver)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(form.SearchableFields(), f.Field) {
		return nil, apierr.BadInput(apierr.Field("/filter/field", "not_searchable"))
	}
	if slices.Contains(form.SensitiveFields(), f.Field) {
		idx, err := schema.CustomFieldIndex(ctx, r.client, v.TenantID, f.Field, formdefs.Formats(ver.Document)[f.Field], f.Value)
		if err != nil {
			return nil, err
		}
		return fieldEQ(idx, f.Field, customfields.IndexKey), nil
	}
	return fieldEQ(typedValue(form, f.Field, f.Value), f.Field), nil
}

// fieldEQ matches rows whose custom_fields hold value at path.
func fieldEQ(value any, path ...string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sqljson.ValueEQ(s.C("custom_fields"), value, sqljson.Path(path...)))
	}
}

// typedValue reads a filter value as the field's JSON type.
func typedValue(form *forms.Form, field, value string) any {
	switch formdefs.FieldType(form, field) {
	case "number", "integer":
		if n, err := strconv.ParseFloat(value, 64); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(value); err == nil {
			return b
		}
	}
	return value
}

// derefSteps turns GraphQL's list of step pointers into steps.
func derefSteps(steps []*forms.Step) []forms.Step {
	out := make([]forms.Step, 0, len(steps))
	for _, s := range steps {
		out = append(out, *s)
	}
	return out
}
