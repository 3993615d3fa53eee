package flows

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// testSchema is the form schema the tests' workflows move records of.
const testSchema = `{
  "type": "object",
  "properties": {
    "priority": {"type": "string", "enum": ["low", "normal", "high"]},
    "summary": {"type": "string"},
    "assignee_note": {"type": "string"},
    "amount": {"type": "number"},
    "cost": {"type": "number"},
    "started": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "address": {"type": "object", "properties": {"city": {"type": "string"}}}
  }
}`

// baseDefinition is a valid definition every problem case changes a little.
const baseDefinition = `{
  "initial": "new",
  "states": [
    {"key": "new", "category": "todo"},
    {"key": "in_progress", "category": "in_progress"},
    {"key": "pending_approval", "category": "in_progress"},
    {"key": "resolved", "category": "done"},
    {"key": "closed", "category": "done", "final": true},
    {"key": "rejected", "category": "done", "final": true},
    {"key": "pending_customer", "category": "in_progress"}
  ],
  "fieldAccess": [{"state": "closed", "roles": ["sales"], "readOnly": ["amount"], "hidden": ["cost"]}],
  "transitions": [
    {"key": "start", "from": ["new"], "to": "in_progress", "name": {"zh-CN": "开始处理", "en": "Start"},
     "guards": {"roles": ["admin", "sales"], "permissions": ["ticket:update"], "assignee": true,
                "expr": "data.priority != 'low' || viewer.roles.exists(r, r == 'admin')"},
     "requires": ["assignee_note"], "schema": {"required": ["summary"]},
     "form": {"type": "object", "required": ["comment"], "properties": {"comment": {"type": "string"}}},
     "actions": [{"type": "action.set_field", "config": {"field": "started", "value": true}}]},
    {"key": "submit", "from": ["in_progress"], "to": "pending_approval", "approval": "manager_ok"},
    {"key": "resolve", "from": ["in_progress"], "to": "resolved", "guards": {"roles": ["admin"]}},
    {"key": "close", "from": ["resolved"], "to": "closed"},
    {"key": "reject", "from": ["new", "in_progress"], "to": "rejected"},
    {"key": "wait", "from": ["in_progress"], "to": "pending_customer"},
    {"key": "answer", "from": ["pending_customer"], "to": "in_progress"}
  ],
  "approvals": [
    {"key": "manager_ok", "mode": "all", "approvers": {"type": "approver.role", "config": {"role": "manager"}},
     "allowSelfApproval": false, "onApprove": "resolved", "onReject": "in_progress"}
  ],
  "sla": [
    {"key": "first_response", "start": {"enter": ["new"]}, "stop": {"enter": ["in_progress", "closed"]},
     "pause": {"enter": ["pending_customer"]}, "target": "4h", "calendar": "working", "warnAt": [0.5, 0.8],
     "breach": [{"type": "action.notify", "config": {"to": "manager"}}]}
  ]
}`

// testOptions knows the roles, permissions and plugins the tests name.
func testOptions() Options {
	return Options{
		Schema:          []byte(testSchema),
		KnownPlugin:     known("action.set_field", "action.notify", "approver.role", "approver.user"),
		KnownRole:       known("admin", "sales", "manager"),
		KnownPermission: known("ticket:update", "ticket:close"),
	}
}

// known returns a func that knows names.
func known(names ...string) func(string) bool {
	return func(s string) bool { return slices.Contains(names, s) }
}

// mustParse parses a definition the test relies on.
func mustParse(t testing.TB, doc string, opts Options) *Workflow {
	t.Helper()
	w, err := Parse([]byte(doc), opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return w
}

// edit decodes a definition, applies change to it and encodes it again.
func edit(t testing.TB, doc string, change func(d map[string]any)) string {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	change(d)
	out, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// at returns the container holding the last token of ptr, and that token.
func at(d map[string]any, ptr string) (any, string) {
	tokens := strings.Split(ptr, "/")[1:]
	var cur any = d
	for _, tok := range tokens[:len(tokens)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, _ := strconv.Atoi(tok)
			cur = c[i]
		}
	}
	return cur, tokens[len(tokens)-1]
}

// set sets the value at ptr; "-" as the last token appends to an array.
func set(d map[string]any, ptr string, v any) {
	parent, last := at(d, ptr)
	switch c := parent.(type) {
	case map[string]any:
		c[last] = v
	case []any:
		if last == "-" {
			parentPtr := ptr[:strings.LastIndex(ptr, "/")]
			set(d, parentPtr, append(c, v))
			return
		}
		i, _ := strconv.Atoi(last)
		c[i] = v
	}
}

// del deletes the key at ptr.
func del(d map[string]any, ptr string) {
	parent, last := at(d, ptr)
	delete(parent.(map[string]any), last)
}

// obj decodes a JSON value written in a test.
func obj(t testing.TB, js string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("obj(%s): %v", js, err)
	}
	return v
}
