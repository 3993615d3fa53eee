package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseAcceptsTheBaseDefinition(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	if w.Initial() != "new" {
		t.Errorf("Initial() = %q", w.Initial())
	}
	if got := len(w.States()); got != 7 {
		t.Errorf("len(States()) = %d, want 7", got)
	}
	start, ok := w.Transition("start")
	if !ok {
		t.Fatal("Transition(start) not found")
	}
	if start.Name["zh-CN"] != "开始处理" || !start.Guards.Assignee || len(start.Actions) != 1 {
		t.Errorf("start = %+v", start)
	}
	if got, want := string(start.Actions[0].Config), `{"field":"started","value":true}`; got != want {
		t.Errorf("action config = %s, want %s", got, want)
	}
	a, ok := w.Approval("manager_ok")
	if !ok || a.Mode != ModeAll || a.OnApprove != "resolved" || a.Approvers.Type != "approver.role" {
		t.Errorf("Approval(manager_ok) = %+v, %v", a, ok)
	}
	s, ok := w.SLA("first_response")
	if !ok || s.Target != 4*time.Hour || s.Clock != ClockWorking || len(s.WarnAt) != 2 || len(s.Breach) != 1 {
		t.Errorf("SLA(first_response) = %+v, %v", s, ok)
	}
	if st, ok := w.State("closed"); !ok || !st.Final || st.Category != CategoryDone {
		t.Errorf("State(closed) = %+v, %v", st, ok)
	}
	if _, ok := w.State("nope"); ok {
		t.Error("State(nope) found")
	}
}

// problem is a problem a test expects: its pointer and a part of its message.
type problem struct {
	ptr, msg string
}

