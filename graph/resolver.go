// Package graph owns the GraphQL API: the hand-written schema beside the
// generated ent.graphql, thin resolvers, the error presenter and the HTTP
// handler with its limits.
package graph

import (
	"context"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/graph/model"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/directory"
)

// DefaultPageSize is the page size of a list asked for without first or
// last.
const DefaultPageSize = 20

// MaxPageSize is the largest first or last accepted.
const MaxPageSize = 100

// Resolver holds what resolvers need. It is built once in NewHandler.
type Resolver struct {
	client    *ent.Client
	clock     clock.Clock
	directory *directory.Service
}

// pageSize applies the default page size to a list called without first or
// last.
func pageSize(first, last *int) *int {
	if first == nil && last == nil {
		n := DefaultPageSize
		return &n
	}
	return first
}

// viewer returns the signed-in viewer with their user, tenant and
// permissions.
func (r *Resolver) viewer(ctx context.Context) (*model.Viewer, error) {
	v := viewer.FromContext(ctx)
	u, err := r.client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	t, err := r.client.Tenant.Get(ctx, v.TenantID)
	if err != nil {
		return nil, err
	}
	out := &model.Viewer{User: u, Tenant: t, Permissions: []*model.ViewerPermission{}}
	for _, p := range viewer.AllPermissions() {
		if s, ok := v.ScopeFor(p); ok {
			out.Permissions = append(out.Permissions, &model.ViewerPermission{Permission: p, Scope: s})
		}
	}
	return out, nil
}
