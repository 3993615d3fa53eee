package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custos-crm/custos/forms/expr"
)

// Errors of the engine core; match them with errors.Is.
var (
	// ErrUnknownState is returned for a state the workflow does not have.
	ErrUnknownState = errors.New("flows: unknown state")
	// ErrUnknownTransition is returned for a transition the workflow does not have.
	ErrUnknownTransition = errors.New("flows: unknown transition")
)

// Viewer is the user a transition is checked for: the viewer guard
// expressions see (id, roles, permissions, department).
type Viewer = expr.Viewer

// Record is what the engine needs to know of a record.
type Record struct {
	// Data is the record's form data, decoded JSON.
	Data map[string]any
	// Assignee is the id of the user the record is assigned to, or "".
	Assignee string
}

// Reason is one reason a transition may not be taken.
type Reason struct {
	// Key says which check failed: ReasonState, ReasonRole, ReasonPermission,
	// ReasonAssignee, ReasonExpr, ReasonRequires, ReasonSchema or ReasonForm.
	Key string `json:"key"`
	// Pointer is the JSON Pointer of the failing rule in the definition,
	// such as "/transitions/0/guards/roles".
	Pointer string `json:"pointer"`
	// Field is, for requires, schema and form, the JSON Pointer of the
	// offending value in the record's data or in the input.
	Field string `json:"field,omitempty"`
	// Params fill the message's placeholders, such as "roles" or "field".
	Params map[string]string `json:"params,omitempty"`
	// Message is the message by locale: "en" and "zh-CN".
	Message map[string]string `json:"message"`
	// Detail says more for the flow's designer, in English, such as why an
	// expression could not be evaluated; it is not meant for end users.
	Detail string `json:"detail,omitempty"`
}

// Option is a transition the viewer may take from the record's state.
type Option struct {
	// Transition is the transition's key.
	Transition string
	// To is the state the transition moves the record to.
	To string
	// Name is the transition's display name by locale.
	Name map[string]string
	// Approval is the key of the approval step the transition opens, or "".
	Approval string
	// Form is the JSON Schema of the transition's input, or nil.
	Form json.RawMessage
	// Blocked lists the checks of the record's data (requires and schema)
	// that fail now: the option can be shown, but Check refuses it until
	// the record is completed.
	Blocked []Reason
}

// Decision is the outcome of Check.
type Decision struct {
	// Transition is the transition's key.
	Transition string
	// From is the state the record is in.
	From string
	// To is the state the transition moves the record to.
	To string
	// Approval is the key of the approval step the transition opens, or "".
	Approval string
	// Allowed reports whether the transition may be taken: no reason failed.
	Allowed bool
	// Reasons lists every check that failed, in the order: state, guards,
	// requires, schema, form.
	Reasons []Reason
	// Actions are the transition's actions, to run after commit.
	Actions []Plugin
}

// SimulatedOption is one transition out of a state, checked for a sample
// record and viewer.
type SimulatedOption struct {
	// Transition is the transition's key.
	Transition string
	// To is the state the transition moves the record to.
	To string
	// Name is the transition's display name by locale.
	Name map[string]string
	// Approval is the key of the approval step the transition opens, or "".
	Approval string
	// Passed reports whether every check passed.
	Passed bool
	// Reasons lists every check that failed.
	Reasons []Reason
}

// scope says which checks reasons runs.
type scope uint8

const (
	scopeGuards scope = 1 << iota // roles, permissions, assignee, expression
	scopeData                     // requires and schema
	scopeForm                     // the transition's form
)

// Available lists, in definition order, the transitions out of state whose
// guards pass for the viewer; each Option says which checks of the data
// still fail. The transition forms are not checked: there is no input yet.
// The error is ErrUnknownState, or a technical failure such as a cancelled
// ctx or a failing SchemaCheck.
func (w *Workflow) Available(ctx context.Context, state string, rec Record, v Viewer, now time.Time) ([]Option, error) {
	if _, ok := w.stateIndex[state]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownState, state)
	}
	var out []Option
	for i := range w.transitions {
		t := &w.transitions[i]
		if !slices.Contains(t.From, state) {
			continue
		}
		failed, err := w.reasons(ctx, t, state, rec, v, nil, now, scopeGuards)
		if err != nil {
			return nil, err
		}
		if len(failed) > 0 {
			continue
		}
		blocked, err := w.reasons(ctx, t, state, rec, v, nil, now, scopeData)
		if err != nil {
			return nil, err
		}
		out = append(out, Option{Transition: t.Key, To: t.To, Name: t.Name, Approval: t.Approval, Form: t.Form, Blocked: blocked})
	}
	return out, nil
}

// Check decides whether the viewer may take the transition with key from
// state, for the record and the transition's input (nil when there is
// none): it runs every check and reports every one that fails. A transition
// without a form takes no input. The error is ErrUnknownTransition,
// ErrUnknownState, or a technical failure such as a cancelled ctx or a
// failing SchemaCheck; a refused transition is a Decision, not an error.
func (w *Workflow) Check(ctx context.Context, key, state string, rec Record, v Viewer, input map[string]any, now time.Time) (Decision, error) {
	t, ok := w.Transition(key)
	if !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrUnknownTransition, key)
	}
	if _, ok := w.stateIndex[state]; !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrUnknownState, state)
	}
	failed, err := w.reasons(ctx, t, state, rec, v, input, now, scopeGuards|scopeData|scopeForm)
	if err != nil {
		return Decision{}, err
	}
	return Decision{
		Transition: t.Key,
		From:       state,
		To:         t.To,
		Approval:   t.Approval,
		Allowed:    len(failed) == 0,
		Reasons:    failed,
		Actions:    slices.Clone(t.Actions),
	}, nil
}

