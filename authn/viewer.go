// Package authn owns turning credentials into a viewer: password sign-in,
// sign-out, and the middleware that finds the session of each request and
// loads the viewer (user, tenant, grants and the scope sets their roles
// need), kept for a few seconds per user and dropped when what it was loaded
// from changes. Password hashing for requests runs behind a bounded number
// of slots with a bounded wait. Sub-packages hold the pieces: password
// hashing and sessions.
package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/department"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
)

// ErrInactive is returned when the user or their tenant may not sign in.
var ErrInactive = errors.New("authn: user or tenant is not active")

// Loaded is a viewer together with the records it was loaded from.
type Loaded struct {
	Viewer *viewer.Viewer
	User   *ent.User
	Tenant *ent.Tenant
}

// LoadViewer builds the viewer for a user of a tenant as of now: their
// grants, and the subordinate and department sets their scopes need. A job
// started by a user calls it again when it runs, so revoked rights stop it.
func LoadViewer(ctx context.Context, client *ent.Client, tenantID, userID pulid.ID, now time.Time) (*Loaded, error) {
	ctx = preAuth(ctx)
	u, err := client.User.Query().
		Where(user.ID(userID), user.TenantID(tenantID)).
		WithTenant().
		WithGrants(func(q *ent.RoleGrantQuery) { q.WithRole() }).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrInactive
	}
	if err != nil {
		return nil, fmt.Errorf("loading user: %w", err)
	}
	t := u.Edges.Tenant
	if u.Status != user.StatusActive || t == nil || t.Status != tenant.StatusActive {
		return nil, ErrInactive
	}
	v := &viewer.Viewer{
		TenantID:     tenantID,
		UserID:       userID,
		DepartmentID: u.DepartmentID,
		Locale:       u.Locale,
		Now:          now,
	}
	if v.Locale == "" {
		v.Locale = t.Settings.Locale
	}
	for _, g := range u.Edges.Grants {
		if g.Edges.Role == nil {
			continue
		}
		vg := viewer.Grant{RoleID: g.RoleID, Permissions: g.Edges.Role.Permissions, Scope: g.Edges.Role.Scope}
		if g.ExpiresAt != nil {
			vg.ExpiresAt = *g.ExpiresAt
		}
		v.Grants = append(v.Grants, vg)
	}
	if err := loadScopeSets(ctx, client, v); err != nil {
		return nil, err
	}
	return &Loaded{Viewer: v, User: u, Tenant: t}, nil
}

// loadScopeSets fills the sets only the scopes the viewer holds need.
func loadScopeSets(ctx context.Context, client *ent.Client, v *viewer.Viewer) error {
	needSubordinates := v.NeedsScope(viewer.ScopeSelfAndSubordinates)
	needTree := v.NeedsScope(viewer.ScopeDepartmentTree)
	if !needSubordinates && !needTree {
		return nil
	}
	depts, err := client.Department.Query().
		Where(department.TenantID(v.TenantID)).
		Select(department.FieldID, department.FieldParentID, department.FieldLeaderID).
		All(ctx)
	if err != nil {
		return fmt.Errorf("loading departments: %w", err)
	}
	children := map[pulid.ID][]pulid.ID{}
	for _, d := range depts {
		if d.ParentID != "" {
			children[d.ParentID] = append(children[d.ParentID], d.ID)
		}
	}
	if needTree && v.DepartmentID != "" {
		v.DepartmentTree = closure(children, []pulid.ID{v.DepartmentID})
	}
	if !needSubordinates {
		return nil
	}
	var led []pulid.ID
	for _, d := range depts {
		if d.LeaderID == v.UserID {
			led = append(led, d.ID)
		}
	}
	v.LedDepartments = closure(children, led)
	reports, err := client.User.Query().
		Where(user.TenantID(v.TenantID), user.ReportsToIDNotNil()).
		Select(user.FieldID, user.FieldReportsToID).
		All(ctx)
	if err != nil {
		return fmt.Errorf("loading reporting lines: %w", err)
	}
	direct := map[pulid.ID][]pulid.ID{}
	for _, r := range reports {
		direct[r.ReportsToID] = append(direct[r.ReportsToID], r.ID)
	}
	v.Subordinates = closure(direct, direct[v.UserID])
	return nil
}

// closure returns roots and everything reachable from them through next.
func closure(next map[pulid.ID][]pulid.ID, roots []pulid.ID) []pulid.ID {
	seen := map[pulid.ID]bool{}
	var out []pulid.ID
	queue := append([]pulid.ID(nil), roots...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		queue = append(queue, next[id]...)
	}
	return out
}