func TestParseProblems(t *testing.T) {
	big := `{"initial":"a","states":[{"key":"a","category":"todo","final":true}],"x":"` + strings.Repeat("x", MaxDefinitionBytes) + `"}`
	tests := []struct {
		name   string
		raw    string                 // the whole definition, or
		change func(d map[string]any) // a change to baseDefinition
		opts   *Options               // testOptions() when nil
		want   []problem
	}{
		// Decoding.
		{name: "not JSON", raw: `{"initial": `, want: []problem{{"", "not valid JSON"}}},
		{name: "trailing data", raw: `{} {}`, want: []problem{{"", "trailing data"}}},
		{name: "too large", raw: big, want: []problem{{"", "at most 262144"}}},
		{name: "invalid UTF-8", raw: "{\"initial\": \"\xff\"}", want: []problem{{"", "UTF-8"}}},
		{name: "root not an object", raw: `[]`, want: []problem{{"", "must be an object, not an array"}}},
		{name: "duplicate JSON key", raw: `{"initial":"a","initial":"b","states":[{"key":"a","category":"done","final":true}]}`,
			want: []problem{{"/initial", `duplicate key "initial"`}}},
		{name: "no states", raw: `{"initial":"a","states":[]}`,
			want: []problem{{"/initial", `unknown state "a"`}, {"/states", "at least one state"}}},
		{name: "unknown top-level key", change: func(d map[string]any) { d["extra"] = 1 },
			want: []problem{{"/extra", `unknown key "extra"`}}},
		{name: "unknown key in a state", change: func(d map[string]any) { set(d, "/states/0/color", "red") },
			want: []problem{{"/states/0/color", `unknown key "color"`}}},
		{name: "unknown key in guards", change: func(d map[string]any) { set(d, "/transitions/0/guards/owner", true) },
			want: []problem{{"/transitions/0/guards/owner", `unknown key "owner"`}}},
		{name: "wrong JSON type", change: func(d map[string]any) { set(d, "/transitions/0/guards/roles", "admin") },
			want: []problem{{"/transitions/0/guards/roles", "must be an array, not a string"}}},
		{name: "element not an object", change: func(d map[string]any) { set(d, "/states/-", "x") },
			want: []problem{{"/states/7", "must be an object, not a string"}}},
		{name: "null counts as absent", change: func(d map[string]any) { set(d, "/transitions/0/name", nil) }},
		{name: "bad locale", change: func(d map[string]any) { set(d, "/transitions/0/name/english", "Start") },
			want: []problem{{"/transitions/0/name/english", "not a locale"}}},
		{name: "empty text", change: func(d map[string]any) { set(d, "/transitions/0/name/en", "") },
			want: []problem{{"/transitions/0/name/en", "must not be empty"}}},

		// Keys and states.
		{name: "initial missing", change: func(d map[string]any) { del(d, "/initial") },
			want: []problem{{"/initial", "is required"}}},
		{name: "initial unknown", change: func(d map[string]any) { d["initial"] = "nope" },
			want: []problem{{"/initial", `unknown state "nope"`}}},
		{name: "duplicate state key", change: func(d map[string]any) { set(d, "/states/-", obj(t, `{"key":"new","category":"todo"}`)) },
			want: []problem{{"/states/7/key", `duplicate state key "new" (first at /states/0)`}}},
		{name: "malformed key", change: func(d map[string]any) { set(d, "/states/-", obj(t, `{"key":"Bad Key","category":"todo"}`)) },
			want: []problem{{"/states/7/key", `"Bad Key" is not a valid key`}}},
		{name: "state key missing", change: func(d map[string]any) { del(d, "/states/6/key") },
			want: []problem{{"/states/6/key", "is required"}, {"/transitions/5/to", `unknown state "pending_customer"`},
				{"/transitions/6/from/0", `unknown state "pending_customer"`}, {"/sla/0/pause/enter/0", `unknown state "pending_customer"`}}},
		{name: "bad category", change: func(d map[string]any) { set(d, "/states/0/category", "open") },
			want: []problem{{"/states/0/category", `"open" is not a category`}}},
		{name: "final state not done", change: func(d map[string]any) { set(d, "/states/4/category", "in_progress") },
			want: []problem{{"/states/4/final", "must be in category done"}}},
		{name: "duplicate transition key", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"close","from":["resolved"],"to":"closed"}`))
		}, want: []problem{{"/transitions/7/key", `duplicate transition key "close" (first at /transitions/3)`}}},
		{name: "duplicate approval and SLA keys", change: func(d map[string]any) {
			set(d, "/approvals/-", obj(t, `{"key":"manager_ok","mode":"any","approvers":{"type":"approver.user"},"onApprove":"resolved","onReject":"new"}`))
			set(d, "/sla/-", obj(t, `{"key":"first_response","start":{"enter":["new"]},"stop":{"enter":["closed"]},"target":"1h"}`))
		}, want: []problem{{"/approvals/1/key", "duplicate approval key"}, {"/sla/1/key", "duplicate SLA key"}}},

		// References.
		{name: "unknown from state", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"extra","from":["nowhere"],"to":"closed"}`))
		}, want: []problem{{"/transitions/7/from/0", `unknown state "nowhere"`}}},
		{name: "unknown to state", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"extra","from":["new"],"to":"nowhere"}`))
		}, want: []problem{{"/transitions/7/to", `unknown state "nowhere"`}}},
		{name: "from listed twice", change: func(d map[string]any) { set(d, "/transitions/4/from/-", "new") },
			want: []problem{{"/transitions/4/from/2", `"new" is listed twice`}}},
		{name: "from missing", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"extra","to":"closed"}`))
		}, want: []problem{{"/transitions/7/from", "is required"}}},
		{name: "from empty", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"extra","from":[],"to":"closed"}`))
		}, want: []problem{{"/transitions/7/from", "must not be empty"}}},
		{name: "unknown states in field access", change: func(d map[string]any) {
			set(d, "/fieldAccess/0/state", "archived")
		}, want: []problem{{"/fieldAccess/0/state", `unknown state "archived"`}}},
		{name: "unknown role and fields in field access", change: func(d map[string]any) {
			set(d, "/fieldAccess/0/roles/-", "auditor")
			set(d, "/fieldAccess/0/hidden/-", "margin")
			set(d, "/fieldAccess/0/readOnly/-", "address.zip")
		}, want: []problem{{"/fieldAccess/0/hidden/1", `the form has no field "margin"`}, {"/fieldAccess/0/readOnly/1", `no field "address.zip"`},
			{"/fieldAccess/0/roles/1", `unknown role "auditor"`}}},
		{name: "nested field known", change: func(d map[string]any) { set(d, "/fieldAccess/0/readOnly/-", "address.city") }},
		{name: "field access without fields", change: func(d map[string]any) {
			set(d, "/fieldAccess/-", obj(t, `{"state":"new"}`))
		}, want: []problem{{"/fieldAccess/1", "must list readOnly or hidden fields"}}},
		{name: "unknown onApprove", change: func(d map[string]any) { set(d, "/approvals/0/onApprove", "done") },
			want: []problem{{"/approvals/0/onApprove", `unknown state "done"`}}},
		{name: "unknown onReject", change: func(d map[string]any) { set(d, "/approvals/0/onReject", "back") },
			want: []problem{{"/approvals/0/onReject", `unknown state "back"`}}},
		{name: "unknown approval", change: func(d map[string]any) { set(d, "/transitions/1/approval", "ceo_ok") },
			want: []problem{{"/states/2", `"pending_approval" is not final, but no transition leaves it`}, {"/transitions/1/approval", `unknown approval "ceo_ok"`}}},
		{name: "unknown SLA states", change: func(d map[string]any) {
			set(d, "/sla/0/pause/enter/0", "on_hold")
			set(d, "/sla/0/start/enter/-", "queued")
		}, want: []problem{{"/sla/0/pause/enter/0", `unknown state "on_hold"`}, {"/sla/0/start/enter/1", `unknown state "queued"`}}},
		{name: "SLA state in start and stop", change: func(d map[string]any) { set(d, "/sla/0/stop/enter/-", "new") },
			want: []problem{{"/sla/0/stop/enter/2", `"new" is already listed in start`}}},
		{name: "SLA without stop", change: func(d map[string]any) { del(d, "/sla/0/stop") },
			want: []problem{{"/sla/0/stop", "is required"}}},

		// The graph.
		{name: "unreachable state", change: func(d map[string]any) { set(d, "/states/-", obj(t, `{"key":"orphan","category":"todo"}`)) },
			want: []problem{{"/states/7", `"orphan" cannot be reached from the initial state "new"`}, {"/states/7", `"orphan" is not final, but no transition leaves it`}}},
		{name: "unreachable final state", change: func(d map[string]any) {
			set(d, "/states/-", obj(t, `{"key":"archived","category":"done","final":true}`))
		}, want: []problem{{"/states/7", `"archived" cannot be reached`}}},
		{name: "dead end", change: func(d map[string]any) {
			set(d, "/states/-", obj(t, `{"key":"limbo","category":"in_progress"}`))
			set(d, "/transitions/-", obj(t, `{"key":"lose","from":["new"],"to":"limbo"}`))
		}, want: []problem{{"/states/7", `"limbo" is not final, but no transition leaves it`}}},
		{name: "a loop is no way out", change: func(d map[string]any) {
			set(d, "/states/-", obj(t, `{"key":"limbo","category":"in_progress"}`))
			set(d, "/transitions/-", obj(t, `{"key":"lose","from":["new"],"to":"limbo"}`))
			set(d, "/transitions/-", obj(t, `{"key":"stay","from":["limbo"],"to":"limbo"}`))
		}, want: []problem{{"/states/7", `"limbo" is not final`}}},
		{name: "transition out of a final state", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"reopen","from":["resolved","closed"],"to":"in_progress"}`))
		}, want: []problem{{"/transitions/7/from/1", `state "closed" is final`}}},
		{name: "approval into a final state", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"fast","from":["new"],"to":"closed","approval":"manager_ok"}`))
		}, want: []problem{{"/transitions/7/to", `state "closed" is final, but the record must leave it`}}},
		{name: "approval outcome is the transition's target", change: func(d map[string]any) {
			set(d, "/transitions/-", obj(t, `{"key":"fast","from":["new"],"to":"resolved","approval":"manager_ok"}`))
		}, want: []problem{{"/transitions/7/approval", `would leave the record in "resolved"`}}},

		// Guards, requirements, fragments.
		{name: "unknown field in an expression", change: func(d map[string]any) { set(d, "/transitions/0/guards/expr", "data.nope == 'x'") },
			want: []problem{{"/transitions/0/guards/expr", "undefined field 'nope'"}}},
		{name: "expression of the wrong type", change: func(d map[string]any) { set(d, "/transitions/0/guards/expr", "data.amount > 'x'") },
			want: []problem{{"/transitions/0/guards/expr", "1:13: found no matching overload"}}},
		{name: "expression not a bool", change: func(d map[string]any) { set(d, "/transitions/0/guards/expr", "data.summary") },
			want: []problem{{"/transitions/0/guards/expr", "must produce a bool"}}},
		{name: "expression reads an unknown viewer field", change: func(d map[string]any) { set(d, "/transitions/0/guards/expr", "viewer.email != ''") },
			want: []problem{{"/transitions/0/guards/expr", "undefined field 'email'"}}},
		{name: "unknown role and permission in guards", change: func(d map[string]any) {
			set(d, "/transitions/0/guards/roles/-", "ceo")
			set(d, "/transitions/0/guards/permissions/-", "ticket:fly")
		}, want: []problem{{"/transitions/0/guards/permissions/1", `unknown permission "ticket:fly"`}, {"/transitions/0/guards/roles/2", `unknown role "ceo"`}}},
		{name: "requires an unknown field", change: func(d map[string]any) { set(d, "/transitions/0/requires/-", "budget") },
			want: []problem{{"/transitions/0/requires/1", `the form has no field "budget"`}}},
		{name: "schema keyword the built-in checker does not know", change: func(d map[string]any) {
			set(d, "/transitions/0/schema/minProperties", 1)
			set(d, "/transitions/0/form/properties/comment/maxLength", 200)
		}, want: []problem{{"/transitions/0/form/properties/comment/maxLength", `does not know the keyword "maxLength"`},
			{"/transitions/0/schema/minProperties", `does not know the keyword "minProperties"`}}},
		{name: "form that is not an object schema", change: func(d map[string]any) { set(d, "/transitions/0/form/type", "array") },
			want: []problem{{"/transitions/0/form/type", `must be "object"`}}},
		{name: "form property of an unknown type", change: func(d map[string]any) { set(d, "/transitions/0/form/properties/comment/type", "text") },
			want: []problem{{"/transitions/0/form/properties/comment/type", "text is not a JSON Schema type"}}},

		// Plugins.
		{name: "unknown action", change: func(d map[string]any) { set(d, "/transitions/0/actions/0/type", "action.launch") },
			want: []problem{{"/transitions/0/actions/0/type", `unknown plugin "action.launch"`}}},
		{name: "plugin of the wrong namespace", change: func(d map[string]any) { set(d, "/approvals/0/approvers/type", "action.notify") },
			want: []problem{{"/approvals/0/approvers/type", `"action.notify" is not a plugin of the approver.* namespace`}}},
		{name: "unknown breach action", change: func(d map[string]any) { set(d, "/sla/0/breach/0/type", "action.page") },
			want: []problem{{"/sla/0/breach/0/type", `unknown plugin "action.page"`}}},
		{name: "unknown fallback resolver", change: func(d map[string]any) { set(d, "/approvals/0/fallback", obj(t, `{"type":"approver.oracle"}`)) },
			want: []problem{{"/approvals/0/fallback/type", `unknown plugin "approver.oracle"`}}},
		{name: "approvers missing", change: func(d map[string]any) { del(d, "/approvals/0/approvers") },
			want: []problem{{"/approvals/0/approvers", "is required"}}},
		{name: "nil Options funcs know nothing", opts: &Options{Schema: []byte(testSchema)}, want: []problem{
			{"/fieldAccess/0/roles/0", `unknown role "sales"`},
			{"/transitions/0/actions/0/type", `unknown plugin "action.set_field"`},
			{"/transitions/0/guards/permissions/0", `unknown permission "ticket:update"`},
			{"/transitions/0/guards/roles/0", `unknown role "admin"`},
			{"/transitions/0/guards/roles/1", `unknown role "sales"`},
			{"/transitions/2/guards/roles/0", `unknown role "admin"`},
			{"/approvals/0/approvers/type", `unknown plugin "approver.role"`},
			{"/sla/0/breach/0/type", `unknown plugin "action.notify"`},
		}},

		// Approvals.
		{name: "bad mode", change: func(d map[string]any) { set(d, "/approvals/0/mode", "majority") },
			want: []problem{{"/approvals/0/mode", `"majority" is not a mode`}}},
		{name: "ratio outside mode ratio", change: func(d map[string]any) { set(d, "/approvals/0/ratio", 0.5) },
			want: []problem{{"/approvals/0/ratio", "only allowed in mode ratio"}}},
		{name: "mode ratio without ratio", change: func(d map[string]any) { set(d, "/approvals/0/mode", "ratio") },
			want: []problem{{"/approvals/0/ratio", "is required in mode ratio"}}},
		{name: "ratio zero", change: func(d map[string]any) { set(d, "/approvals/0/mode", "ratio"); set(d, "/approvals/0/ratio", 0) },
			want: []problem{{"/approvals/0/ratio", "greater than 0 and at most 1, not 0"}}},
		{name: "ratio above one", change: func(d map[string]any) { set(d, "/approvals/0/mode", "ratio"); set(d, "/approvals/0/ratio", 1.5) },
			want: []problem{{"/approvals/0/ratio", "not 1.5"}}},
		{name: "ratio one", change: func(d map[string]any) { set(d, "/approvals/0/mode", "ratio"); set(d, "/approvals/0/ratio", 1) }},
		{name: "ratio not a number", change: func(d map[string]any) { set(d, "/approvals/0/mode", "ratio"); set(d, "/approvals/0/ratio", "60%") },
			want: []problem{{"/approvals/0/ratio", "must be a number, not a string"}}},

		// SLA timers.
		{name: "bad target", change: func(d map[string]any) { set(d, "/sla/0/target", "4x") },
			want: []problem{{"/sla/0/target", `unit 'x' at offset 1 is not d, h or m`}}},
		{name: "empty target", change: func(d map[string]any) { set(d, "/sla/0/target", "") },
			want: []problem{{"/sla/0/target", "must not be empty"}}},
		{name: "zero target", change: func(d map[string]any) { set(d, "/sla/0/target", "0h") },
			want: []problem{{"/sla/0/target", "is not positive"}}},
		{name: "days in working time", change: func(d map[string]any) { set(d, "/sla/0/target", "2d") },
			want: []problem{{"/sla/0/target", "days are ambiguous in working time"}}},
		{name: "days in calendar time", change: func(d map[string]any) { set(d, "/sla/0/target", "2d"); set(d, "/sla/0/calendar", "calendar") }},
		{name: "bad calendar", change: func(d map[string]any) { set(d, "/sla/0/calendar", "business") },
			want: []problem{{"/sla/0/calendar", `"business" is not a clock`}}},
		{name: "warnings out of order", change: func(d map[string]any) { set(d, "/sla/0/warnAt", []any{0.8, 0.5}) },
			want: []problem{{"/sla/0/warnAt/1", "greater than the warning before it (0.8)"}}},
		{name: "warnings out of range", change: func(d map[string]any) { set(d, "/sla/0/warnAt", []any{0, 0.5, 1}) },
			want: []problem{{"/sla/0/warnAt/0", "not 0"}, {"/sla/0/warnAt/2", "less than 1, not 1"}}},
		{name: "warning not a number", change: func(d map[string]any) { set(d, "/sla/0/warnAt", []any{"half"}) },
			want: []problem{{"/sla/0/warnAt/0", "must be a number"}}},

		// All problems together, sorted by section and index.
		{name: "several problems at once", change: func(d map[string]any) {
			set(d, "/sla/0/target", "soon")
			set(d, "/states/0/category", "open")
			set(d, "/transitions/3/to", "gone")
			d["version"] = 2
			set(d, "/approvals/0/mode", "most")
		}, want: []problem{
			{"/states/0/category", "is not a category"},
			{"/states/4", `"closed" cannot be reached from the initial state "new"`},
			{"/transitions/3/to", `unknown state "gone"`},
			{"/approvals/0/mode", "is not a mode"},
			{"/sla/0/target", "expected a number"},
			{"/version", `unknown key "version"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.raw
			if tt.change != nil {
				doc = edit(t, baseDefinition, tt.change)
			} else if doc == "" {
				doc = baseDefinition
			}
			opts := testOptions()
			if tt.opts != nil {
				opts = *tt.opts
			}
			w, err := Parse([]byte(doc), opts)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if w != nil {
				t.Errorf("Parse returned a workflow with its error")
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse = %v, want Problems", err)
			}
			if !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("errors.Is(err, ErrInvalidDefinition) = false")
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(ps), len(tt.want), listProblems(ps))
			}
			for i, want := range tt.want {
				if ps[i].Pointer != want.ptr || !strings.Contains(ps[i].Message, want.msg) {
					t.Errorf("problem %d = %s: %s, want %s: …%s…", i, ps[i].Pointer, ps[i].Message, want.ptr, want.msg)
				}
			}
		})
	}
}

