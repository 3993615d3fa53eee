package flows

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/forms/expr"
)

// MaxDefinitionBytes is the size limit of a workflow definition: 256 KiB.
const MaxDefinitionBytes = 256 << 10

// Category groups states for boards and reports.
type Category string

// The categories a state may have.
const (
	CategoryTodo       Category = "todo"
	CategoryInProgress Category = "in_progress"
	CategoryDone       Category = "done"
)

// State is one state of a workflow.
type State struct {
	// Key identifies the state; records store it.
	Key string
	// Category is todo, in_progress or done.
	Category Category
	// Final marks a state no transition leaves. Only a done state may be final.
	Final bool
	// Name is the state's display name by locale; it may be empty.
	Name map[string]string
}

// FieldAccess restricts the form's fields in one state for some roles.
type FieldAccess struct {
	// State is the state the rule applies in.
	State string
	// Roles are the roles the rule applies to; none means every viewer.
	Roles []string
	// ReadOnly are the fields the viewer may see but not change, as
	// dot-separated paths of schema properties such as "amount".
	ReadOnly []string
	// Hidden are the fields the viewer may neither see nor change.
	Hidden []string
}

// Guards say who may take a transition. Every guard that is set must pass.
type Guards struct {
	// Roles lets only viewers with at least one of these roles through.
	Roles []string
	// Permissions lets only viewers with every one of these permissions through.
	Permissions []string
	// Assignee lets only the record's assignee through.
	Assignee bool
	// Expr is a CEL expression over data, viewer and now (see package expr)
	// that must be true.
	Expr string
}

// Plugin names a plugin registered elsewhere (an action "action.*" or an
// approver resolver "approver.*") and its configuration, which this package
// passes on without reading it.
type Plugin struct {
	// Type is the plugin's id, such as "action.set_field".
	Type string
	// Config is the plugin's configuration as JSON with object keys sorted,
	// or nil when the definition gives none.
	Config json.RawMessage
}

// Transition moves a record from one of its From states to its To state.
//
// A transition with an Approval moves the record to To at once (a state such
// as pending_approval) and opens the approval step; the step's outcome then
// moves the record on to the approval's OnApprove or OnReject state.
type Transition struct {
	// Key identifies the transition.
	Key string
	// From are the states the transition may be taken from.
	From []string
	// To is the state the transition moves the record to.
	To string
	// Name is the transition's display name by locale; it may be empty.
	Name map[string]string
	// Guards say who may take the transition.
	Guards Guards
	// Requires are fields of the record that must be filled in: not absent,
	// null, a blank string, [] or {} (false and 0 are values). They are
	// dot-separated paths of schema properties.
	Requires []string
	// Schema is a JSON Schema fragment the record's data must satisfy, or nil.
	Schema json.RawMessage
	// Form is the JSON Schema of the transition's own input (a comment, a
	// reason), or nil when the transition takes no input.
	Form json.RawMessage
	// Actions run after the transition is committed, in order.
	Actions []Plugin
	// Approval is the key of the approval step the transition opens, or "".
	Approval string

	index       int
	guard       *expr.Program
	schemaCheck SchemaCheck
	formCheck   SchemaCheck
}

// Approval is an approval step.
type Approval struct {
	// Key identifies the step.
	Key string
	// Mode says how the decisions combine; see Mode.
	Mode Mode
	// Ratio is the share of approvers that must approve in ModeRatio, in (0, 1].
	Ratio float64
	// Approvers is the approver resolver that lists the approvers.
	Approvers Plugin
	// Fallback is the approver resolver used when the step has no approver
	// left (see OutcomeNeedsFallback), or nil to use the tenant's fallback
	// approvers.
	Fallback *Plugin
	// AllowSelfApproval lets the submitter decide their own request.
	AllowSelfApproval bool
	// OnApprove is the state the record moves to when the step is approved.
	OnApprove string
	// OnReject is the state the record moves to when the step is rejected.
	OnReject string
}

// Step returns the step to tally for a request submitted by submitter, with
// approvers as the resolver listed them.
func (a *Approval) Step(approvers []string, submitter string) Step {
	return Step{
		Mode:              a.Mode,
		Ratio:             a.Ratio,
		Approvers:         slices.Clone(approvers),
		Submitter:         submitter,
		AllowSelfApproval: a.AllowSelfApproval,
	}
}

