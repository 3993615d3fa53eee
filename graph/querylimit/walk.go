package querylimit

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// maxReported bounds how many offending page-size arguments one error lists.
// A small document can spread fragments into exponentially many response
// paths; the error names each distinct argument path up to this bound.
const maxReported = 50

// badArg is one first or last argument out of range.
type badArg struct {
	// pointer is the JSON Pointer of the argument, relative to the selection
	// set being summarised until the walk reaches the operation.
	pointer string
	// keyword is the JSON Schema keyword the value fails.
	keyword string
}

// summary is what the checks need to know about a selection set.
type summary struct {
	depth int
	cost  int // saturates at math.MaxInt
	bad   []badArg
}

// add merges c, a sibling selection, into s.
func (s *summary) add(c summary) {
	s.depth = max(s.depth, c.depth)
	s.cost = addSat(s.cost, c.cost)
	s.bad = appendBad(s.bad, "", c.bad)
}

// walker summarises one operation. Each fragment is walked once and its
// summary reused wherever it is spread, so the work stays linear in the size
// of the document however often fragments are spread.
type walker struct {
	limits    Limits
	vars      map[string]any
	fragments ast.FragmentDefinitionList
	// memo holds the summary of each fragment walked so far; a nil entry
	// marks a fragment being walked, so a cycle (which validation rejects)
	// cannot recurse forever.
	memo map[string]*summary
}

// selectionSet summarises set: the deepest and the sum of its selections.
func (w *walker) selectionSet(set ast.SelectionSet) summary {
	var s summary
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			s.add(w.field(sel))
		case *ast.InlineFragment:
			s.add(w.selectionSet(sel.SelectionSet))
		case *ast.FragmentSpread:
			s.add(w.spread(sel))
		}
	}
	return s
}

// spread summarises the fragment sp spreads, walking it on first use.
func (w *walker) spread(sp *ast.FragmentSpread) summary {
	if s, ok := w.memo[sp.Name]; ok {
		if s == nil {
			return summary{}
		}
		return *s
	}
	def := w.fragments.ForName(sp.Name)
	if def == nil {
		def = sp.Definition
	}
	if def == nil {
		return summary{}
	}
	w.memo[sp.Name] = nil
	s := w.selectionSet(def.SelectionSet)
	w.memo[sp.Name] = &s
	return s
}

// field summarises f and everything below it.
func (w *walker) field(f *ast.Field) summary {
	if strings.HasPrefix(f.Name, "__") {
		return summary{}
	}
	key := f.Alias
	if key == "" {
		key = f.Name
	}
	// GraphQL names hold only letters, digits and underscores, so the key
	// needs no JSON Pointer escaping.
	prefix := "/" + key

	var s summary
	args, resolved := argumentMap(f, w.vars)
	size, sized := 0, false
	for _, name := range [...]string{"first", "last"} {
		if !resolved {
			if f.Arguments.ForName(name) != nil {
				s.bad = appendBad(s.bad, "", []badArg{{pointer: prefix + "/" + name, keyword: "type"}})
			}
			continue
		}
		v, ok := args[name]
		if !ok || v == nil {
			continue
		}
		n, isInt := asInt(v)
		switch {
		case !isInt:
			s.bad = appendBad(s.bad, "", []badArg{{pointer: prefix + "/" + name, keyword: "type"}})
		case n < 0:
			s.bad = appendBad(s.bad, "", []badArg{{pointer: prefix + "/" + name, keyword: "minimum"}})
		case n > int64(w.limits.MaxPageSize):
			s.bad = appendBad(s.bad, "", []badArg{{pointer: prefix + "/" + name, keyword: "maximum"}})
		default:
			size, sized = max(size, int(n)), true
		}
	}

	children := w.selectionSet(f.SelectionSet)
	s.depth = children.depth + 1
	s.bad = appendBad(s.bad, prefix, children.bad)

	list := isList(f)
	switch {
	case list && f.Name == "edges":
		s.cost = addSat(1, children.cost)
	case list || isPaged(f):
		if !sized {
			size = w.limits.DefaultPageSize
			if ids, ok := args["ids"]; ok && ids != nil {
				size = count(ids)
			}
		}
		s.cost = addSat(1, mulSat(size, children.cost))
	default:
		s.cost = addSat(1, children.cost)
	}
	return s
}

// argumentMap resolves f's arguments, with variables and schema defaults. It
// reports false when a literal cannot be read, which validation rules out.
func argumentMap(f *ast.Field, vars map[string]any) (args map[string]any, ok bool) {
	defer func() {
		if recover() != nil {
			args, ok = nil, false
		}
	}()
	return f.ArgumentMap(vars), true
}

// isList reports whether f's schema type is a list.
func isList(f *ast.Field) bool {
	return f.Definition != nil && f.Definition.Type != nil && f.Definition.Type.Elem != nil
}

// isPaged reports whether f takes first or last.
func isPaged(f *ast.Field) bool {
	for _, name := range [...]string{"first", "last"} {
		if f.Arguments.ForName(name) != nil {
			return true
		}
		if f.Definition != nil && f.Definition.Arguments.ForName(name) != nil {
			return true
		}
	}
	return false
}

// asInt returns v as an int64 when it is an integer, whatever Go type the
// variable coercion or the literal parser chose for it.
func asInt(v any) (int64, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, false
		}
		return int64(f), true
	case reflect.String: // a json.Number, or an Int variable sent as a string
		n, err := strconv.ParseInt(rv.String(), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// count returns the number of items in a list argument; a single value given
// for a list counts as one.
func count(v any) int {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return rv.Len()
	}
	return 1
}

// appendBad appends src to dst with prefix prepended to each pointer, leaving
// out pointers dst already holds and stopping at maxReported. It never writes
// into src's backing array, which may belong to a memoised fragment.
func appendBad(dst []badArg, prefix string, src []badArg) []badArg {
	for _, b := range src {
		if len(dst) >= maxReported {
			break
		}
		p := prefix + b.pointer
		if slices.ContainsFunc(dst, func(d badArg) bool { return d.pointer == p }) {
			continue
		}
		dst = append(dst, badArg{pointer: p, keyword: b.keyword})
	}
	return dst
}

// addSat returns a+b for non-negative a and b, saturating at math.MaxInt.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// mulSat returns a×b for non-negative a and b, saturating at math.MaxInt.
func mulSat(a, b int) int {
	if a != 0 && b > math.MaxInt/a {
		return math.MaxInt
	}
	return a * b
}
