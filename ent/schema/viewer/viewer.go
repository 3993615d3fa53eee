// Package viewer owns the identity on whose behalf a request, job or command
// runs: its tenant, user, department, locale and role grants, and the data
// scope each permission reaches. It is a leaf package: it imports neither ent
// nor authn, so privacy rules, resolvers and authenticators can all use it.
package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// Scope says which records a permission reaches.
type Scope string

// The data scopes, from narrowest to widest.
const (
	ScopeSelf                Scope = "self"
	ScopeSelfAndSubordinates Scope = "self_and_subordinates"
	ScopeDepartment          Scope = "department"
	ScopeDepartmentTree      Scope = "department_tree"
	ScopeAll                 Scope = "all"
)

// Scopes lists every scope from narrowest to widest.
var scopeOrder = []Scope{ScopeSelf, ScopeSelfAndSubordinates, ScopeDepartment, ScopeDepartmentTree, ScopeAll}

// Scopes returns every scope from narrowest to widest.
func Scopes() []Scope { return slices.Clone(scopeOrder) }

// Values lists the scope values for ent's enum field.
func (Scope) Values() []string {
	out := make([]string, len(scopeOrder))
	for i, s := range scopeOrder {
		out[i] = string(s)
	}
	return out
}

// Wider reports whether s reaches more records than other.
func (s Scope) Wider(other Scope) bool {
	return slices.Index(scopeOrder, s) > slices.Index(scopeOrder, other)
}

// Valid reports whether s is one of the known scopes.
func (s Scope) Valid() bool { return slices.Contains(scopeOrder, s) }

// Grant is one role held by the viewer.
type Grant struct {
	RoleID      pulid.ID
	Permissions []string
	Scope       Scope
	// ExpiresAt is zero for grants that do not expire.
	ExpiresAt time.Time
}

// Viewer is who is acting. The zero Viewer is anonymous and may do nothing.
type Viewer struct {
	TenantID     pulid.ID
	UserID       pulid.ID
	DepartmentID pulid.ID
	Locale       string
	Grants       []Grant

	// Now is the instant the viewer was loaded; grants are judged against it.
	Now time.Time

	// Subordinates holds the users who report to the viewer, directly or
	// indirectly. It is filled only when a grant has the
	// self_and_subordinates scope.
	Subordinates []pulid.ID
	// LedDepartments holds the departments the viewer leads and their
	// sub-departments. It is filled only when a grant has the
	// self_and_subordinates scope.
	LedDepartments []pulid.ID
	// DepartmentTree holds the viewer's department and its sub-departments.
	// It is filled only when a grant has the department_tree scope.
	DepartmentTree []pulid.ID

	// SessionID is the session the request came with, if any.
	SessionID pulid.ID
	// StrongAuthAt is when the session last proved a second factor or a
	// passkey (or a password, for users without a second factor in tenants
	// that do not require one). Sensitive operations need it to be recent.
	StrongAuthAt time.Time
	// APIToken marks requests authenticated by an API token; the grants'
	// permissions are already cut down to the token's.
	APIToken bool

	// System marks the audited system context used by maintenance jobs and
	// the command line. It passes every privacy rule within TenantID (or in
	// every tenant when TenantID is empty).
	System bool
	// Reason says why a system context was opened; it is recorded with
	// everything the context writes.
	Reason string
}

// Authenticated reports whether v acts for a signed-in user.
func (v Viewer) Authenticated() bool { return v.UserID != "" && v.TenantID != "" }

// ScopeFor returns the widest scope among v's unexpired grants of roles that
// hold permission, and false when no such grant exists.
func (v Viewer) ScopeFor(permission string) (Scope, bool) {
	var (
		best  Scope
		found bool
	)
	for _, g := range v.Grants {
		if !g.ExpiresAt.IsZero() && !g.ExpiresAt.After(v.Now) {
			continue
		}
		if !slices.Contains(g.Permissions, permission) {
			continue
		}
		if !found || g.Scope.Wider(best) {
			best, found = g.Scope, true
		}
	}
	return best, found
}

// Can reports whether v holds permission in any scope.
func (v Viewer) Can(permission string) bool {
	if v.System {
		return true
	}
	_, ok := v.ScopeFor(permission)
	return ok
}

// NeedsScope reports whether any unexpired grant of v has scope s, so that
// loaders know which scope sets to compute.
func (v Viewer) NeedsScope(s Scope) bool {
	for _, g := range v.Grants {
		if g.Scope == s && (g.ExpiresAt.IsZero() || g.ExpiresAt.After(v.Now)) {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// NewContext returns a copy of ctx that carries v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil when there is none.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// NewSystemContext returns a copy of ctx that acts as the system within
// tenantID (every tenant when tenantID is empty). reason is recorded with
// what the context writes. Only maintenance jobs and the command line may
// call it; callers log the reason.
func NewSystemContext(ctx context.Context, tenantID pulid.ID, reason string, now time.Time) context.Context {
	return NewContext(ctx, &Viewer{TenantID: tenantID, System: true, Reason: reason, Now: now})
}

// MarshalGQL writes s as a GraphQL enum value.
func (s Scope) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(s)))
}

// UnmarshalGQL reads s from a GraphQL enum value.
func (s *Scope) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("scope must be a string")
	}
	sc := Scope(str)
	if !sc.Valid() {
		return fmt.Errorf("%q is not a data scope", str)
	}
	*s = sc
	return nil
}
