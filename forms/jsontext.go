package forms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxNesting bounds how deeply objects and arrays may nest in schemas,
// documents and plugin configurations; gojsonschema validates recursively.
const maxNesting = 200

// Numbers are at most maxNumberLen bytes long, with an exponent of at most
// maxExponent either way: float64 reaches 1e308.
const (
	maxNumberLen = 100
	maxExponent  = 400
)

// jsonError reports malformed JSON text and where the problem was found.
type jsonError struct {
	Pointer string
	Reason  string
	Err     error
}

// Error implements error.
func (e *jsonError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the decoder's error, if any.
func (e *jsonError) Unwrap() error { return e.Err }

// parseJSON decodes data the strict way: valid UTF-8, one value and nothing
// after it but blanks, no duplicate object keys, at most maxNesting levels,
// numbers within maxNumberLen and maxExponent, as json.Number (the shape
// gojsonschema expects). When refuseNUL is
// set, object keys holding U+0000 are refused too: error paths are joined
// with it. Errors are *jsonError.
func parseJSON(data []byte, refuseNUL bool) (any, error) {
	if !utf8.Valid(data) {
		return nil, &jsonError{Reason: "not valid UTF-8"}
	}
	p := &jsonParser{data: data, refuseNUL: refuseNUL}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, &jsonError{Reason: "data after the JSON value"}
	}
	return v, nil
}

// jsonParser is a recursive-descent parser of RFC 8259 JSON text. It keeps
// the path to the current value so errors can name it.
type jsonParser struct {
	data      []byte
	pos       int
	refuseNUL bool
	path      []string
}

func (p *jsonParser) fail(reason string) error {
	return &jsonError{Pointer: pointerOf(p.path), Reason: reason, Err: fmt.Errorf("at byte %d", p.pos)}
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	p.skipSpace()
	if p.pos == len(p.data) {
		return nil, p.fail("malformed JSON: unexpected end")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	}
	return nil, p.fail("malformed JSON: unexpected character")
}

func (p *jsonParser) literal(lit string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
		return p.fail("malformed JSON: unexpected character")
	}
	p.pos += len(lit)
	return nil
}

func (p *jsonParser) enter() error {
	if len(p.path) >= maxNesting {
		return p.fail("nested more than " + strconv.Itoa(maxNesting) + " levels deep")
	}
	return nil
}

func (p *jsonParser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // {
	m := make(map[string]any)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		p.skipSpace()
		if p.pos == len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("malformed JSON: expected an object key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if p.refuseNUL && strings.IndexByte(key, 0) >= 0 {
			return nil, p.fail("object key holds U+0000") // points at the object
		}
		p.path = append(p.path, key)
		if _, dup := m[key]; dup {
			return nil, p.fail("duplicate object key")
		}
		p.skipSpace()
		if p.pos == len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail("malformed JSON: expected a colon")
		}
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.path = p.path[:len(p.path)-1]
		p.skipSpace()
		if p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',':
				p.pos++
				continue
			case '}':
				p.pos++
				return m, nil
			}
		}
		return nil, p.fail("malformed JSON: expected a comma or the end of the object")
	}
}

func (p *jsonParser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	p.pos++ // [
	a := make([]any, 0, 4)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for i := 0; ; i++ {
		p.path = append(p.path, strconv.Itoa(i))
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.path = p.path[:len(p.path)-1]
		p.skipSpace()
		if p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',':
				p.pos++
				continue
			case ']':
				p.pos++
				return a, nil
			}
		}
		return nil, p.fail("malformed JSON: expected a comma or the end of the array")
	}
}

// number reads a number as RFC 8259 writes it:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() (any, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	switch {
	case p.pos < len(p.data) && p.data[p.pos] == '0':
		p.pos++
	case digits() == 0:
		return nil, p.fail("malformed JSON: bad number")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.fail("malformed JSON: bad number")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		expStart := p.pos
		if digits() == 0 {
			return nil, p.fail("malformed JSON: bad number")
		}
		// gojsonschema turns numbers into big.Rat: 1e999999 takes
		// 25ms and megabytes, and a larger exponent makes it panic.
		if exp, err := strconv.Atoi(string(p.data[expStart:p.pos])); err != nil || exp > maxExponent {
			return nil, p.fail("number out of range")
		}
	}
	if p.pos-start > maxNumberLen {
		return nil, p.fail("number out of range")
	}
	return json.Number(p.data[start:p.pos]), nil
}

// str reads a string; the parser is on its opening quote.
func (p *jsonParser) str() (string, error) {
	p.pos++ // "
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			s := string(p.data[start:p.pos])
			p.pos++
			return s, nil
		case c == '\\':
			return p.escapedStr(start)
		case c < 0x20:
			return "", p.fail("malformed JSON: control character in a string")
		}
		p.pos++
	}
	return "", p.fail("malformed JSON: unterminated string")
}

// escapedStr reads the rest of a string holding escapes, from start. Lone
// surrogates become U+FFFD, as encoding/json does.
func (p *jsonParser) escapedStr(start int) (string, error) {
	b := make([]byte, 0, p.pos-start+16)
	b = append(b, p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.fail("malformed JSON: control character in a string")
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		p.pos++ // backslash
		if p.pos == len(p.data) {
			break
		}
		e := p.data[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.fail("malformed JSON: bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
					save := p.pos
					p.pos += 2
					var ok bool
					if r2, ok = p.hex4(); !ok {
						return "", p.fail("malformed JSON: bad \\u escape")
					}
					if utf16.DecodeRune(r, r2) == utf8.RuneError {
						p.pos = save // the second escape stands on its own
						r2 = -1
					}
				}
				if r2 < 0 {
					r = utf8.RuneError
				} else {
					r = utf16.DecodeRune(r, r2)
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.fail("malformed JSON: bad escape")
		}
	}
	return "", p.fail("malformed JSON: unterminated string")
}

// hex4 reads the four hex digits of a \u escape.
func (p *jsonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// escapeToken escapes one JSON Pointer reference token (RFC 6901): "~" as
// "~0" and "/" as "~1".
func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// pointerOf returns the JSON Pointer naming path; the empty path is "".
func pointerOf(path []string) string {
	var b strings.Builder
	for _, t := range path {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// childPointer returns the pointer of key inside the value at parent.
func childPointer(parent, key string) string { return parent + "/" + escapeToken(key) }
