package forms

import (
	"sort"
	"strconv"
	"strings"
)

// maxEvaluations bounds how many subschemas may apply to one value of a
// document. gojsonschema follows references without looking back: a
// reference cycle that does not descend into the document ({"$ref": "#"})
// overflows the stack and ends the process, and references shared along a
// recursion ({"items": {"allOf": [{"$ref": "#"}, {"$ref": "#"}]}}) make the
// work grow exponentially with the document's depth. Compile refuses both
// (checkComplexity), so validating costs at most maxEvaluations subschemas
// per value.
const maxEvaluations = 1000

// schemaNode is one subschema object of a schema, with the subschemas that
// apply to the same value ("in place": $ref, allOf, anyOf, oneOf, not, if,
// then, else, dependencies) and those that apply to its children.
type schemaNode struct {
	ptr      string
	inPlace  []inPlaceEdge
	children []childEdge

	state int // 0 unvisited, 1 on the DFS stack, 2 done
	cost  int // subschemas applied in place, itself included, at most maxEvaluations+1
}

type inPlaceEdge struct {
	target *schemaNode
	via    string // pointer of the keyword, for errors
}

// childEdge leads to the subschema applied to children of the value: the
// property key ("p"), any property key ("*o"), the array index ("i") or any
// array index ("*a").
type childEdge struct {
	label, key string
	target     *schemaNode
}

// schemaGraph holds the subschemas of a parsed schema reachable from its
// root, by pointer.
type schemaGraph struct {
	root  any
	nodes map[string]*schemaNode
}

// checkComplexity refuses a schema whose validation would not end or would
// apply more than maxEvaluations subschemas to one value of a document
// nested at most maxNesting levels deep. References that are not local
// fragments (allowed only with a RefLoader, in tests) are not followed.
func checkComplexity(doc any) error {
	g := &schemaGraph{root: doc, nodes: make(map[string]*schemaNode)}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	root := g.node("", m)
	// Every reachable node, in discovery order.
	order := []*schemaNode{root}
	seen := map[*schemaNode]bool{root: true}
	for i := 0; i < len(order); i++ {
		n := order[i]
		for _, e := range n.inPlace {
			if !seen[e.target] {
				seen[e.target] = true
				order = append(order, e.target)
			}
		}
		for _, e := range n.children {
			if !seen[e.target] {
				seen[e.target] = true
				order = append(order, e.target)
			}
		}
	}
	for _, n := range order {
		if err := g.costOf(n); err != nil {
			return err
		}
	}
	return g.checkGrowth(root)
}

// node returns the node for the subschema m at ptr, building its edges the
// first time.
func (g *schemaGraph) node(ptr string, m map[string]any) *schemaNode {
	if n, ok := g.nodes[ptr]; ok {
		return n
	}
	n := &schemaNode{ptr: ptr}
	g.nodes[ptr] = n
	for _, k := range sortedKeys(m) {
		v := m[k]
		kp := childPointer(ptr, k)
		switch k {
		case "$ref":
			ref, _ := v.(string)
			if tp, tm, ok := g.resolve(ref); ok {
				n.inPlace = append(n.inPlace, inPlaceEdge{target: g.node(tp, tm), via: kp})
			}
		case "allOf", "anyOf", "oneOf":
			a, _ := v.([]any)
			for i, s := range a {
				if sm, ok := s.(map[string]any); ok {
					n.inPlace = append(n.inPlace, inPlaceEdge{target: g.node(childPointer(kp, strconv.Itoa(i)), sm), via: kp})
				}
			}
		case "not", "if", "then", "else":
			if sm, ok := v.(map[string]any); ok {
				n.inPlace = append(n.inPlace, inPlaceEdge{target: g.node(kp, sm), via: kp})
			}
		case "dependencies":
			deps, _ := v.(map[string]any)
			for _, dk := range sortedKeys(deps) {
				if sm, ok := deps[dk].(map[string]any); ok {
					n.inPlace = append(n.inPlace, inPlaceEdge{target: g.node(childPointer(kp, dk), sm), via: kp})
				}
			}
		case "properties", "patternProperties":
			props, _ := v.(map[string]any)
			for _, pk := range sortedKeys(props) {
				if sm, ok := props[pk].(map[string]any); ok {
					e := childEdge{label: "*o", target: g.node(childPointer(kp, pk), sm)}
					if k == "properties" {
						e.label, e.key = "p", pk
					}
					n.children = append(n.children, e)
				}
			}
		case "additionalProperties":
			if sm, ok := v.(map[string]any); ok {
				n.children = append(n.children, childEdge{label: "*o", target: g.node(kp, sm)})
			}
		case "items":
			if sm, ok := v.(map[string]any); ok {
				n.children = append(n.children, childEdge{label: "*a", target: g.node(kp, sm)})
			}
			a, _ := v.([]any)
			for i, s := range a {
				if sm, ok := s.(map[string]any); ok {
					n.children = append(n.children, childEdge{label: "i", key: strconv.Itoa(i), target: g.node(childPointer(kp, strconv.Itoa(i)), sm)})
				}
			}
		case "additionalItems", "contains":
			if sm, ok := v.(map[string]any); ok {
				n.children = append(n.children, childEdge{label: "*a", target: g.node(kp, sm)})
			}
		}
		// propertyNames applies to keys, strings without children: its
		// cost is bounded by costOf like any other node's and it cannot
		// recurse, so it is not followed.
	}
	return n
}

