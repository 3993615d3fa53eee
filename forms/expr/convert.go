package expr

import (
	"encoding/json"
	"fmt"
	"math"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// normalizeObject converts the values of a decoded JSON object to the types of the
// object's shape (see normalize) and drops null fields, so that they read as absent. The
// input is never modified: when something changes, the result is a copy.
func normalizeObject(obj map[string]any, s *shape) map[string]any {
	out, _ := normalizeFields(obj, s)
	if out == nil {
		return map[string]any{}
	}
	return out
}

// normalizeFields is normalizeObject that also reports whether the result differs from obj.
func normalizeFields(obj map[string]any, s *shape) (map[string]any, bool) {
	var out map[string]any // Allocated at the first change.
	for k, v := range obj {
		var nv any
		changed := v == nil
		if !changed {
			fs, ok := s.fields[k]
			if !ok {
				fs = &shape{kind: shapeDyn}
			}
			nv, changed = normalize(v, fs)
		}
		if !changed && out == nil {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(obj))
			for k2, v2 := range obj {
				if v2 != nil {
					out[k2] = v2
				}
			}
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = nv
		}
	}
	if out == nil {
		return obj, false
	}
	return out, true
}

// normalize converts one decoded JSON value to the CEL type its shape declares where that
// is lossless: integral numbers to int64 for integer fields, numbers to float64 for number
// fields, json.Number to float64 elsewhere. Values it cannot convert are kept, and an
// expression that uses them fails with an evaluation error rather than a panic. It
// reports whether the result differs from v; containers are copied only then.
func normalize(v any, s *shape) (any, bool) {
	switch s.kind {
	case shapeInt:
		if _, ok := v.(int64); ok {
			return v, false
		}
		if i, ok := toInt(v); ok {
			return i, true
		}
	case shapeDouble:
		if _, ok := v.(float64); ok {
			return v, false
		}
		if f, ok := toFloat(v); ok {
			return f, true
		}
	case shapeObject:
		if m, ok := v.(map[string]any); ok {
			return normalizeFields(m, s)
		}
	case shapeMap:
		if m, ok := v.(map[string]any); ok {
			return normalizeMap(m, s.elem)
		}
	case shapeList:
		if l, ok := v.([]any); ok {
			return normalizeList(l, s.elem)
		}
	case shapeDyn:
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, true
			}
		case map[string]any:
			return normalizeMap(x, s)
		case []any:
			return normalizeList(x, s)
		}
	}
	return v, false
}

// normalizeMap normalises the values of a map with the element shape elem.
func normalizeMap(m map[string]any, elem *shape) (any, bool) {
	var out map[string]any
	for k, e := range m {
		ne, changed := normalize(e, elem)
		if !changed {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(m))
			for k2, e2 := range m {
				out[k2] = e2
			}
		}
		out[k] = ne
	}
	if out == nil {
		return m, false
	}
	return out, true
}

// normalizeList normalises the elements of a list with the element shape elem.
func normalizeList(l []any, elem *shape) (any, bool) {
	var out []any
	for i, e := range l {
		ne, changed := normalize(e, elem)
		if !changed {
			continue
		}
		if out == nil {
			out = make([]any, len(l))
			copy(out, l)
		}
		out[i] = ne
	}
	if out == nil {
		return l, false
	}
	return out, true
}

// toInt converts a decoded JSON number that holds an integral value to int64.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
	}
	return 0, false
}

// toFloat converts a decoded JSON number to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, true
		}
	}
	return 0, false
}

// toNative converts a CEL result to a plain Go value; map keys that are not strings are
// formatted as strings, as JSON requires.
func toNative(v ref.Val) (any, error) {
	switch x := v.(type) {
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		return float64(x), nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return []byte(x), nil
	case types.Null:
		return nil, nil
	case types.Timestamp:
		return x.Time, nil
	case types.Duration:
		return x.Duration, nil
	case *types.Optional:
		if !x.HasValue() {
			return nil, nil
		}
		return toNative(x.GetValue())
	case *types.Type:
		return x.TypeName(), nil
	}
	switch {
	case v.Type() == types.ListType:
		l, ok := v.(traits.Lister)
		if !ok {
			break
		}
		n, ok := l.Size().(types.Int)
		if !ok {
			break
		}
		out := make([]any, 0, int(n))
		for it := l.Iterator(); it.HasNext() == types.True; {
			e, err := toNative(it.Next())
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	case v.Type() == types.MapType:
		m, ok := v.(traits.Mapper)
		if !ok {
			break
		}
		out := map[string]any{}
		for it := m.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			e, err := toNative(m.Get(k))
			if err != nil {
				return nil, err
			}
			key, ok := k.(types.String)
			if !ok {
				ks, err := toNative(k)
				if err != nil {
					return nil, err
				}
				out[fmt.Sprint(ks)] = e
				continue
			}
			out[string(key)] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrResult, v.Type().TypeName())
}
