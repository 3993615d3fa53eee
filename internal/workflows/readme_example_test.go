package workflows_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/workflows"
)

// TestReadmeExample keeps the README's example workflow valid: it is
// checked against a form with the fields it names.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Workflows.*?```json\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no example in the README's Workflows section")
	}
	reg, err := forms.DefaultRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if err := workflows.RegisterPlugins(reg); err != nil {
		t.Fatal(err)
	}
	schema := []byte(`{"type": "object", "properties": {"priority": {"type": "string"}, "summary": {"type": "string"}}}`)
	_, err = flows.Parse(m[1], flows.Options{
		Schema:          schema,
		KnownPlugin:     func(id string) bool { _, ok := reg.Plugin(id); return ok },
		KnownRole:       func(r string) bool { return r == "admin" || r == "manager" || r == "sales" },
		KnownPermission: viewer.KnownPermission,
	})
	if err != nil {
		t.Fatal(err)
	}
}