// Simulate lists every transition out of state, in definition order, with
// whether it passes for the sample record and viewer and every check that
// fails, so that a designer can try a flow before publishing it. It runs
// the checks of Check but the form's, since there is no input.
func (w *Workflow) Simulate(ctx context.Context, state string, rec Record, v Viewer, now time.Time) ([]SimulatedOption, error) {
	if _, ok := w.stateIndex[state]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownState, state)
	}
	var out []SimulatedOption
	for i := range w.transitions {
		t := &w.transitions[i]
		if !slices.Contains(t.From, state) {
			continue
		}
		failed, err := w.reasons(ctx, t, state, rec, v, nil, now, scopeGuards|scopeData)
		if err != nil {
			return nil, err
		}
		out = append(out, SimulatedOption{Transition: t.Key, To: t.To, Name: t.Name, Approval: t.Approval, Passed: len(failed) == 0, Reasons: failed})
	}
	return out, nil
}

// reasons runs the checks of sc on transition t and returns those that fail.
func (w *Workflow) reasons(ctx context.Context, t *Transition, state string, rec Record, v Viewer, input map[string]any, now time.Time, sc scope) ([]Reason, error) {
	ptr := item("/transitions", t.index)
	var out []Reason
	if !slices.Contains(t.From, state) {
		out = append(out, newReason(ReasonState, ptr+"/from", "", map[string]string{"state": state}))
	}
	if sc&scopeGuards != 0 {
		g := t.Guards
		if len(g.Roles) > 0 && !slices.ContainsFunc(g.Roles, func(r string) bool { return slices.Contains(v.Roles, r) }) {
			out = append(out, newReason(ReasonRole, ptr+"/guards/roles", "", map[string]string{"roles": strings.Join(g.Roles, ", ")}))
		}
		for j, perm := range g.Permissions {
			if !slices.Contains(v.Permissions, perm) {
				out = append(out, newReason(ReasonPermission, item(ptr+"/guards/permissions", j), "", map[string]string{"permission": perm}))
			}
		}
		if g.Assignee && (rec.Assignee == "" || rec.Assignee != v.ID) {
			out = append(out, newReason(ReasonAssignee, ptr+"/guards/assignee", "", nil))
		}
		if t.guard != nil {
			pass, err := t.guard.EvalBool(ctx, rec.Data, v, now)
			switch {
			case err == nil && pass:
			case err == nil:
				out = append(out, newReason(ReasonExpr, ptr+"/guards/expr", "", nil))
			case errors.Is(err, expr.ErrEval), errors.Is(err, expr.ErrCostLimit), errors.Is(err, expr.ErrNotBool):
				r := newReason(ReasonExpr, ptr+"/guards/expr", "", nil)
				r.Detail = err.Error()
				out = append(out, r)
			default:
				return nil, fmt.Errorf("flows: guard of transition %q: %w", t.Key, err)
			}
		}
	}
	if sc&scopeData != 0 {
		for j, f := range t.Requires {
			if isEmpty(lookup(rec.Data, f)) {
				out = append(out, newReason(ReasonRequires, item(ptr+"/requires", j), fieldPointer(f), map[string]string{"field": f}))
			}
		}
		if t.schemaCheck != nil {
			found, err := w.violations(ctx, t, t.schemaCheck, rec.Data, ReasonSchema, ptr+"/schema")
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		}
	}
	if sc&scopeForm != 0 {
		switch {
		case t.formCheck != nil:
			found, err := w.violations(ctx, t, t.formCheck, input, ReasonForm, ptr+"/form")
			if err != nil {
				return nil, err
			}
			out = append(out, found...)
		case len(input) > 0:
			r := newReason(ReasonForm, ptr, "", nil)
			r.Message = localize("form.none", nil)
			out = append(out, r)
		}
	}
	return out, nil
}

// violations runs a schema check and turns its violations into reasons.
func (w *Workflow) violations(ctx context.Context, t *Transition, check SchemaCheck, doc map[string]any, key, ptr string) ([]Reason, error) {
	if doc == nil {
		doc = map[string]any{}
	}
	found, err := check(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("flows: %s of transition %q: %w", key, t.Key, err)
	}
	out := make([]Reason, 0, len(found))
	for _, f := range found {
		params := map[string]string{"field": f.Pointer}
		if f.Keyword != "" {
			params["keyword"] = f.Keyword
		}
		r := newReason(key, ptr, f.Pointer, params)
		if len(f.Message) > 0 {
			r.Message = maps.Clone(f.Message)
		}
		out = append(out, r)
	}
	return out, nil
}

// newReason builds a reason with its messages.
func newReason(key, ptr, field string, params map[string]string) Reason {
	return Reason{Key: key, Pointer: ptr, Field: field, Params: params, Message: localize(key, params)}
}

// lookup returns the value at a dot-separated path of data, or nil.
func lookup(data map[string]any, path string) any {
	var cur any = data
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// fieldPointer turns a dot-separated path into a JSON Pointer.
func fieldPointer(path string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(path, ".") {
		b.WriteString("/")
		b.WriteString(escapePointer(part))
	}
	return b.String()
}

// isEmpty reports whether a value counts as not filled in: nil, "" (or
// only white space), an empty array or an empty object.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}
