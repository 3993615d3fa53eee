package authn

import (
	"fmt"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

func TestViewerCacheGenerations(t *testing.T) {
	now := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	a := viewerKey{"ten_a", "usr_1"}
	b := viewerKey{"ten_b", "usr_2"}
	entry := func(c *viewerCache, k viewerKey) *cachedViewer {
		return &cachedViewer{viewer: viewer.Viewer{TenantID: k.tenantID, UserID: k.userID}, gen: c.generation(k.tenantID), expires: now.Add(c.ttl)}
	}
	cases := []struct {
		name string
		// between runs after the generation is read and before the
		// entry is stored, as a commit racing with a load would.
		between     func(c *viewerCache)
		storedA     bool
		afterwardsB bool
	}{
		{"nothing changed", func(*viewerCache) {}, true, true},
		{"the tenant changed during the load", func(c *viewerCache) { c.invalidateTenant("ten_a") }, false, true},
		{"another tenant changed", func(c *viewerCache) { c.invalidateTenant("ten_b") }, true, false},
		{"an unknown tenant changed", func(c *viewerCache) { c.invalidateAll() }, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newViewerCache(0)
			c.put(b, entry(c, b), now)
			ea := entry(c, a)
			tc.between(c)
			c.put(a, ea, now)
			if _, ok := c.get(a, now); ok != tc.storedA {
				t.Errorf("entry of a served: %v, want %v", ok, tc.storedA)
			}
			if _, ok := c.get(b, now); ok != tc.afterwardsB {
				t.Errorf("entry of b served: %v, want %v", ok, tc.afterwardsB)
			}
		})
	}
	t.Run("entries expire", func(t *testing.T) {
		c := newViewerCache(time.Second)
		c.put(a, entry(c, a), now)
		if _, ok := c.get(a, now.Add(999*time.Millisecond)); !ok {
			t.Fatal("entry gone before its TTL")
		}
		if _, ok := c.get(a, now.Add(time.Second)); ok {
			t.Fatal("entry served after its TTL")
		}
	})
	t.Run("a negative TTL turns the cache off", func(t *testing.T) {
		if c := newViewerCache(ViewerCacheOff); c != nil {
			t.Fatal("cache built")
		}
	})
	t.Run("the number of entries is bounded", func(t *testing.T) {
		c := newViewerCache(0)
		for i := range viewerCacheSize + 100 {
			k := viewerKey{"ten_a", pulid.ID(fmt.Sprintf("usr_%d", i))}
			c.put(k, entry(c, k), now)
		}
		if n := len(c.entries); n > viewerCacheSize {
			t.Fatalf("%d entries", n)
		}
	})
}

func TestCopyViewerSharesNothing(t *testing.T) {
	v := &viewer.Viewer{
		Grants:         []viewer.Grant{{Permissions: []string{"customer:read"}}},
		Subordinates:   []pulid.ID{"usr_1"},
		LedDepartments: []pulid.ID{"dep_1"},
		DepartmentTree: []pulid.ID{"dep_2"},
	}
	c := copyViewer(v)
	c.Grants[0].Permissions[0] = "x"
	c.Subordinates[0], c.LedDepartments[0], c.DepartmentTree[0] = "x", "x", "x"
	if v.Grants[0].Permissions[0] != "customer:read" || v.Subordinates[0] != "usr_1" || v.LedDepartments[0] != "dep_1" || v.DepartmentTree[0] != "dep_2" {
		t.Fatalf("the copy shares memory with the original: %+v", v)
	}
}