// Options configure Parse.
type Options struct {
	// Schema is the JSON Schema (draft-07) of the form whose records the
	// workflow moves. It types `data` in guard expressions and names the
	// fields requires and fieldAccess may list. Nil stands for a form
	// without fields.
	Schema []byte
	// KnownPlugin reports whether a plugin id is registered. Nil knows none.
	KnownPlugin func(id string) bool
	// KnownRole reports whether a role key exists. Nil knows none.
	KnownRole func(key string) bool
	// KnownPermission reports whether a permission name exists. Nil knows none.
	KnownPermission func(name string) bool
	// CompileSchema compiles the schema and form fragments of transitions,
	// so that the caller can plug in the forms validator. Nil uses the
	// built-in checker, which only knows a small part of JSON Schema (see
	// the package documentation) and refuses fragments that use more.
	CompileSchema func(schema json.RawMessage) (SchemaCheck, error)
}

// Workflow is a parsed, checked workflow definition. It is immutable and
// safe for concurrent use; the values its methods return share memory with
// it and must not be modified.
type Workflow struct {
	initial     string
	states      []State
	fieldAccess []FieldAccess
	transitions []Transition
	approvals   []Approval
	slas        []SLA

	stateIndex      map[string]int
	transitionIndex map[string]int
	approvalIndex   map[string]int
	slaIndex        map[string]int
}

// Initial returns the key of the state new records start in.
func (w *Workflow) Initial() string { return w.initial }

// States returns the states in definition order.
func (w *Workflow) States() []State { return slices.Clone(w.states) }

// State returns the state with key.
func (w *Workflow) State(key string) (*State, bool) {
	i, ok := w.stateIndex[key]
	if !ok {
		return nil, false
	}
	return &w.states[i], true
}

// Transitions returns the transitions in definition order.
func (w *Workflow) Transitions() []Transition { return slices.Clone(w.transitions) }

// Transition returns the transition with key.
func (w *Workflow) Transition(key string) (*Transition, bool) {
	i, ok := w.transitionIndex[key]
	if !ok {
		return nil, false
	}
	return &w.transitions[i], true
}

// Approvals returns the approval steps in definition order.
func (w *Workflow) Approvals() []Approval { return slices.Clone(w.approvals) }

// Approval returns the approval step with key.
func (w *Workflow) Approval(key string) (*Approval, bool) {
	i, ok := w.approvalIndex[key]
	if !ok {
		return nil, false
	}
	return &w.approvals[i], true
}

// SLAs returns the SLA timers in definition order.
func (w *Workflow) SLAs() []SLA { return slices.Clone(w.slas) }

// SLA returns the SLA timer with key.
func (w *Workflow) SLA(key string) (*SLA, bool) {
	i, ok := w.slaIndex[key]
	if !ok {
		return nil, false
	}
	return &w.slas[i], true
}

// FieldRules is what the field access rules say for one viewer in one state.
type FieldRules struct {
	// ReadOnly are the fields the viewer may not change, the hidden ones
	// included, sorted.
	ReadOnly []string
	// Hidden are the fields the viewer may not see, sorted.
	Hidden []string
}

// FieldRules combines the field access rules of state that apply to a
// viewer with roles: those that name none of the roles are ignored, the
// others add up.
func (w *Workflow) FieldRules(state string, roles []string) FieldRules {
	var out FieldRules
	for _, fa := range w.fieldAccess {
		if fa.State != state {
			continue
		}
		if len(fa.Roles) > 0 && !slices.ContainsFunc(fa.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			continue
		}
		out.ReadOnly = append(out.ReadOnly, fa.ReadOnly...)
		out.ReadOnly = append(out.ReadOnly, fa.Hidden...)
		out.Hidden = append(out.Hidden, fa.Hidden...)
	}
	slices.Sort(out.ReadOnly)
	slices.Sort(out.Hidden)
	out.ReadOnly = slices.Compact(out.ReadOnly)
	out.Hidden = slices.Compact(out.Hidden)
	return out
}

