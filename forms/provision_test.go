package forms

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent/schema/choices"
)

// thingField is a field type whose Provision step refuses configurations
// naming the thing "taken", as a provisioner finding a conflict would.
type thingField struct{}

func (thingField) ID() string { return "field.thing" }

func (f thingField) Schema(config json.RawMessage) (json.RawMessage, error) {
	var thing string
	if err := DecodeConfig(f.ID(), config, ConfigKey{Name: "thing", Dst: &thing, Required: true}); err != nil {
		return nil, err
	}
	return json.RawMessage(`{"type": "string"}`), nil
}

func (f thingField) Provision(_ context.Context, _ ProvisionHost, config json.RawMessage) error {
	var thing string
	if err := DecodeConfig(f.ID(), config, ConfigKey{Name: "thing", Dst: &thing, Required: true}); err != nil {
		return err
	}
	if thing == "taken" {
		return &ConfigError{Plugin: f.ID(), Pointer: "/thing", Reason: "is taken"}
	}
	return nil
}

var _ Provisioner = thingField{}

func TestFormProvision(t *testing.T) {
	reg := installFormats(t)
	if err := reg.Register(thingField{}); err != nil {
		t.Fatal(err)
	}
	d, err := NewDesigner(reg, NewCompiler(CompilerOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	form, err := d.Check([]byte(`{
		"schema": {"type": "object", "properties": {
			"skills": {"x-field": "field.multi_select", "x-config": {"picklist": "skills", "options": [{"key": "go", "labelZh": "Go 语言", "labelEn": "Go"}]}},
			"category": {"x-field": "field.select", "x-config": {"picklist": "ticket_category"}},
			"title": {"x-field": "field.text"},
			"a": {"x-field": "field.thing", "x-config": {"thing": "taken"}},
			"b": {"x-field": "field.thing", "x-config": {"thing": "free"}},
			"c": {"x-field": "field.thing", "x-config": {"thing": "taken"}}
		}},
		"plugins": ["field.multi_select", "field.select", "field.text", "field.thing"]
	}`))
	if err != nil {
		t.Fatal(err)
	}

	// Every use is provisioned, in the order of the document; the
	// refusals come back together, with pointers into the definition.
	host := &recordingHost{}
	err = form.Provision(ctx, host)
	var de *DefinitionError
	if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDefinition) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Provision = %v, want a *DefinitionError", err)
	}
	var got []goldenProblem
	for _, p := range de.Problems {
		got = append(got, goldenProblem{Pointer: p.Pointer, MessageKey: p.MessageKey})
		if p.Message["en"] != "Publishing cannot prepare what field.thing needs: is taken." || p.Message["zh-CN"] != "发布时无法为 field.thing 完成准备：is taken。" {
			t.Errorf("messages %q", p.Message)
		}
	}
	want := []goldenProblem{
		{"/schema/properties/a/x-config/thing", "form.definition.provision"},
		{"/schema/properties/c/x-config/thing", "form.definition.provision"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %+v, want %+v", got, want)
	}
	wantLists := []provisionedPicklist{
		{Picklist: "ticket_category", Options: []choices.Option{}},
		{Picklist: "skills", Options: []choices.Option{{Key: "go", LabelZh: "Go 语言", LabelEn: "Go", Active: true}}},
	}
	if !reflect.DeepEqual(host.picklists, wantLists) {
		t.Errorf("picklists %+v, want %+v", host.picklists, wantLists)
	}

	// A failing host is a technical failure, not the designer's problem.
	down := errors.New("the store is down")
	err = form.Provision(ctx, &recordingHost{err: down})
	if !errors.Is(err, down) || errors.As(err, &de) {
		t.Errorf("Provision with a failing host = %v", err)
	}

	// A form without provisioners provisions nothing.
	plain, err := d.Check([]byte(`{"schema": {"type": "object", "properties": {"due": {"x-field": "field.date"}}}, "plugins": ["field.date"]}`))
	if err != nil {
		t.Fatal(err)
	}
	host = &recordingHost{}
	if err := plain.Provision(ctx, host); err != nil || len(host.picklists) != 0 {
		t.Errorf("Provision = %v, asked for %+v", err, host.picklists)
	}
}

// nowValidator is a record validator for registry tests; it refuses
// nothing.
type nowValidator struct {
	id       string
	messages map[string]map[string]string
}

func (v nowValidator) ID() string                             { return v.id }
func (v nowValidator) Messages() map[string]map[string]string { return v.messages }
func (v nowValidator) Configure(config, _ json.RawMessage) (ValueCheck, error) {
	return v, DecodeConfig(v.id, config)
}
func (v nowValidator) Validate(any, map[string]any, time.Time) []Failure { return nil }

func TestRegisterValidator(t *testing.T) {
	ok := map[string]map[string]string{"form.validator.now": {"en": "Now.", "zh-CN": "现在。"}, "form.validator.now.late": {"en": "Late.", "zh-CN": "晚了。"}}
	tests := []struct {
		name string
		p    Plugin
		want error
	}{
		{"a validator", nowValidator{id: "validator.now", messages: ok}, nil},
		{"outside validator.", nowValidator{id: "action.now", messages: ok}, ErrInvalidPlugin},
		{"another plugin in validator.", testPlugin("validator.plain"), ErrInvalidPlugin},
		{"a message outside its namespace", nowValidator{id: "validator.later", messages: map[string]map[string]string{"form.required": {"en": "x", "zh-CN": "x"}}}, ErrInvalidPlugin},
		{"a message of a validator with a longer id", nowValidator{id: "validator.no", messages: map[string]map[string]string{"form.validator.now": {"en": "x", "zh-CN": "x"}}}, ErrInvalidPlugin},
		{"a message without zh-CN", nowValidator{id: "validator.soon", messages: map[string]map[string]string{"form.validator.soon": {"en": "Soon."}}}, ErrInvalidPlugin},
	}
	r := NewRegistry()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Register(tt.p); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Register = %v, want %v", err, tt.want)
			}
		})
	}
	if v, found := r.RecordValidator("validator.now"); !found || v.ID() != "validator.now" {
		t.Errorf("RecordValidator = %v, %v", v, found)
	}
	if _, found := r.RecordValidator("validator.soon"); found {
		t.Error("a refused validator was registered")
	}
	if got := r.ValidatorMessages(); !reflect.DeepEqual(got, ok) {
		t.Errorf("ValidatorMessages = %v", got)
	}
}
