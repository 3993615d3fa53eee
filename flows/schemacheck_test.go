package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestBuiltinSchemaChecker(t *testing.T) {
	form := `{"type":"object","required":["n"],"properties":{
		"s":{"type":"string"},"n":{"type":"number"},"i":{"type":"integer"},"b":{"type":"boolean"},
		"o":{"type":"object"},"a":{"type":"array"},"z":{"type":"null"},"sn":{"type":["string","null"],"title":"Either"}}}`
	doc := edit(t, baseDefinition, func(d map[string]any) { set(d, "/transitions/0/form", obj(t, form)) })
	w := mustParse(t, doc, testOptions())
	start, _ := w.Transition("start")
	tests := []struct {
		name  string
		input string
		want  string // violations as pointer:keyword
	}{
		{"every type right", `{"s":"x","n":1.5,"i":2,"b":false,"o":{},"a":[],"z":null,"sn":null}`, ""},
		{"integral number is an integer", `{"n":1,"i":2.0}`, ""},
		{"missing required", `{}`, "/n:required"},
		{"required null is present", `{"n":null}`, "/n:type"},
		{"every type wrong", `{"s":1,"n":"1","i":1.5,"b":"true","o":[],"a":{},"z":0,"sn":true}`,
			"/a:type /b:type /i:type /n:type /o:type /s:type /sn:type /z:type"},
		{"unknown properties pass", `{"n":1,"other":true}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var input map[string]any
			if err := json.Unmarshal([]byte(tt.input), &input); err != nil {
				t.Fatal(err)
			}
			found, err := start.formCheck(context.Background(), input)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range found {
				got = append(got, v.Pointer+":"+v.Keyword)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("violations = %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
	found, _ := start.formCheck(context.Background(), map[string]any{"n": 1, "i": int64(3), "a": []string{"x"}, "o": map[string]int{}})
	if len(found) != 0 {
		t.Errorf("Go values of the right shape = %+v", found)
	}
	found, _ = start.formCheck(context.Background(), map[string]any{"n": 1, "sn": 2})
	if len(found) != 1 || fmt.Sprint(found[0].Message) != "map[en:Must be of type string, null. zh-CN:类型应为 string, null。]" {
		t.Errorf("message = %+v", found)
	}
}

func TestStrictDecodingDetails(t *testing.T) {
	deep := `{"initial":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`
	_, err := Parse([]byte(deep), testOptions())
	if err == nil || !strings.Contains(err.Error(), "nest more than 64 levels") {
		t.Errorf("deep nesting = %v", err)
	}
	odd := edit(t, baseDefinition, func(d map[string]any) { d["states"].([]any)[0].(map[string]any)["a~b/c"] = 1 })
	_, err = Parse([]byte(odd), testOptions())
	if err == nil || !strings.Contains(err.Error(), `/states/0/a~0b~1c: unknown key "a~b/c"`) {
		t.Errorf("a key that needs escaping = %v", err)
	}
	html := edit(t, baseDefinition, func(d map[string]any) {
		set(d, "/transitions/0/actions/0/config", obj(t, `{"url":"https://x.example/?a=1&b=<2>"}`))
	})
	w := mustParse(t, html, testOptions())
	start, _ := w.Transition("start")
	if got := string(start.Actions[0].Config); got != `{"url":"https://x.example/?a=1&b=<2>"}` {
		t.Errorf("config = %s", got)
	}
}