// Parse decodes a workflow definition and checks it against opts, reporting
// every problem it finds together as a Problems error (see the package
// documentation for the rules). An error that is not a Problems is about
// opts: a form schema that cannot be read.
func Parse(doc []byte, opts Options) (*Workflow, error) {
	if len(doc) > MaxDefinitionBytes {
		return nil, Problems{{Pointer: "", Message: fmt.Sprintf("the definition has %d bytes; at most %d are allowed", len(doc), MaxDefinitionBytes)}}
	}
	if !utf8.Valid(doc) {
		return nil, Problems{{Pointer: "", Message: "the definition is not valid UTF-8"}}
	}
	schema := opts.Schema
	if len(schema) == 0 {
		schema = []byte(`{"type":"object"}`)
	}
	env, err := expr.NewEnv(schema)
	if err != nil {
		return nil, fmt.Errorf("flows: form schema: %w", err)
	}
	fields, err := schemaFields(schema)
	if err != nil {
		return nil, fmt.Errorf("flows: form schema: %w", err)
	}
	tree, problems := decodeTree(doc)
	if tree == nil {
		return nil, problems
	}
	p := &parser{reader: reader{problems: problems}, opts: opts, env: env, fields: fields}
	w := p.decode(tree)
	if w != nil {
		p.check(w)
	}
	if len(p.problems) > 0 {
		sortProblems(p.problems)
		return nil, p.problems
	}
	return w, nil
}

// parser decodes and checks one definition.
type parser struct {
	reader
	opts   Options
	env    *expr.Env
	fields map[string]bool
}

// decode turns the tree into a Workflow, checking each value on its own.
func (p *parser) decode(tree any) *Workflow {
	root := p.object("", tree, "initial", "states", "fieldAccess", "transitions", "approvals", "sla")
	if root == nil {
		return nil
	}
	w := &Workflow{initial: p.str(root, "", "initial", true)}
	for i, v := range p.array(root, "", "states", true) {
		w.states = append(w.states, p.state(item("/states", i), v))
	}
	if _, ok := present(root, "states"); ok && len(w.states) == 0 {
		p.add("/states", "must list at least one state")
	}
	for i, v := range p.array(root, "", "fieldAccess", false) {
		w.fieldAccess = append(w.fieldAccess, p.fieldAccess(item("/fieldAccess", i), v))
	}
	for i, v := range p.array(root, "", "transitions", false) {
		t := p.transition(item("/transitions", i), v)
		t.index = i
		w.transitions = append(w.transitions, t)
	}
	for i, v := range p.array(root, "", "approvals", false) {
		w.approvals = append(w.approvals, p.approval(item("/approvals", i), v))
	}
	for i, v := range p.array(root, "", "sla", false) {
		w.slas = append(w.slas, p.sla(item("/sla", i), v))
	}
	return w
}

// item returns the pointer of element i of the array at ptr.
func item(ptr string, i int) string {
	return ptr + "/" + strconv.Itoa(i)
}

// state decodes one state.
func (p *parser) state(ptr string, v any) State {
	m := p.object(ptr, v, "key", "category", "final", "name")
	if m == nil {
		return State{}
	}
	s := State{
		Key:      p.str(m, ptr, "key", true),
		Category: Category(p.str(m, ptr, "category", true)),
		Final:    p.boolean(m, ptr, "final"),
		Name:     p.localized(m, ptr, "name"),
	}
	switch s.Category {
	case "", CategoryTodo, CategoryInProgress, CategoryDone:
	default:
		p.add(ptr+"/category", "%q is not a category: todo, in_progress or done", s.Category)
	}
	if s.Final && s.Category != CategoryDone && s.Category != "" {
		p.add(ptr+"/final", "a final state must be in category done, not %s", s.Category)
	}
	return s
}

// fieldAccess decodes one field access rule.
func (p *parser) fieldAccess(ptr string, v any) FieldAccess {
	m := p.object(ptr, v, "state", "roles", "readOnly", "hidden")
	if m == nil {
		return FieldAccess{}
	}
	fa := FieldAccess{
		State:    p.str(m, ptr, "state", true),
		Roles:    p.strs(m, ptr, "roles", false),
		ReadOnly: p.strs(m, ptr, "readOnly", false),
		Hidden:   p.strs(m, ptr, "hidden", false),
	}
	if len(fa.ReadOnly) == 0 && len(fa.Hidden) == 0 {
		p.add(ptr, "a field access rule must list readOnly or hidden fields")
	}
	return fa
}