// resolve returns the subschema object a local fragment reference names,
// with its canonical pointer.
func (g *schemaGraph) resolve(ref string) (string, map[string]any, bool) {
	ptr, v, ok := resolveLocal(g.root, ref)
	m, isMap := v.(map[string]any)
	return ptr, m, ok && isMap
}

// costOf computes n.cost, refusing an in-place cycle or a cost over
// maxEvaluations.
func (g *schemaGraph) costOf(n *schemaNode) error {
	if n.state == 2 {
		return nil
	}
	n.state = 1
	cost := 1
	for _, e := range n.inPlace {
		if e.target.state == 1 {
			return &SchemaError{Pointer: e.via, Reason: "this reference closes a cycle that applies to the same value: validation would never end"}
		}
		if err := g.costOf(e.target); err != nil {
			return err
		}
		cost = min(cost+e.target.cost, maxEvaluations+1)
	}
	n.state, n.cost = 2, cost
	if cost > maxEvaluations {
		return &SchemaError{Pointer: n.ptr, Reason: "more than " + strconv.Itoa(maxEvaluations) + " subschemas would apply to one value"}
	}
	return nil
}

// closure adds the nodes applied in place with n to into, each with the
// number of ways it is reached times times; the counts add up to
// n.cost*times.
func closure(n *schemaNode, times int, into map[*schemaNode]int) {
	into[n] += times
	for _, e := range n.inPlace {
		closure(e.target, times, into)
	}
}

// maxStates bounds the distinct situations checkGrowth explores; a schema
// needing more is refused as too complex.
const maxStates = 20000

// checkGrowth bounds the subschemas applied to one value at every depth of
// any document. A state is the multiset of nodes applied to one value; from
// it, each child key (each property name and tuple index the schema names,
// and any other key or index) leads to the state applied to that child.
// States are explored breadth first, maxNesting levels down; a state seen
// before has been explored already.
func (g *schemaGraph) checkGrowth(root *schemaNode) error {
	// expanded[n] lists the child edges of n's closure, with counts.
	type expandedEdge struct {
		childEdge
		times int
	}
	expanded := make(map[*schemaNode][]expandedEdge)
	expand := func(n *schemaNode) []expandedEdge {
		if es, ok := expanded[n]; ok {
			return es
		}
		cl := make(map[*schemaNode]int)
		closure(n, 1, cl)
		var es []expandedEdge
		for x, c := range cl {
			for _, e := range x.children {
				es = append(es, expandedEdge{e, c})
			}
		}
		expanded[n] = es
		return es
	}

	type state map[*schemaNode]int
	keyOf := func(st state) string {
		parts := make([]string, 0, len(st))
		for n, c := range st {
			parts = append(parts, n.ptr+"\x00"+strconv.Itoa(c))
		}
		sort.Strings(parts)
		return strings.Join(parts, "\x01")
	}
	seen := map[string]bool{}
	level := []state{{root: 1}}
	for depth := 0; depth <= maxNesting && len(level) > 0; depth++ {
		var next []state
		for _, st := range level {
			total := 0
			for n, c := range st {
				total = min(total+c*n.cost, maxEvaluations+1)
			}
			if total > maxEvaluations {
				return &SchemaError{Reason: "more than " + strconv.Itoa(maxEvaluations) + " subschemas would apply to one value " + strconv.Itoa(depth) + " levels deep"}
			}
			// Children by key: "p\x00name", "i\x00index", or the
			// wildcards "*o\x00" and "*a\x00".
			byKey := map[string]state{}
			for n, c := range st {
				for _, e := range expand(n) {
					k := e.label + "\x00" + e.key
					if byKey[k] == nil {
						byKey[k] = state{}
					}
					byKey[k][e.target] = min(byKey[k][e.target]+c*e.times, maxEvaluations+1)
				}
			}
			candidates := []state{byKey["*o\x00"], byKey["*a\x00"]} // any other key or index
			for k, named := range byKey {
				var wildcard state
				switch {
				case strings.HasPrefix(k, "p\x00"):
					wildcard = byKey["*o\x00"]
				case strings.HasPrefix(k, "i\x00"):
					wildcard = byKey["*a\x00"]
				default:
					continue
				}
				sum := make(state, len(named)+len(wildcard))
				for t, c := range named {
					sum[t] = c
				}
				for t, c := range wildcard {
					sum[t] = min(sum[t]+c, maxEvaluations+1)
				}
				candidates = append(candidates, sum)
			}
			for _, c := range candidates {
				if len(c) == 0 {
					continue
				}
				k := keyOf(c)
				if seen[k] {
					continue
				}
				seen[k] = true
				if len(seen) > maxStates {
					return &SchemaError{Reason: "the schema is too complex to check"}
				}
				next = append(next, c)
			}
		}
		level = next
	}
	return nil
}
