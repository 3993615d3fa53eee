package forms

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldenFile is a schema with documents and the items each must produce;
// "items": null means the document is valid. A case gives its document as
// JSON ("data") or, for malformed documents, as text ("raw").
type goldenFile struct {
	Schema json.RawMessage `json:"schema"`
	Cases  []struct {
		Name  string          `json:"name"`
		Data  json.RawMessage `json:"data,omitempty"`
		Raw   *string         `json:"raw,omitempty"`
		Items []Item          `json:"items"`
	} `json:"cases"`
}

// TestValidationGolden validates the documents of testdata/validation/*.json.
// FORMS_UPDATE_GOLDEN=1 rewrites the expected items from what Validate
// returns; review the diff.
func TestValidationGolden(t *testing.T) {
	update := os.Getenv("FORMS_UPDATE_GOLDEN") == "1"
	installFormats(t)
	files, err := filepath.Glob(filepath.Join("testdata", "validation", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	c := NewCompiler(CompilerOptions{})
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g goldenFile
			if err := json.Unmarshal(raw, &g); err != nil {
				t.Fatal(err)
			}
			v, err := c.Compile(g.Schema)
			if err != nil {
				t.Fatal(err)
			}
			for i := range g.Cases {
				tc := &g.Cases[i]
				t.Run(tc.Name, func(t *testing.T) {
					doc := []byte(tc.Data)
					if tc.Raw != nil {
						doc = []byte(*tc.Raw)
					}
					verr, err := v.Validate(context.Background(), doc)
					if err != nil {
						t.Fatal(err)
					}
					var got []Item
					if verr != nil {
						got = verr.Items
					}
					if update {
						tc.Items = got
						return
					}
					if !reflect.DeepEqual(got, tc.Items) {
						gb, _ := json.MarshalIndent(got, "", "  ")
						t.Errorf("items:\n%s", gb)
					}
				})
			}
			if update {
				writeGolden(t, file, raw, &g)
			}
		})
	}
}

// writeGolden rewrites file's cases, keeping its schema as written, one
// item a line.
func writeGolden(t *testing.T, file string, raw []byte, g *goldenFile) {
	t.Helper()
	head, _, ok := strings.Cut(string(raw), "\n  \"cases\": [")
	if !ok {
		t.Fatalf("%s: cannot find the cases", file)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("\n  \"cases\": [\n")
	for i, tc := range g.Cases {
		name, _ := json.Marshal(tc.Name)
		b.WriteString("    {\n      \"name\": " + string(name) + ",\n")
		if tc.Raw != nil {
			r, _ := json.Marshal(*tc.Raw)
			b.WriteString("      \"raw\": " + string(r) + ",\n")
		} else {
			b.WriteString("      \"data\": " + string(tc.Data) + ",\n")
		}
		if tc.Items == nil {
			b.WriteString("      \"items\": null\n    }")
		} else {
			b.WriteString("      \"items\": [\n")
			for j, it := range tc.Items {
				ib, _ := json.Marshal(it)
				b.WriteString("        " + string(ib))
				if j < len(tc.Items)-1 {
					b.WriteString(",")
				}
				b.WriteString("\n")
			}
			b.WriteString("      ]\n    }")
		}
		if i < len(g.Cases)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("  ]\n}\n")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// installFormats installs the built-in formats, as the server does at
// start-up. Installing them again (from another test's registry) changes
// nothing: the checkers are the same.
func installFormats(t testing.TB) *Registry {
	t.Helper()
	reg, err := DefaultRegistry()
	if err != nil {
		t.Fatal(err)
	}
	reg.InstallFormats()
	return reg
}
