package forms

import (
	"errors"
	"reflect"
	"testing"
)

func TestApplySteps(t *testing.T) {
	tests := []struct {
		name     string
		data     map[string]any
		steps    []Step
		want     map[string]any
		conflict bool
		problems []goldenProblem
	}{
		{"no steps", map[string]any{"a": 1.0}, nil, map[string]any{"a": 1.0}, false, nil},
		{"nil data", nil, []Step{{Op: StepSetDefault, Field: "a", Value: "x"}}, map[string]any{"a": "x"}, false, nil},
		{"rename", map[string]any{"a": 1.0, "b": 2.0}, []Step{{Op: StepRename, From: "a", To: "c"}}, map[string]any{"c": 1.0, "b": 2.0}, false, nil},
		{"rename keeps null", map[string]any{"a": nil}, []Step{{Op: StepRename, From: "a", To: "c"}}, map[string]any{"c": nil}, false, nil},
		{"rename of an absent field", map[string]any{"b": 2.0}, []Step{{Op: StepRename, From: "a", To: "c"}}, map[string]any{"b": 2.0}, false, nil},
		{"rename onto a value", map[string]any{"a": 1.0, "c": 3.0}, []Step{{Op: StepRename, From: "a", To: "c"}}, nil, true, nil},
		{"rename to itself", map[string]any{"a": 1.0}, []Step{{Op: StepRename, From: "a", To: "a"}}, map[string]any{"a": 1.0}, false, nil},
		{"set_default of an absent field", map[string]any{}, []Step{{Op: StepSetDefault, Field: "level", Value: "normal"}}, map[string]any{"level": "normal"}, false, nil},
		{"set_default of a null field", map[string]any{"level": nil}, []Step{{Op: StepSetDefault, Field: "level", Value: "normal"}}, map[string]any{"level": "normal"}, false, nil},
		{"set_default keeps a value", map[string]any{"level": "high"}, []Step{{Op: StepSetDefault, Field: "level", Value: "normal"}}, map[string]any{"level": "high"}, false, nil},
		{"set_default of an object", map[string]any{}, []Step{{Op: StepSetDefault, Field: "addr", Value: map[string]any{"city": "Berlin"}}}, map[string]any{"addr": map[string]any{"city": "Berlin"}}, false, nil},
		{"drop", map[string]any{"a": 1.0, "b": 2.0}, []Step{{Op: StepDrop, Field: "a"}}, map[string]any{"b": 2.0}, false, nil},
		{"drop of an absent field", map[string]any{"b": 2.0}, []Step{{Op: StepDrop, Field: "a"}}, map[string]any{"b": 2.0}, false, nil},
		{"steps in order", map[string]any{"a": 1.0, "b": 2.0, "c": 3.0}, []Step{
			{Op: StepRename, From: "a", To: "x"},
			{Op: StepDrop, Field: "c"},
			{Op: StepSetDefault, Field: "c", Value: true},
			{Op: StepSetDefault, Field: "x", Value: 9.0},
		}, map[string]any{"x": 1.0, "b": 2.0, "c": true}, false, nil},
		{"swap through a temporary name", map[string]any{"a": 1.0, "b": 2.0}, []Step{
			{Op: StepRename, From: "a", To: "tmp"},
			{Op: StepRename, From: "b", To: "a"},
			{Op: StepRename, From: "tmp", To: "b"},
		}, map[string]any{"a": 2.0, "b": 1.0}, false, nil},
		{"malformed steps", map[string]any{"a": 1.0}, []Step{
			{Op: "move", From: "a", To: "b"},
			{Op: StepRename, From: "a"},
			{Op: StepSetDefault, Field: "a"},
			{Op: StepDrop, Field: "a", From: "b", Value: 1.0},
			{Op: StepDrop, Field: "first name"},
			{},
		}, nil, false, []goldenProblem{
			{"/steps/0/op", "form.definition.stepOp"},
			{"/steps/1/to", "form.definition.missing"},
			{"/steps/2/value", "form.definition.missing"},
			{"/steps/3/from", "form.definition.unknownKey"},
			{"/steps/3/value", "form.definition.unknownKey"},
			{"/steps/4/field", "form.definition.propertyKey"},
			{"/steps/5/op", "form.definition.missing"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := copyJSON(tt.data)
			got, err := ApplySteps(tt.data, tt.steps)
			if !reflect.DeepEqual(copyJSON(tt.data), before) {
				t.Errorf("ApplySteps modified its input: %v", tt.data)
			}
			switch {
			case tt.conflict:
				if !errors.Is(err, ErrStepConflict) {
					t.Errorf("ApplySteps = %v, %v; want ErrStepConflict", got, err)
				}
			case tt.problems != nil:
				var de *DefinitionError
				if !errors.As(err, &de) {
					t.Fatalf("ApplySteps = %v, want a *DefinitionError", err)
				}
				var probs []goldenProblem
				for _, p := range de.Problems {
					probs = append(probs, goldenProblem{p.Pointer, p.MessageKey})
				}
				if !reflect.DeepEqual(probs, tt.problems) {
					t.Errorf("problems = %v, want %v", probs, tt.problems)
				}
			default:
				if err != nil {
					t.Fatalf("ApplySteps: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ApplySteps = %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("defaults are copied", func(t *testing.T) {
		steps := []Step{{Op: StepSetDefault, Field: "tags", Value: []any{"a"}}}
		got, err := ApplySteps(map[string]any{}, steps)
		if err != nil {
			t.Fatal(err)
		}
		got["tags"].([]any)[0] = "changed"
		if steps[0].Value.([]any)[0] != "a" {
			t.Error("the record shares the step's value")
		}
	})
}

func TestCheckSteps(t *testing.T) {
	d := newTestDesigner(t)
	check := func(schema string) *Form {
		t.Helper()
		f, err := d.Check([]byte(`{"schema": ` + schema + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	from := check(`{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}}`)
	to := check(`{"type": "object", "properties": {"a2": {"type": "string"}, "b": {"type": "string"}, "d": {"type": "string"}}}`)
	tests := []struct {
		name     string
		steps    []Step
		problems []goldenProblem
	}{
		{"none", nil, nil},
		{"valid", []Step{{Op: StepRename, From: "a", To: "a2"}, {Op: StepDrop, Field: "c"}, {Op: StepSetDefault, Field: "d", Value: "x"}}, nil},
		{"unknown from", []Step{{Op: StepRename, From: "x", To: "a2"}}, []goldenProblem{{"/steps/0/from", "form.definition.unknownField"}}},
		{"to not in the new version", []Step{{Op: StepRename, From: "a", To: "zz"}}, []goldenProblem{{"/steps/0/to", "form.definition.unknownField"}}},
		{"to already held", []Step{{Op: StepRename, From: "a", To: "b"}}, []goldenProblem{{"/steps/0/to", "form.definition.fieldExists"}}},
		{"drop of an unknown field", []Step{{Op: StepDrop, Field: "x"}}, []goldenProblem{{"/steps/0/field", "form.definition.unknownField"}}},
		{"default for a field the new version lacks", []Step{{Op: StepSetDefault, Field: "c", Value: 1.0}}, []goldenProblem{{"/steps/0/field", "form.definition.unknownField"}}},
		{"fields are followed through the steps", []Step{{Op: StepRename, From: "a", To: "a2"}, {Op: StepDrop, Field: "a"}, {Op: StepRename, From: "a2", To: "d"}},
			[]goldenProblem{{"/steps/1/field", "form.definition.unknownField"}}},
		{"a dropped field may be renamed onto", []Step{{Op: StepDrop, Field: "b"}, {Op: StepRename, From: "c", To: "b"}}, nil},
		{"malformed steps are refused first", []Step{{Op: "copy"}, {Op: StepDrop, Field: "x"}}, []goldenProblem{{"/steps/0/op", "form.definition.stepOp"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSteps(tt.steps, from, to)
			if tt.problems == nil {
				if err != nil {
					t.Errorf("CheckSteps: %v", err)
				}
				return
			}
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("CheckSteps = %v, want a *DefinitionError", err)
			}
			var probs []goldenProblem
			for _, p := range de.Problems {
				probs = append(probs, goldenProblem{p.Pointer, p.MessageKey})
			}
			if !reflect.DeepEqual(probs, tt.problems) {
				t.Errorf("problems = %v, want %v", probs, tt.problems)
			}
		})
	}
}
