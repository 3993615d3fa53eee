package flows

import (
	"strings"

	"github.com/custos-crm/custos/forms/expr"
)

// check checks what the values of a definition say together: keys, the
// states, approvals, roles, permissions, fields and plugins they name,
// expressions and schema fragments, and the graph of states.
func (p *parser) check(w *Workflow) {
	w.stateIndex = p.index("/states", "state", len(w.states), func(i int) string { return w.states[i].Key })
	w.transitionIndex = p.index("/transitions", "transition", len(w.transitions), func(i int) string { return w.transitions[i].Key })
	w.approvalIndex = p.index("/approvals", "approval", len(w.approvals), func(i int) string { return w.approvals[i].Key })
	w.slaIndex = p.index("/sla", "SLA", len(w.slas), func(i int) string { return w.slas[i].Key })

	p.stateRef(w, "/initial", w.initial)
	for i, fa := range w.fieldAccess {
		ptr := item("/fieldAccess", i)
		p.stateRef(w, ptr+"/state", fa.State)
		p.names(ptr+"/roles", fa.Roles, p.opts.KnownRole, "role")
		p.fieldRefs(ptr+"/readOnly", fa.ReadOnly)
		p.fieldRefs(ptr+"/hidden", fa.Hidden)
	}
	for i := range w.transitions {
		p.checkTransition(w, &w.transitions[i])
	}
	for i, a := range w.approvals {
		ptr := item("/approvals", i)
		p.stateRef(w, ptr+"/onApprove", a.OnApprove)
		p.stateRef(w, ptr+"/onReject", a.OnReject)
	}
	for i, s := range w.slas {
		ptr := item("/sla", i)
		listed := map[string]string{}
		for _, cond := range []struct {
			name   string
			states []string
		}{{"start", s.Start}, {"stop", s.Stop}, {"pause", s.Pause}} {
			for j, key := range cond.states {
				at := item(ptr+"/"+cond.name+"/enter", j)
				p.stateRef(w, at, key)
				if other, dup := listed[key]; dup {
					p.add(at, "state %q is already listed in %s; a state may start, stop or pause a timer, not several of these", key, other)
				}
				listed[key] = cond.name
			}
		}
	}
	p.checkGraph(w)
}

// index maps the keys of a section to their positions, reporting malformed
// and duplicate keys; only the first of duplicates is indexed. Empty keys
// were reported when they were decoded.
func (p *parser) index(section, what string, n int, key func(int) string) map[string]int {
	idx := make(map[string]int, n)
	for i := range n {
		k := key(i)
		ptr := item(section, i) + "/key"
		switch first, dup := idx[k]; {
		case k == "":
		case !isKey(k):
			p.add(ptr, "%q is not a valid key: a lower-case letter, then up to 63 lower-case letters, digits and underscores", k)
		case dup:
			p.add(ptr, "duplicate %s key %q (first at %s)", what, k, item(section, first))
		default:
			idx[k] = i
		}
	}
	return idx
}

// stateRef reports a reference to a state that does not exist.
func (p *parser) stateRef(w *Workflow, ptr, key string) {
	if key == "" {
		return
	}
	if _, ok := w.stateIndex[key]; !ok {
		p.add(ptr, "unknown state %q", key)
	}
}

// names reports the names in list that known does not know.
func (p *parser) names(ptr string, list []string, known func(string) bool, what string) {
	for j, name := range list {
		if known == nil || !known(name) {
			p.add(item(ptr, j), "unknown %s %q", what, name)
		}
	}
}

// fieldRefs reports the fields in list that the form schema does not declare.
func (p *parser) fieldRefs(ptr string, list []string) {
	for j, f := range list {
		if !p.fields[f] {
			p.add(item(ptr, j), "the form has no field %q", f)
		}
	}
}

// checkTransition checks the references, expression and schema fragments of
// one transition and compiles them into it.
func (p *parser) checkTransition(w *Workflow, t *Transition) {
	ptr := item("/transitions", t.index)
	for j, from := range t.From {
		at := item(ptr+"/from", j)
		p.stateRef(w, at, from)
		if s, ok := w.State(from); ok && s.Final {
			p.add(at, "state %q is final: no transition may leave it", from)
		}
	}
	p.stateRef(w, ptr+"/to", t.To)
	if t.Approval != "" {
		a, ok := w.Approval(t.Approval)
		switch {
		case !ok:
			p.add(ptr+"/approval", "unknown approval %q", t.Approval)
		case a.OnApprove == t.To || a.OnReject == t.To:
			p.add(ptr+"/approval", "approval %q would leave the record in %q, the state the transition moves it to while it is approved", t.Approval, t.To)
		}
		if s, ok := w.State(t.To); ok && s.Final {
			p.add(ptr+"/to", "state %q is final, but the record must leave it when approval %q is decided", t.To, t.Approval)
		}
	}
	p.names(ptr+"/guards/roles", t.Guards.Roles, p.opts.KnownRole, "role")
	p.names(ptr+"/guards/permissions", t.Guards.Permissions, p.opts.KnownPermission, "permission")
	if t.Guards.Expr != "" {
		prg, err := p.env.Compile(t.Guards.Expr, expr.KindBool)
		if err != nil {
			p.add(ptr+"/guards/expr", "%s", strings.TrimPrefix(err.Error(), "expr: "))
		}
		t.guard = prg
	}
	p.fieldRefs(ptr+"/requires", t.Requires)
	t.schemaCheck = p.compileSchema(ptr+"/schema", t.Schema)
	t.formCheck = p.compileSchema(ptr+"/form", t.Form)
}

// checkGraph reports the states that cannot be reached from the initial
// state, and the states that are not final but that nothing leaves. A
// transition leads from each of its From states to its To state; a
// transition that opens an approval also leads from its To state to the
// approval's OnApprove and OnReject states.
func (p *parser) checkGraph(w *Workflow) {
	next := map[string][]string{}
	edge := func(from, to string) {
		if from != "" && to != "" {
			next[from] = append(next[from], to)
		}
	}
	for _, t := range w.transitions {
		for _, from := range t.From {
			edge(from, t.To)
		}
		if a, ok := w.Approval(t.Approval); ok {
			edge(t.To, a.OnApprove)
			edge(t.To, a.OnReject)
		}
	}
	reached := map[string]bool{}
	if _, ok := w.stateIndex[w.initial]; ok {
		queue := []string{w.initial}
		reached[w.initial] = true
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, n := range next[s] {
				if !reached[n] {
					reached[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	for i, s := range w.states {
		if first, ok := w.stateIndex[s.Key]; !ok || first != i {
			continue
		}
		ptr := item("/states", i)
		if len(reached) > 0 && !reached[s.Key] {
			p.add(ptr, "state %q cannot be reached from the initial state %q", s.Key, w.initial)
		}
		if s.Final {
			continue
		}
		leaves := false
		for _, n := range next[s.Key] {
			if n != s.Key {
				leaves = true
				break
			}
		}
		if !leaves {
			p.add(ptr, "state %q is not final, but no transition leaves it: add one or mark the state final", s.Key)
		}
	}
}
