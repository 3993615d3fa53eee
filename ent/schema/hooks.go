package schema

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"

	gen "github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/intercept"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// clientOf returns the client a mutation runs on (the transaction's, inside
// one).
func clientOf(m ent.Mutation) (*gen.Client, error) {
	c, ok := m.(interface{ Client() *gen.Client })
	if !ok {
		return nil, fmt.Errorf("schema: mutation %T has no client", m)
	}
	return c.Client(), nil
}

// timestampHook sets created_at and updated_at from the client's clock.
func timestampHook(next ent.Mutator) ent.Mutator {
	type timed interface {
		SetCreatedAt(time.Time)
		SetUpdatedAt(time.Time)
	}
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		tm, ok := m.(timed)
		if !ok {
			return nil, fmt.Errorf("schema: mutation %T has no timestamps", m)
		}
		c, err := clientOf(m)
		if err != nil {
			return nil, err
		}
		now := c.Clock.Now().UTC()
		if m.Op().Is(ent.OpCreate) {
			tm.SetCreatedAt(now)
		}
		tm.SetUpdatedAt(now)
		return next.Mutate(ctx, m)
	})
}

// tenantHook sets tenant_id from the viewer on create, and checks that every
// id a mutation links to names a record the viewer can see in its tenant.
func tenantHook(next ent.Mutator) ent.Mutator {
	type tenanted interface {
		TenantID() (pulid.ID, bool)
		SetTenantID(pulid.ID)
	}
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		v := viewer.FromContext(ctx)
		if m.Op().Is(ent.OpCreate) {
			tm, ok := m.(tenanted)
			if !ok {
				return nil, fmt.Errorf("schema: mutation %T has no tenant", m)
			}
			switch {
			case v != nil && v.TenantID != "":
				if id, set := tm.TenantID(); set && id != v.TenantID {
					return nil, fmt.Errorf("schema: tenant_id %s differs from the viewer's tenant", id)
				}
				tm.SetTenantID(v.TenantID)
			default:
				if _, set := tm.TenantID(); !set {
					return nil, fmt.Errorf("schema: %s created without a tenant", m.Type())
				}
			}
		}
		if v != nil && !v.System {
			if err := checkReferences(ctx, m); err != nil {
				return nil, err
			}
		}
		return next.Mutate(ctx, m)
	})
}

// checkReferences resolves every id the mutation links to through the
// viewer's privacy rules, so an id from another tenant, or one the viewer
// cannot see, is bad input rather than a silent cross-tenant link.
func checkReferences(ctx context.Context, m ent.Mutation) error {
	c, err := clientOf(m)
	if err != nil {
		return err
	}
	var bad []apierr.FieldError
	for _, edge := range m.AddedEdges() {
		table := gen.EdgeTable(m.Type(), edge)
		if edge == "tenant" || table == "" {
			continue
		}
		for _, value := range m.AddedIDs(edge) {
			id, _ := value.(pulid.ID)
			_, err := c.Noder(ctx, id, gen.WithFixedNodeType(table))
			switch {
			case gen.IsNotFound(err):
				bad = append(bad, apierr.Field("/input/"+inputName(edge), "unknown_reference"))
			case err != nil:
				return err
			}
		}
	}
	if len(bad) > 0 {
		return apierr.BadInput(bad...)
	}
	return nil
}

// inputName returns the GraphQL input field entgql generates for an edge:
// "reports_to" becomes "reportsToID".
func inputName(edge string) string {
	parts := strings.Split(edge, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "") + "ID"
}

// ownerHook defaults the owner to the viewer, records who created the row,
// and keeps the record's department equal to its owner's.
func ownerHook(next ent.Mutator) ent.Mutator {
	type owned interface {
		OwnerID() (pulid.ID, bool)
		SetOwnerID(pulid.ID)
		SetDepartmentID(pulid.ID)
		SetCreatedBy(pulid.ID)
		OwnerCleared() bool
		ClearDepartmentID()
	}
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		om, ok := m.(owned)
		if !ok {
			return nil, fmt.Errorf("schema: mutation %T has no owner", m)
		}
		v := viewer.FromContext(ctx)
		if m.Op().Is(ent.OpCreate) && v != nil && v.UserID != "" {
			om.SetCreatedBy(v.UserID)
			if _, set := om.OwnerID(); !set {
				om.SetOwnerID(v.UserID)
			}
		}
		if owner, set := om.OwnerID(); set {
			c, err := clientOf(m)
			if err != nil {
				return nil, err
			}
			u, err := c.User.Get(ctx, owner)
			if gen.IsNotFound(err) {
				return nil, apierr.BadInput(apierr.Field("/input/ownerID", "unknown_reference"))
			}
			if err != nil {
				return nil, err
			}
			om.SetDepartmentID(u.DepartmentID)
		} else if om.OwnerCleared() {
			om.ClearDepartmentID()
		}
		return next.Mutate(ctx, m)
	})
}

// softDeleteHook turns deletes into updates that set deleted_at, deleted_by
// and delete_batch_id. The update is judged by the delete permission.
func softDeleteHook(next ent.Mutator) ent.Mutator {
	type softDeleter interface {
		SetOp(ent.Op)
		Client() *gen.Client
		SetDeletedAt(time.Time)
		SetDeletedBy(pulid.ID)
		SetDeleteBatchID(pulid.ID)
		WhereP(...func(*sql.Selector))
	}
	return hook.On(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			sd, ok := m.(softDeleter)
			if !ok {
				return nil, fmt.Errorf("schema: mutation %T cannot be soft-deleted", m)
			}
			c := sd.Client()
			now := c.Clock.Now().UTC()
			sd.WhereP(sql.FieldIsNull("deleted_at"))
			sd.SetOp(ent.OpUpdate)
			sd.SetDeletedAt(now)
			sd.SetDeleteBatchID(pulid.New("del", now))
			if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
				sd.SetDeletedBy(v.UserID)
			}
			return c.Mutate(rule.NewSoftDeleteContext(ctx), m)
		})
	}, ent.OpDelete|ent.OpDeleteOne)(next)
}

// softDeleteInterceptor hides soft-deleted rows from queries, edges and
// counts.
func softDeleteInterceptor() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		q.WhereP(sql.FieldIsNull("deleted_at"))
		return nil
	})
}