// transition decodes one transition.
func (p *parser) transition(ptr string, v any) Transition {
	m := p.object(ptr, v, "key", "from", "to", "name", "guards", "requires", "schema", "form", "actions", "approval")
	if m == nil {
		return Transition{}
	}
	t := Transition{
		Key:      p.str(m, ptr, "key", true),
		From:     p.strs(m, ptr, "from", true),
		To:       p.str(m, ptr, "to", true),
		Name:     p.localized(m, ptr, "name"),
		Requires: p.strs(m, ptr, "requires", false),
		Schema:   p.raw(m, ptr, "schema"),
		Form:     p.raw(m, ptr, "form"),
		Approval: p.str(m, ptr, "approval", false),
	}
	if g, ok := present(m, "guards"); ok {
		gp := ptr + "/guards"
		if gm := p.object(gp, g, "roles", "permissions", "assignee", "expr"); gm != nil {
			t.Guards = Guards{
				Roles:       p.strs(gm, gp, "roles", false),
				Permissions: p.strs(gm, gp, "permissions", false),
				Assignee:    p.boolean(gm, gp, "assignee"),
				Expr:        p.str(gm, gp, "expr", false),
			}
		}
	}
	for i, a := range p.array(m, ptr, "actions", false) {
		t.Actions = append(t.Actions, p.plugin(item(ptr+"/actions", i), a, "action"))
	}
	return t
}

// approval decodes one approval step.
func (p *parser) approval(ptr string, v any) Approval {
	m := p.object(ptr, v, "key", "mode", "ratio", "approvers", "fallback", "allowSelfApproval", "onApprove", "onReject")
	if m == nil {
		return Approval{}
	}
	a := Approval{
		Key:               p.str(m, ptr, "key", true),
		Mode:              Mode(p.str(m, ptr, "mode", true)),
		AllowSelfApproval: p.boolean(m, ptr, "allowSelfApproval"),
		OnApprove:         p.str(m, ptr, "onApprove", true),
		OnReject:          p.str(m, ptr, "onReject", true),
	}
	switch a.Mode {
	case "", ModeAll, ModeAny, ModeSequential, ModeRatio:
	default:
		p.add(ptr+"/mode", "%q is not a mode: all, any, sequential or ratio", a.Mode)
	}
	ratio, hasRatio := p.number(m, ptr, "ratio")
	switch {
	case a.Mode == ModeRatio && !hasRatio:
		if _, there := present(m, "ratio"); !there {
			p.add(ptr+"/ratio", "is required in mode ratio")
		}
	case a.Mode == ModeRatio && (ratio <= 0 || ratio > 1):
		p.add(ptr+"/ratio", "must be greater than 0 and at most 1, not %v", ratio)
	case a.Mode != ModeRatio && hasRatio:
		p.add(ptr+"/ratio", "is only allowed in mode ratio")
	}
	if a.Mode == ModeRatio {
		a.Ratio = ratio
	}
	if ap, ok := present(m, "approvers"); ok {
		a.Approvers = p.plugin(ptr+"/approvers", ap, "approver")
	} else {
		p.add(ptr+"/approvers", "is required")
	}
	if fb, ok := present(m, "fallback"); ok {
		pl := p.plugin(ptr+"/fallback", fb, "approver")
		a.Fallback = &pl
	}
	return a
}