// listProblems formats problems one a line for a failure message.
func listProblems(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s: %s\n", p.Pointer, p.Message)
	}
	return b.String()
}

func TestParseRefusesABadFormSchema(t *testing.T) {
	opts := testOptions()
	opts.Schema = []byte(`{"type":"array"}`)
	_, err := Parse([]byte(baseDefinition), opts)
	var ps Problems
	if err == nil || errors.As(err, &ps) {
		t.Fatalf("Parse = %v, want an error about the form schema", err)
	}
}

func TestProblemsError(t *testing.T) {
	err := Problems{{Pointer: "", Message: "a"}, {Pointer: "/states/0/key", Message: "b"}}
	if got, want := err.Error(), "flows: invalid workflow definition: (root): a; /states/0/key: b"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseCompilesFragmentsWithTheCallersValidator(t *testing.T) {
	var compiled []string
	opts := testOptions()
	opts.CompileSchema = func(schema json.RawMessage) (SchemaCheck, error) {
		compiled = append(compiled, string(schema))
		if strings.Contains(string(schema), "bogus") {
			return nil, errors.New("keyword bogus is not draft-07")
		}
		return func(ctx context.Context, doc map[string]any) ([]Violation, error) {
			if _, ok := doc["summary"]; ok {
				return nil, nil
			}
			return []Violation{{Pointer: "/summary", Keyword: "required", Message: map[string]string{"en": "Summary, please.", "zh-CN": "请填写摘要。"}}}, nil
		}, nil
	}
	if _, err := Parse([]byte(baseDefinition), opts); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []string{`{"required":["summary"]}`, `{"properties":{"comment":{"type":"string"}},"required":["comment"],"type":"object"}`}
	if fmt.Sprint(compiled) != fmt.Sprint(want) {
		t.Errorf("compiled %q, want %q", compiled, want)
	}

	bad := edit(t, baseDefinition, func(d map[string]any) { set(d, "/transitions/0/schema/bogus", true) })
	_, err := Parse([]byte(bad), opts)
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Pointer != "/transitions/0/schema" || !strings.Contains(ps[0].Message, "bogus") {
		t.Errorf("Parse = %v, want one problem at /transitions/0/schema", err)
	}
}

func TestDefaultFlowsParse(t *testing.T) {
	opts := Options{
		KnownPlugin: known("approver.role"),
		KnownRole:   known("admin", "manager", "sales"),
	}
	for name, doc := range map[string][]byte{"ticket": DefaultTicketFlow(), "project": DefaultProjectFlow()} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(doc, opts); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestDefaultTicketFlow(t *testing.T) {
	w := mustParse(t, string(DefaultTicketFlow()), Options{})
	ctx, now := context.Background(), time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)
	path := []struct{ from, transition, to string }{
		{"new", "start", "in_progress"},
		{"in_progress", "resolve", "resolved"},
		{"resolved", "close", "closed"},
		{"closed", "reopen", "in_progress"},
		{"in_progress", "resolve", "resolved"},
		{"resolved", "reopen", "in_progress"},
	}
	for _, step := range path {
		var input map[string]any
		if step.transition == "reopen" {
			input = map[string]any{"reason": "the customer wrote back"}
		}
		d, err := w.Check(ctx, step.transition, step.from, Record{}, Viewer{ID: "u1"}, input, now)
		if err != nil || !d.Allowed || d.To != step.to {
			t.Errorf("%s from %s = %+v, %v; want allowed to %s", step.transition, step.from, d, err, step.to)
		}
	}
	d, err := w.Check(ctx, "reopen", "closed", Record{}, Viewer{ID: "u1"}, nil, now)
	if err != nil || d.Allowed || len(d.Reasons) != 1 || d.Reasons[0].Key != ReasonForm || d.Reasons[0].Field != "/reason" {
		t.Errorf("reopen without a reason = %+v, %v; want refused for the form's reason", d, err)
	}
	if got := w.TimersFor("closed", "in_progress"); fmt.Sprint(got.Start) != "[resolution]" {
		t.Errorf("reopening starts %v, want [resolution]", got.Start)
	}
}

func TestDefaultProjectFlow(t *testing.T) {
	w := mustParse(t, string(DefaultProjectFlow()), Options{KnownPlugin: known("approver.role"), KnownRole: known("admin", "manager")})
	submit, _ := w.Transition("submit")
	a, ok := w.Approval(submit.Approval)
	if !ok || a.Mode != ModeAny || a.AllowSelfApproval || a.Fallback == nil || string(a.Fallback.Config) != `{"role":"admin"}` {
		t.Fatalf("the submit approval = %+v", a)
	}
	if a.OnApprove != "active" || a.OnReject != "draft" || submit.To != "pending_approval" {
		t.Errorf("approval outcomes %s/%s from %s", a.OnApprove, a.OnReject, submit.To)
	}
	// The only manager submitted the project: the step falls back to the admins.
	tally, err := a.Step([]string{"m1"}, "m1").Tally(nil)
	if err != nil || tally.Outcome != OutcomeNeedsFallback {
		t.Errorf("Tally = %+v, %v; want needs_fallback", tally, err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "4h", want: 4 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "2d", want: 48 * time.Hour},
		{in: "1d12h30m", want: 36*time.Hour + 30*time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "3650d", want: MaxDuration},
		{in: "", err: "empty"},
		{in: "h", err: "expected a number"},
		{in: "4", err: "has no unit"},
		{in: "4s", err: "is not d, h or m"},
		{in: "30m1h", err: "out of order"},
		{in: "1h1h", err: "out of order"},
		{in: "-4h", err: "expected a number"},
		{in: "1.5h", err: "is not d, h or m"},
		{in: "4 h", err: "is not d, h or m"},
		{in: "0m", err: "not positive"},
		{in: "3651d", err: "longer than 3650 days"},
		{in: "99999999999999999999m", err: "longer than 3650 days"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseDuration(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFieldRules(t *testing.T) {
	doc := edit(t, baseDefinition, func(d map[string]any) {
		set(d, "/fieldAccess/-", obj(t, `{"state":"closed","readOnly":["summary","amount"]}`))
		set(d, "/fieldAccess/-", obj(t, `{"state":"new","roles":["sales"],"hidden":["cost"]}`))
	})
	w := mustParse(t, doc, testOptions())
	tests := []struct {
		state            string
		roles            []string
		readOnly, hidden string
	}{
		{"closed", []string{"sales"}, "[amount cost summary]", "[cost]"},
		{"closed", []string{"admin"}, "[amount summary]", "[]"},
		{"closed", nil, "[amount summary]", "[]"},
		{"new", []string{"manager", "sales"}, "[cost]", "[cost]"},
		{"new", []string{"manager"}, "[]", "[]"},
		{"in_progress", []string{"sales"}, "[]", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.state+fmt.Sprint(tt.roles), func(t *testing.T) {
			got := w.FieldRules(tt.state, tt.roles)
			if fmt.Sprint(got.ReadOnly) != tt.readOnly || fmt.Sprint(got.Hidden) != tt.hidden {
				t.Errorf("FieldRules = %v / %v, want %s / %s", got.ReadOnly, got.Hidden, tt.readOnly, tt.hidden)
			}
		})
	}
}
