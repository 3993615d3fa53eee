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

// now is the instant the engine tests evaluate at.
var testNow = time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)

// reasonKeys returns the keys of reasons, with their field when they have one.
func reasonKeys(rs []Reason) string {
	var out []string
	for _, r := range rs {
		if r.Field != "" {
			out = append(out, r.Key+"@"+r.Field)
		} else {
			out = append(out, r.Key)
		}
	}
	return strings.Join(out, " ")
}

func TestCheck(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	// passing returns a viewer, record and input for which start passes
	// every check; each case breaks some of them.
	passing := func() (Viewer, Record, map[string]any) {
		return Viewer{ID: "u1", Roles: []string{"sales"}, Permissions: []string{"ticket:update"}},
			Record{Assignee: "u1", Data: map[string]any{"priority": "high", "assignee_note": "on it", "summary": "printer on fire"}},
			map[string]any{"comment": "starting now"}
	}
	tests := []struct {
		name   string
		state  string
		change func(v *Viewer, r *Record, in *map[string]any)
		want   string // reasonKeys of the decision
	}{
		{name: "everything passes"},
		{name: "not from this state", state: "in_progress", want: "state"},
		{name: "role missing", change: func(v *Viewer, _ *Record, _ *map[string]any) { v.Roles = []string{"manager"} }, want: "guard.role"},
		{name: "no roles at all", change: func(v *Viewer, _ *Record, _ *map[string]any) { v.Roles = nil }, want: "guard.role"},
		{name: "one of the roles suffices", change: func(v *Viewer, _ *Record, _ *map[string]any) { v.Roles = []string{"manager", "admin"} }},
		{name: "permission missing", change: func(v *Viewer, _ *Record, _ *map[string]any) { v.Permissions = []string{"ticket:close"} }, want: "guard.permission"},
		{name: "not the assignee", change: func(_ *Viewer, r *Record, _ *map[string]any) { r.Assignee = "u2" }, want: "guard.assignee"},
		{name: "nobody assigned", change: func(v *Viewer, r *Record, _ *map[string]any) { r.Assignee, v.ID = "", "" }, want: "guard.assignee"},
		{name: "expression false", change: func(_ *Viewer, r *Record, _ *map[string]any) { r.Data["priority"] = "low" }, want: "guard.expr"},
		{name: "expression true for an admin", change: func(v *Viewer, r *Record, _ *map[string]any) {
			r.Data["priority"] = "low"
			v.Roles = []string{"admin"}
		}},
		{name: "expression on an absent field", change: func(_ *Viewer, r *Record, _ *map[string]any) { delete(r.Data, "priority") }, want: "guard.expr"},
		{name: "required field blank", change: func(_ *Viewer, r *Record, _ *map[string]any) { r.Data["assignee_note"] = "  " }, want: "requires@/assignee_note"},
		{name: "required field absent", change: func(_ *Viewer, r *Record, _ *map[string]any) { delete(r.Data, "assignee_note") }, want: "requires@/assignee_note"},
		{name: "schema not met", change: func(_ *Viewer, r *Record, _ *map[string]any) { delete(r.Data, "summary") }, want: "schema@/summary"},
		{name: "form input missing", change: func(_ *Viewer, _ *Record, in *map[string]any) { *in = nil }, want: "form@/comment"},
		{name: "form input of the wrong type", change: func(_ *Viewer, _ *Record, in *map[string]any) { (*in)["comment"] = 5.0 }, want: "form@/comment"},
		{name: "every check fails", state: "pending_customer", change: func(v *Viewer, r *Record, in *map[string]any) {
			*v = Viewer{ID: "u9"}
			*r = Record{Assignee: "u1", Data: map[string]any{"priority": "low"}}
			*in = map[string]any{"comment": true}
		}, want: "state guard.role guard.permission guard.assignee guard.expr requires@/assignee_note schema@/summary form@/comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, rec, input := passing()
			if tt.change != nil {
				tt.change(&v, &rec, &input)
			}
			state := tt.state
			if state == "" {
				state = "new"
			}
			d, err := w.Check(context.Background(), "start", state, rec, v, input, testNow)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := reasonKeys(d.Reasons); got != tt.want {
				t.Errorf("reasons = %q, want %q", got, tt.want)
			}
			if d.Allowed != (tt.want == "") {
				t.Errorf("Allowed = %v with reasons %q", d.Allowed, tt.want)
			}
			if d.Transition != "start" || d.From != state || d.To != "in_progress" || len(d.Actions) != 1 || d.Actions[0].Type != "action.set_field" {
				t.Errorf("decision = %+v", d)
			}
		})
	}
}

