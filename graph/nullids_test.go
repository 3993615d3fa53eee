package graph_test

import "testing"

// TestUnsetReferencesReadAsNull checks that an optional reference that is
// not set (the root department's parent) reads as null, not as an empty id.
func TestUnsetReferencesReadAsNull(t *testing.T) {
	f := newFixture(t, "sqlite")
	var out struct {
		Departments struct {
			Edges []struct {
				Node struct {
					Name     string
					ParentID *string
				}
			}
		}
	}
	f.app.GraphQL(t, f.tokA, `{ departments { edges { node { name parentID } } } }`, nil).MustSucceed(t).Decode(t, &out)
	roots := 0
	for _, e := range out.Departments.Edges {
		switch {
		case e.Node.ParentID == nil:
			roots++
		case *e.Node.ParentID == "":
			t.Errorf("department %s: parentID is an empty string, want null", e.Node.Name)
		}
	}
	if roots != 1 {
		t.Errorf("%d departments without a parent, want the root only: %+v", roots, out)
	}
}
