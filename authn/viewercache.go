package authn

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/user"
)

// DefaultViewerCacheTTL is how long a loaded viewer serves further requests
// of its user. Two seconds turns the six statements of loading a manager's
// viewer into six per user per two seconds for a busy client (a page of a
// front-end sends its requests within a second or two), while a change made
// through another server process reaches this one's requests within two
// seconds; changes made through this process apply from the next request.
const DefaultViewerCacheTTL = 2 * time.Second

// ViewerCacheOff, as Config.ViewerCacheTTL, turns the viewer cache off.
const ViewerCacheOff time.Duration = -1

// viewerCacheSize bounds the number of users whose viewers are kept.
const viewerCacheSize = 4096

// viewerCache keeps recently loaded viewers per user for a short time. It
// holds what LoadViewer derives from the user, their grants and roles, the
// tenant's departments and reporting lines, and the tenant; never anything
// about the session, which is looked up on every request.
//
// Changes made through the client it is installed on invalidate it after
// they commit: a change in a known tenant bumps that tenant's generation,
// any other bumps the global one. Each entry remembers the generations read
// before its records were, so an entry loaded from data that a concurrent
// commit has since replaced is never stored or served.
type viewerCache struct {
	ttl time.Duration

	mu      sync.Mutex
	global  uint64
	tenants map[pulid.ID]uint64
	entries map[viewerKey]*cachedViewer
}

type viewerKey struct{ tenantID, userID pulid.ID }

// generation identifies the state of the cache's invalidations that an
// entry was loaded under.
type generation struct{ global, tenant uint64 }

// cachedViewer is what a request needs of a loaded viewer.
type cachedViewer struct {
	// viewer is never handed out: every request gets a copy.
	viewer       viewer.Viewer
	userLocale   string
	tenantLocale string
	idle         time.Duration

	gen     generation
	expires time.Time
}

// newViewerCache returns a cache keeping viewers for ttl (zero: the
// default), or nil when ttl is negative.
func newViewerCache(ttl time.Duration) *viewerCache {
	if ttl < 0 {
		return nil
	}
	if ttl == 0 {
		ttl = DefaultViewerCacheTTL
	}
	return &viewerCache{ttl: ttl, tenants: map[pulid.ID]uint64{}, entries: map[viewerKey]*cachedViewer{}}
}

// generation returns the current generation for tenantID; read it before
// loading the records an entry is made from.
func (c *viewerCache) generation(tenantID pulid.ID) generation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return generation{c.global, c.tenants[tenantID]}
}

// get returns the live entry for k at now.
func (c *viewerCache) get(k viewerKey, now time.Time) (*cachedViewer, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return nil, false
	}
	if !now.Before(e.expires) || e.gen != (generation{c.global, c.tenants[k.tenantID]}) {
		delete(c.entries, k)
		return nil, false
	}
	return e, true
}

// put stores e under k unless something changed since e.gen was read.
func (c *viewerCache) put(k viewerKey, e *cachedViewer, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.gen != (generation{c.global, c.tenants[k.tenantID]}) {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= viewerCacheSize {
		c.sweep(now)
		for victim := range c.entries {
			if len(c.entries) < viewerCacheSize {
				break
			}
			delete(c.entries, victim)
		}
	}
	c.entries[k] = e
}

// sweep drops expired and invalidated entries; c.mu is held.
func (c *viewerCache) sweep(now time.Time) {
	for k, e := range c.entries {
		if !now.Before(e.expires) || e.gen != (generation{c.global, c.tenants[k.tenantID]}) {
			delete(c.entries, k)
		}
	}
}

// invalidateTenant drops every viewer of tenantID.
func (c *viewerCache) invalidateTenant(tenantID pulid.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tenants[tenantID]++
}

// invalidateAll drops every viewer.
func (c *viewerCache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global++
	// Every entry is stale now, and a new global generation makes the
	// tenants' generations irrelevant to loads started before it.
	clear(c.entries)
	clear(c.tenants)
}

// InvalidateViewers drops the cached viewers of tenantID (of every tenant
// when empty), so that their next requests load them again. Changes made
// through the Service's client call it by themselves after they commit;
// code that changes users, roles, grants, departments or tenants another way
// (raw SQL) must call it after its commit.
func (s *Service) InvalidateViewers(tenantID pulid.ID) {
	switch {
	case s.viewers == nil:
	case tenantID == "":
		s.viewers.invalidateAll()
	default:
		s.viewers.invalidateTenant(tenantID)
	}
}

// install adds the hooks that invalidate the cache to client's users,
// roles, grants, departments and tenants.
func (c *viewerCache) install(client *ent.Client) {
	h := c.hook()
	client.User.Use(h)
	client.Role.Use(h)
	client.RoleGrant.Use(h)
	client.Department.Use(h)
	client.Tenant.Use(h)
}

// hook invalidates the cache once a change that may alter viewers has
// committed (at once outside a transaction): the tenant's viewers when the
// changed record is known, all of them otherwise (bulk updates, deletes).
func (c *viewerCache) hook() ent.Hook {
	return func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil || !altersViewers(m) {
				return v, err
			}
			tenantID := tenantOf(v)
			drop := func() {
				if tenantID != "" {
					c.invalidateTenant(tenantID)
				} else {
					c.invalidateAll()
				}
			}
			if txm, ok := m.(interface{ Tx() (*ent.Tx, error) }); ok {
				if tx, terr := txm.Tx(); terr == nil {
					tx.OnCommit(func(next ent.Committer) ent.Committer {
						return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
							err := next.Commit(ctx, tx)
							drop()
							return err
						})
					})
					return v, nil
				}
			}
			drop()
			return v, nil
		})
	}
}

