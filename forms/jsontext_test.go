package forms

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// stdDecode decodes data as encoding/json does for gojsonschema: one value,
// numbers as json.Number, nothing after it.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, errors.New("data after the value")
	}
	return v, nil
}

// checkAgainstStd compares parseJSON with encoding/json on data: both
// accept it with the same value, or both refuse it, or parseJSON refuses
// what encoding/json lets through on purpose (duplicate keys, U+0000 in
// keys, deep nesting, invalid UTF-8).
func checkAgainstStd(t *testing.T, data []byte) {
	t.Helper()
	got, err := parseJSON(data, true)
	want, stdErr := stdDecode(data)
	switch {
	case err == nil && stdErr == nil:
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parseJSON(%q) = %#v, encoding/json %#v", data, got, want)
		}
	case err == nil && stdErr != nil:
		t.Errorf("parseJSON(%q) accepts what encoding/json refuses: %v", data, stdErr)
	case err != nil && stdErr == nil:
		var je *jsonError
		if !errors.As(err, &je) {
			t.Fatalf("parseJSON(%q) = %T", data, err)
		}
		switch je.Reason {
		case "duplicate object key", "object key holds U+0000", "not valid UTF-8", "number out of range":
		default:
			if !strings.HasPrefix(je.Reason, "nested more than") {
				t.Errorf("parseJSON(%q) refuses what encoding/json accepts: %v", data, err)
			}
		}
	}
}

func TestParseJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-1E-2`, `123456789012345678901234567890`,
		` {"a" : [1 , 2 , {"b": null}] } `, "\t[]\r\n", `{}`, `""`, `"\u00e9\u4e2d\ud83d\ude00"`,
		`"\"\\\/\b\f\n\r\t"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`,
		`"é中😀"`, `{"a":1,"a":2}`, `{"a\u0000":1}`, "\"\xff\"",
		``, ` `, `{`, `[`, `]`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `[1 2]`,
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `Infinity`, `tru`, `nul`, `truex`,
		`"abc`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\tb\"", "\"a\nb\"", `{1:2}`, `{"a" 1}`, `1 2`, `{}{}`,
		`1e400`, `1E-400`, `1e401`, `-1e+999999`, `1e99999999999999999999`, `0.` + strings.Repeat(`1`, 98), `0.` + strings.Repeat(`1`, 99),
		`[` + strings.Repeat(`[`, maxNesting) + strings.Repeat(`]`, maxNesting) + `]`,
		strings.Repeat(`[`, maxNesting) + strings.Repeat(`]`, maxNesting),
	} {
		checkAgainstStd(t, []byte(s))
	}
}

// TestParseJSONSuiteFiles parses every file of the JSON-Schema-Test-Suite
// both ways.
func TestParseJSONSuiteFiles(t *testing.T) {
	dir := suiteDir(t)
	n := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		checkAgainstStd(t, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("parsed only %d files", n)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `"\ud83d\ude00"`, `-0.5e3`, `[{"a":1,"a":2}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStd(t, data)
	})
}