// sla decodes one SLA timer.
func (p *parser) sla(ptr string, v any) SLA {
	m := p.object(ptr, v, "key", "start", "stop", "pause", "target", "calendar", "warnAt", "breach")
	if m == nil {
		return SLA{}
	}
	s := SLA{
		Key:   p.str(m, ptr, "key", true),
		Start: p.enter(m, ptr, "start", true),
		Stop:  p.enter(m, ptr, "stop", true),
		Pause: p.enter(m, ptr, "pause", false),
		Clock: Clock(p.str(m, ptr, "calendar", false)),
	}
	switch s.Clock {
	case "":
		s.Clock = ClockCalendar
	case ClockCalendar, ClockWorking:
	default:
		p.add(ptr+"/calendar", "%q is not a clock: calendar or working", s.Clock)
	}
	if target := p.str(m, ptr, "target", true); target != "" {
		d, days, err := parseDuration(target)
		switch {
		case err != nil:
			p.add(ptr+"/target", "%s", strings.TrimPrefix(err.Error(), "flows: "))
		case days && s.Clock == ClockWorking:
			p.add(ptr+"/target", "days are ambiguous in working time; write working hours, such as 18h for two 9-hour days")
		default:
			s.Target = d
		}
	}
	prev := 0.0
	for i, w := range p.array(m, ptr, "warnAt", false) {
		at := item(ptr+"/warnAt", i)
		f, ok := toNumber(w)
		switch {
		case !ok:
			p.add(at, "must be a number, not %s", jsonType(w))
		case f <= 0 || f >= 1:
			p.add(at, "must be greater than 0 and less than 1, not %v", f)
		case f <= prev:
			p.add(at, "must be greater than the warning before it (%v)", prev)
		default:
			s.WarnAt = append(s.WarnAt, f)
			prev = f
		}
	}
	for i, b := range p.array(m, ptr, "breach", false) {
		s.Breach = append(s.Breach, p.plugin(item(ptr+"/breach", i), b, "action"))
	}
	return s
}

// enter decodes a condition of an SLA: {"enter": [states]}.
func (p *parser) enter(m map[string]any, ptr, key string, required bool) []string {
	v, ok := present(m, key)
	if !ok {
		if required {
			p.add(ptr+"/"+key, "is required")
		}
		return nil
	}
	cp := ptr + "/" + key
	cm := p.object(cp, v, "enter")
	if cm == nil {
		return nil
	}
	return p.strs(cm, cp, "enter", true)
}

// plugin decodes a plugin reference and checks that the plugin is known and
// belongs to namespace.
func (p *parser) plugin(ptr string, v any, namespace string) Plugin {
	m := p.object(ptr, v, "type", "config")
	if m == nil {
		return Plugin{}
	}
	pl := Plugin{Type: p.str(m, ptr, "type", true), Config: p.raw(m, ptr, "config")}
	switch {
	case pl.Type == "":
	case !strings.HasPrefix(pl.Type, namespace+"."):
		p.add(ptr+"/type", "%q is not a plugin of the %s.* namespace", pl.Type, namespace)
	case p.opts.KnownPlugin == nil || !p.opts.KnownPlugin(pl.Type):
		p.add(ptr+"/type", "unknown plugin %q", pl.Type)
	}
	return pl
}

// sectionRank orders the sections of a definition for sortProblems.
func sectionRank(section string) (int, bool) {
	i := slices.Index([]string{"", "initial", "states", "fieldAccess", "transitions", "approvals", "sla"}, section)
	return i, i >= 0
}

// sortProblems sorts problems by pointer: sections in definition order,
// array indexes numerically, other tokens as strings; problems with the same
// pointer keep their order.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		ta, tb := strings.Split(a.Pointer, "/"), strings.Split(b.Pointer, "/")
		for i := 0; i < len(ta) && i < len(tb); i++ {
			if ta[i] == tb[i] {
				continue
			}
			if i == 1 {
				ra, oka := sectionRank(ta[i])
				rb, okb := sectionRank(tb[i])
				if oka && okb {
					return ra - rb
				}
			}
			na, errA := strconv.Atoi(ta[i])
			nb, errB := strconv.Atoi(tb[i])
			if errA == nil && errB == nil {
				return na - nb
			}
			return strings.Compare(ta[i], tb[i])
		}
		return len(ta) - len(tb)
	})
}

// schemaFields returns the dot-separated paths of the properties a form
// schema declares, nested objects included.
func schemaFields(schema []byte) (map[string]bool, error) {
	var root any
	if err := json.Unmarshal(schema, &root); err != nil {
		return nil, err
	}
	fields := map[string]bool{}
	var walk func(node any, prefix string, depth int)
	walk = func(node any, prefix string, depth int) {
		m, ok := node.(map[string]any)
		if !ok || depth > 32 {
			return
		}
		props, _ := m["properties"].(map[string]any)
		for k, sub := range props {
			path := prefix + k
			fields[path] = true
			walk(sub, path+".", depth+1)
		}
	}
	walk(root, "", 0)
	return fields, nil
}