// userFieldsOutsideViewers are the user fields no viewer is loaded from:
// sign-in bookkeeping and personal data. A change to any other field, or
// to an edge, invalidates.
var userFieldsOutsideViewers = map[string]bool{
	user.FieldUpdatedAt: true, user.FieldName: true, user.FieldDataKey: true,
	user.FieldEmail: true, user.FieldEmailBidx: true, user.FieldTotpSecret: true,
	user.FieldPasswordHash: true, user.FieldMustChangePassword: true, user.FieldPasswordChangedAt: true,
	user.FieldFailedLogins: true, user.FieldLockCount: true, user.FieldLockedUntil: true,
	user.FieldTotpLastStep: true, user.FieldTotpEnabledAt: true, user.FieldRecoveryCodes: true,
}

// altersViewers reports whether m may change a viewer: any change to a
// role, grant, department or tenant, the creation or deletion of a user, and
// an update of a user's status, locale, department, manager or edges. Lock
// counters, second factors and passwords, written on every sign-in, do not.
func altersViewers(m ent.Mutation) bool {
	if m.Type() != ent.TypeUser || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
		return true
	}
	if len(m.AddedEdges()) > 0 || len(m.RemovedEdges()) > 0 || len(m.ClearedEdges()) > 0 {
		return true
	}
	for _, fields := range [][]string{m.Fields(), m.AddedFields(), m.ClearedFields()} {
		for _, f := range fields {
			if !userFieldsOutsideViewers[f] {
				return true
			}
		}
	}
	return false
}

// tenantOf returns the tenant of a record a mutation returned, or "" when
// the mutation returned none (bulk updates and deletes).
func tenantOf(v ent.Value) pulid.ID {
	switch r := v.(type) {
	case *ent.User:
		return r.TenantID
	case *ent.Role:
		return r.TenantID
	case *ent.RoleGrant:
		return r.TenantID
	case *ent.Department:
		return r.TenantID
	case *ent.Tenant:
		return r.ID
	}
	return ""
}

// entryFor builds a cache entry from a freshly loaded viewer.
func entryFor(l *Loaded, gen generation, expires time.Time) *cachedViewer {
	return &cachedViewer{
		viewer:       copyViewer(l.Viewer),
		userLocale:   l.User.Locale,
		tenantLocale: l.Tenant.Settings.Locale,
		idle:         time.Duration(l.Tenant.Settings.WithDefaults().Auth.Sessions.IdleMinutes) * time.Minute,
		gen:          gen,
		expires:      expires,
	}
}

// copyViewer returns a copy of v sharing no slice with it.
func copyViewer(v *viewer.Viewer) viewer.Viewer {
	c := *v
	c.Grants = slices.Clone(v.Grants)
	for i := range c.Grants {
		c.Grants[i].Permissions = slices.Clone(c.Grants[i].Permissions)
	}
	c.Subordinates = slices.Clone(v.Subordinates)
	c.LedDepartments = slices.Clone(v.LedDepartments)
	c.DepartmentTree = slices.Clone(v.DepartmentTree)
	return c
}