func TestCheckReasonDetails(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	ctx := context.Background()
	v := Viewer{ID: "u1", Roles: []string{"manager"}, Permissions: []string{"ticket:update"}}
	rec := Record{Assignee: "u1", Data: map[string]any{"assignee_note": "x", "summary": "y"}}
	d, err := w.Check(ctx, "start", "new", rec, v, map[string]any{"comment": "c"}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Reasons) != 2 {
		t.Fatalf("reasons = %s", reasonKeys(d.Reasons))
	}
	role, ex := d.Reasons[0], d.Reasons[1]
	if role.Pointer != "/transitions/0/guards/roles" || role.Message["en"] != "Requires one of the roles admin, sales." ||
		role.Message["zh-CN"] != "需要以下角色之一：admin, sales。" || role.Params["roles"] != "admin, sales" {
		t.Errorf("role reason = %+v", role)
	}
	if ex.Pointer != "/transitions/0/guards/expr" || !strings.Contains(ex.Detail, "no such key") || ex.Message["zh-CN"] != "不满足执行此操作的条件。" {
		t.Errorf("expression reason = %+v", ex)
	}

	d, err = w.Check(ctx, "start", "new", Record{Assignee: "u1", Data: map[string]any{"priority": "high"}}, Viewer{ID: "u1", Roles: []string{"sales"}, Permissions: []string{"ticket:update"}}, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []Reason{
		{Key: ReasonRequires, Pointer: "/transitions/0/requires/0", Field: "/assignee_note", Message: map[string]string{"en": "The field assignee_note must be filled in.", "zh-CN": "必须填写字段 assignee_note。"}},
		{Key: ReasonSchema, Pointer: "/transitions/0/schema", Field: "/summary", Message: map[string]string{"en": "This field is required.", "zh-CN": "此项为必填项。"}},
		{Key: ReasonForm, Pointer: "/transitions/0/form", Field: "/comment", Message: map[string]string{"en": "This field is required.", "zh-CN": "此项为必填项。"}},
	}
	for i, r := range d.Reasons {
		if i >= len(want) || r.Key != want[i].Key || r.Pointer != want[i].Pointer || r.Field != want[i].Field || fmt.Sprint(r.Message) != fmt.Sprint(want[i].Message) {
			t.Errorf("reason %d = %+v", i, r)
		}
	}

	d, err = w.Check(ctx, "close", "resolved", Record{}, Viewer{ID: "u1"}, map[string]any{"note": "bye"}, testNow)
	if err != nil || d.Allowed || reasonKeys(d.Reasons) != "form" || d.Reasons[0].Message["en"] != "This transition takes no input." {
		t.Errorf("input to a transition without a form = %+v, %v", d, err)
	}
}

func TestCheckErrors(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	ctx := context.Background()
	if _, err := w.Check(ctx, "fly", "new", Record{}, Viewer{}, nil, testNow); !errors.Is(err, ErrUnknownTransition) {
		t.Errorf("unknown transition: %v", err)
	}
	if _, err := w.Check(ctx, "start", "limbo", Record{}, Viewer{}, nil, testNow); !errors.Is(err, ErrUnknownState) {
		t.Errorf("unknown state: %v", err)
	}
	if _, err := w.Available(ctx, "limbo", Record{}, Viewer{}, testNow); !errors.Is(err, ErrUnknownState) {
		t.Errorf("Available from an unknown state: %v", err)
	}
	if _, err := w.Simulate(ctx, "limbo", Record{}, Viewer{}, testNow); !errors.Is(err, ErrUnknownState) {
		t.Errorf("Simulate from an unknown state: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.Check(cancelled, "start", "new", Record{}, Viewer{}, nil, testNow); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestRequires(t *testing.T) {
	doc := `{"initial":"a","states":[{"key":"a","category":"todo"},{"key":"b","category":"done","final":true}],
		"transitions":[{"key":"go","from":["a"],"to":"b","requires":["summary","started","amount","tags","address.city"]}]}`
	w := mustParse(t, doc, testOptions())
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"all filled in", map[string]any{"summary": "s", "started": true, "amount": 1.5, "tags": []any{"x"}, "address": map[string]any{"city": "Shanghai"}}, ""},
		{"false and zero are values", map[string]any{"summary": "s", "started": false, "amount": 0.0, "tags": []any{"x"}, "address": map[string]any{"city": "Shanghai"}}, ""},
		{"nothing", nil, "/summary /started /amount /tags /address/city"},
		{"null, blank and empty", map[string]any{"summary": " \t", "started": nil, "amount": 1, "tags": []any{}, "address": map[string]any{}}, "/summary /started /tags /address/city"},
		{"nested path through a non-object", map[string]any{"summary": "s", "started": true, "amount": 1, "tags": []any{1}, "address": "Shanghai"}, "/address/city"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := w.Check(context.Background(), "go", "a", Record{Data: tt.data}, Viewer{}, nil, testNow)
			if err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, r := range d.Reasons {
				if r.Key != ReasonRequires {
					t.Errorf("reason %s", r.Key)
				}
				fields = append(fields, r.Field)
			}
			if got := strings.Join(fields, " "); got != tt.want {
				t.Errorf("missing %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAvailable(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	sales := Viewer{ID: "u1", Roles: []string{"sales"}, Permissions: []string{"ticket:update"}}
	admin := Viewer{ID: "u2", Roles: []string{"admin"}}
	complete := Record{Assignee: "u1", Data: map[string]any{"priority": "high", "assignee_note": "n", "summary": "s"}}
	incomplete := Record{Assignee: "u1", Data: map[string]any{"priority": "high"}}
	tests := []struct {
		name  string
		state string
		rec   Record
		v     Viewer
		want  string // transition keys, with their blocked reasons
	}{
		{"assignee with a complete record", "new", complete, sales, "start reject"},
		{"assignee with an incomplete record", "new", incomplete, sales, "start[requires@/assignee_note schema@/summary] reject"},
		{"someone else", "new", complete, admin, "reject"},
		{"resolve is for admins", "in_progress", complete, sales, "submit reject wait"},
		{"admins may resolve", "in_progress", complete, admin, "submit resolve reject wait"},
		{"nothing leaves a final state", "closed", complete, admin, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := w.Available(context.Background(), tt.state, tt.rec, tt.v, testNow)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range opts {
				s := o.Transition
				if len(o.Blocked) > 0 {
					s += "[" + reasonKeys(o.Blocked) + "]"
				}
				got = append(got, s)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("Available = %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
	opts, _ := w.Available(context.Background(), "new", complete, sales, testNow)
	if o := opts[0]; o.To != "in_progress" || o.Name["en"] != "Start" || string(o.Form) == "" || o.Approval != "" {
		t.Errorf("start option = %+v", o)
	}
	opts, _ = w.Available(context.Background(), "in_progress", complete, sales, testNow)
	if o := opts[0]; o.Transition != "submit" || o.To != "pending_approval" || o.Approval != "manager_ok" {
		t.Errorf("submit option = %+v", o)
	}
}

func TestSimulate(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	rec := Record{Assignee: "u1", Data: map[string]any{"priority": "low", "summary": "s"}}
	v := Viewer{ID: "u7", Roles: []string{"sales"}}
	got, err := w.Simulate(context.Background(), "new", rec, v, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Simulate = %+v, want start and reject", got)
	}
	start, reject := got[0], got[1]
	if start.Transition != "start" || start.To != "in_progress" || start.Passed ||
		reasonKeys(start.Reasons) != "guard.permission guard.assignee guard.expr requires@/assignee_note" {
		t.Errorf("start = %+v (%s)", start, reasonKeys(start.Reasons))
	}
	if reject.Transition != "reject" || reject.To != "rejected" || !reject.Passed || len(reject.Reasons) != 0 {
		t.Errorf("reject = %+v", reject)
	}
	pointers := make([]string, len(start.Reasons))
	for i, r := range start.Reasons {
		pointers[i] = r.Pointer
	}
	if want := "/transitions/0/guards/permissions/0 /transitions/0/guards/assignee /transitions/0/guards/expr /transitions/0/requires/0"; strings.Join(pointers, " ") != want {
		t.Errorf("pointers = %v, want %s", pointers, want)
	}

	got, err = w.Simulate(context.Background(), "in_progress", rec, Viewer{ID: "u1", Roles: []string{"admin"}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range got {
		keys = append(keys, fmt.Sprintf("%s:%v", o.Transition, o.Passed))
	}
	if want := "submit:true resolve:true reject:true wait:true"; strings.Join(keys, " ") != want {
		t.Errorf("Simulate(in_progress) = %s, want %s", strings.Join(keys, " "), want)
	}
}

func TestCheckWithTheCallersValidator(t *testing.T) {
	opts := testOptions()
	var calls int
	opts.CompileSchema = func(schema json.RawMessage) (SchemaCheck, error) {
		return func(ctx context.Context, doc map[string]any) ([]Violation, error) {
			calls++
			if doc["fail"] == "technical" {
				return nil, errors.New("validator down")
			}
			if _, ok := doc["summary"]; !ok && strings.Contains(string(schema), "summary") {
				return []Violation{{Pointer: "/summary", Keyword: "required", Message: map[string]string{"en": "Summary, please.", "zh-CN": "请填写摘要。"}}}, nil
			}
			return nil, nil
		}, nil
	}
	w := mustParse(t, baseDefinition, opts)
	v := Viewer{ID: "u1", Roles: []string{"sales"}, Permissions: []string{"ticket:update"}}
	d, err := w.Check(context.Background(), "start", "new", Record{Assignee: "u1", Data: map[string]any{"priority": "high", "assignee_note": "n"}}, v, nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if reasonKeys(d.Reasons) != "schema@/summary" || d.Reasons[0].Message["en"] != "Summary, please." || d.Reasons[0].Params["keyword"] != "required" {
		t.Errorf("reasons = %+v", d.Reasons)
	}
	if calls != 2 {
		t.Errorf("the validator ran %d times, want 2 (schema and form)", calls)
	}
	_, err = w.Check(context.Background(), "start", "new", Record{Assignee: "u1", Data: map[string]any{"priority": "high", "fail": "technical"}}, v, nil, testNow)
	if err == nil || !strings.Contains(err.Error(), "validator down") {
		t.Errorf("a failing validator = %v, want its error", err)
	}
}

func TestWorkflowIsSafeForConcurrentUse(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	v := Viewer{ID: "u1", Roles: []string{"sales"}, Permissions: []string{"ticket:update"}}
	rec := Record{Assignee: "u1", Data: map[string]any{"priority": "high", "assignee_note": "n", "summary": "s"}}
	done := make(chan error)
	for range 8 {
		go func() {
			for range 50 {
				d, err := w.Check(context.Background(), "start", "new", rec, v, map[string]any{"comment": "c"}, testNow)
				if err == nil && !d.Allowed {
					err = fmt.Errorf("refused: %s", reasonKeys(d.Reasons))
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
