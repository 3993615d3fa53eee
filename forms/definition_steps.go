package forms

import (
	"errors"
	"fmt"
	"strconv"
)

// The operations of migration steps.
const (
	// StepRename moves the value of From to To.
	StepRename = "rename"
	// StepSetDefault sets Field to Value where it is absent or null.
	StepSetDefault = "set_default"
	// StepDrop removes Field.
	StepDrop = "drop"
)

// ErrStepConflict marks a record a rename step cannot migrate: it already
// holds a value under the new name.
var ErrStepConflict = errors.New("forms: migration step conflicts with the record")

// Step is one change a record undergoes when it moves from one form version
// to the next. Steps name top-level fields.
type Step struct {
	// Op is StepRename, StepSetDefault or StepDrop.
	Op string `json:"op"`
	// From and To are the old and new names of a renamed field.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Field is the field a set_default or drop step is about.
	Field string `json:"field,omitempty"`
	// Value is the default of a set_default step, decoded JSON; it must
	// not be null.
	Value any `json:"value,omitempty"`
}

// checkStepShapes records what is wrong with the shape of steps: a known
// op with the parameters it needs, names that are identifiers, and nothing
// else.
func checkStepShapes(probs *problemList, steps []Step) {
	for i, s := range steps {
		sp := "/steps/" + strconv.Itoa(i)
		need := func(key, v string) {
			kp := childPointer(sp, key)
			switch {
			case v == "":
				probs.add(kp, "form.definition.missing", nil)
			case !isIdentifier(v):
				probs.add(kp, "form.definition.propertyKey", nil)
			}
		}
		refuse := func(key string, set bool) {
			if set {
				probs.add(childPointer(sp, key), "form.definition.unknownKey", nil)
			}
		}
		switch s.Op {
		case StepRename:
			need("from", s.From)
			need("to", s.To)
			refuse("field", s.Field != "")
			refuse("value", s.Value != nil)
		case StepSetDefault:
			need("field", s.Field)
			if s.Value == nil {
				probs.add(childPointer(sp, "value"), "form.definition.missing", nil)
			}
			refuse("from", s.From != "")
			refuse("to", s.To != "")
		case StepDrop:
			need("field", s.Field)
			refuse("from", s.From != "")
			refuse("to", s.To != "")
			refuse("value", s.Value != nil)
		case "":
			probs.add(childPointer(sp, "op"), "form.definition.missing", nil)
		default:
			probs.add(childPointer(sp, "op"), "form.definition.stepOp", nil)
		}
	}
}

// ApplySteps returns a copy of data (a record of the old version) migrated
// by steps, in order; data is not modified. A rename of an absent field and
// a drop of an absent field change nothing; set_default sets a copy of its
// value where the field is absent or null. Malformed steps fail with a
// *DefinitionError (pointers /steps/<i>/…) before anything is applied; a
// rename onto a field the record already holds fails with an error
// wrapping ErrStepConflict, which names the step.
func ApplySteps(data map[string]any, steps []Step) (map[string]any, error) {
	var probs problemList
	checkStepShapes(&probs, steps)
	if err := probs.err(); err != nil {
		return nil, err
	}
	out, _ := copyJSON(data).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	for i, s := range steps {
		switch s.Op {
		case StepRename:
			v, ok := out[s.From]
			if !ok || s.From == s.To {
				continue
			}
			if _, taken := out[s.To]; taken {
				return nil, fmt.Errorf("%w: /steps/%d/to: the record already holds %q", ErrStepConflict, i, s.To)
			}
			delete(out, s.From)
			out[s.To] = v
		case StepSetDefault:
			if v, ok := out[s.Field]; !ok || v == nil {
				out[s.Field] = copyJSON(s.Value)
			}
		case StepDrop:
			delete(out, s.Field)
		}
	}
	return out, nil
}

// CheckSteps checks the steps migrating records of the version from to the
// version to, as saving them requires: their shape (see ApplySteps), and
// their fields, followed through the steps in order. A rename's from must
// be a field of the record at that step (a field of from, or one an
// earlier step introduced) and its to a field of to that the record does
// not hold yet; a drop's field must be a field of the record at that step;
// a set_default's field must be a field of to. Problems come back together
// in a *DefinitionError whose pointers are /steps/<i>/<key>.
func CheckSteps(steps []Step, from, to *Form) error {
	var probs problemList
	checkStepShapes(&probs, steps)
	if err := probs.err(); err != nil {
		return err
	}
	current := make(map[string]bool)
	for _, f := range from.fields {
		current[f] = true
	}
	target := make(map[string]bool)
	for _, f := range to.fields {
		target[f] = true
	}
	for i, s := range steps {
		sp := "/steps/" + strconv.Itoa(i)
		switch s.Op {
		case StepRename:
			fromOK := current[s.From]
			if !fromOK {
				probs.add(childPointer(sp, "from"), "form.definition.unknownField", nil, "field", s.From)
			}
			switch {
			case !target[s.To]:
				probs.add(childPointer(sp, "to"), "form.definition.unknownField", nil, "field", s.To)
			case current[s.To] && s.To != s.From:
				probs.add(childPointer(sp, "to"), "form.definition.fieldExists", nil, "field", s.To)
			}
			if fromOK {
				delete(current, s.From)
				current[s.To] = true
			}
		case StepDrop:
			if !current[s.Field] {
				probs.add(childPointer(sp, "field"), "form.definition.unknownField", nil, "field", s.Field)
			}
			delete(current, s.Field)
		case StepSetDefault:
			if !target[s.Field] {
				probs.add(childPointer(sp, "field"), "form.definition.unknownField", nil, "field", s.Field)
			}
			current[s.Field] = true
		}
	}
	return probs.err()
}
