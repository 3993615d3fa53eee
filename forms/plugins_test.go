package forms

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent/schema/choices"
)

// formatCases are the golden strings each format accepts and refuses
// (testdata/plugins/formats.json).
type formatCases map[string]struct {
	Valid   []string `json:"valid"`
	Invalid []string `json:"invalid"`
}

// fieldCases are the golden configurations of each field type
// (testdata/plugins/fields.json): the schemas valid ones yield, with
// documents those schemas accept and refuse, and the pointers of what is
// wrong with invalid ones. An invalid configuration is given as JSON
// ("config") or, when it cannot be, as text ("raw").
type fieldCases map[string]struct {
	Configs []struct {
		Config json.RawMessage   `json:"config"`
		Schema json.RawMessage   `json:"schema"`
		Accept []json.RawMessage `json:"accept"`
		Reject []struct {
			Data    json.RawMessage `json:"data"`
			Keyword string          `json:"keyword"`
		} `json:"reject"`
		// Provision is what a Provisioner's Provision step asks the host
		// for with the configuration.
		Provision json.RawMessage `json:"provision"`
	} `json:"configs"`
	Invalid []struct {
		Config  json.RawMessage `json:"config"`
		Raw     *string         `json:"raw"`
		Pointer string          `json:"pointer"`
	} `json:"invalid"`
}

// validatorCases are the golden configurations of each record validator
// (testdata/plugins/validators.json): for a configuration and the schema of
// the property it is attached to, the values it accepts (failures null)
// and the failures, rendered, of those it refuses; and the pointers of what
// is wrong with invalid configurations (or with the property they are
// attached to: pointer ""). Values are checked as of testNow.
type validatorCases map[string]struct {
	Configs []struct {
		Config json.RawMessage `json:"config"`
		Schema json.RawMessage `json:"schema"`
		Cases  []struct {
			Name     string          `json:"name"`
			Value    json.RawMessage `json:"value"`
			Failures []goldenFailure `json:"failures"`
		} `json:"cases"`
	} `json:"configs"`
	Invalid []struct {
		Config  json.RawMessage `json:"config"`
		Schema  json.RawMessage `json:"schema"`
		Pointer string          `json:"pointer"`
	} `json:"invalid"`
}

// goldenFailure is a Failure with its messages rendered.
type goldenFailure struct {
	Pointer    string            `json:"pointer"`
	MessageKey string            `json:"messageKey"`
	Params     map[string]string `json:"params"`
	En         string            `json:"en"`
	ZhCN       string            `json:"zh-CN"`
}

// provisionedPicklist is one EnsurePicklist call.
type provisionedPicklist struct {
	Picklist choices.Kind     `json:"picklist"`
	Options  []choices.Option `json:"options"`
}

// recordingHost is a ProvisionHost that records what it is asked for and
// fails with err, when set.
type recordingHost struct {
	picklists []provisionedPicklist
	err       error
}

// EnsurePicklist implements ProvisionHost.
func (h *recordingHost) EnsurePicklist(_ context.Context, kind choices.Kind, options []choices.Option) error {
	h.picklists = append(h.picklists, provisionedPicklist{Picklist: kind, Options: options})
	return h.err
}

var _ ProvisionHost = (*recordingHost)(nil)

func readGolden(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "plugins", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// TestPluginConformance runs every plugin of the default registry through
// one suite: a namespaced id, golden cases, formats that accept and refuse
// what they should (directly and through a compiled schema), field types
// whose configurations decode strictly and whose schemas compile and pass
// CheckSchema.
func TestPluginConformance(t *testing.T) {
	reg := installFormats(t)
	var formats formatCases
	var fields fieldCases
	var validators validatorCases
	readGolden(t, "formats.json", &formats)
	readGolden(t, "fields.json", &fields)
	readGolden(t, "validators.json", &validators)
	c := NewCompiler(CompilerOptions{})
	ctx := context.Background()

	ids := reg.IDs()
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			p, _ := reg.Plugin(id)
			kind, name, ok := strings.Cut(id, ".")
			if !ok || !isPluginName(kind) || !isPluginName(name) || p.ID() != id {
				t.Fatalf("id %q is not namespaced", id)
			}
			switch p := p.(type) {
			case Format:
				cases, ok := formats[id]
				if !ok || len(cases.Valid) == 0 || len(cases.Invalid) == 0 {
					t.Fatalf("no golden cases in testdata/plugins/formats.json")
				}
				if f, ok := reg.Format(p.Name()); !ok || f.ID() != id {
					t.Errorf("Format(%q) does not return the plugin", p.Name())
				}
				for _, s := range cases.Valid {
					if !p.IsFormat(s) {
						t.Errorf("IsFormat(%q) = false, want true", s)
					}
				}
				for _, s := range cases.Invalid {
					if p.IsFormat(s) {
						t.Errorf("IsFormat(%q) = true, want false", s)
					}
				}
				for _, v := range []any{new(big.Rat).SetInt64(12), json.Number("12"), 1.5, true, nil, map[string]any{}, []any{}} {
					if !p.IsFormat(v) {
						t.Errorf("IsFormat(%#v) = false: formats ignore values that are not strings", v)
					}
				}
				schema := []byte(`{"format": "` + p.Name() + `"}`)
				if err := reg.CheckSchema(schema); err != nil {
					t.Errorf("CheckSchema: %v", err)
				}
				v, err := c.Compile(schema)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range append(cases.Valid, cases.Invalid...) {
					doc, _ := json.Marshal(s)
					verr, err := v.Validate(ctx, doc)
					if err != nil {
						t.Fatal(err)
					}
					if want := p.IsFormat(s); (verr == nil) != want {
						t.Errorf("Validate(%s) = %v, want valid = %v", doc, verr, want)
					} else if verr != nil && (verr.Items[0].Keyword != "format" || verr.Items[0].Params["format"] != p.Name()) {
						t.Errorf("Validate(%s) = %+v, want a format error", doc, verr.Items)
					}
				}
			case FieldType:
				cases, ok := fields[id]
				if !ok || len(cases.Configs) == 0 || len(cases.Invalid) == 0 {
					t.Fatalf("no golden cases in testdata/plugins/fields.json")
				}
				if ft, ok := reg.FieldType(id); !ok || ft.ID() != id {
					t.Errorf("FieldType(%q) does not return the plugin", id)
				}
				for _, cfg := range cases.Configs {
					got, err := p.Schema(cfg.Config)
					if err != nil {
						t.Errorf("Schema(%s): %v", cfg.Config, err)
						continue
					}
					if !jsonEqual(t, got, cfg.Schema) {
						t.Errorf("Schema(%s) = %s, want %s", cfg.Config, got, cfg.Schema)
					}
					if err := reg.CheckSchema(got); err != nil {
						t.Errorf("CheckSchema(%s): %v", got, err)
					}
					v, err := c.Compile(got)
					if err != nil {
						t.Errorf("Compile(%s): %v", got, err)
						continue
					}
					for _, doc := range cfg.Accept {
						if verr, err := v.Validate(ctx, doc); err != nil || verr != nil {
							t.Errorf("%s refuses %s: %v %v", got, doc, verr, err)
						}
					}
					for _, r := range cfg.Reject {
						verr, err := v.Validate(ctx, r.Data)
						if err != nil || verr == nil {
							t.Errorf("%s accepts %s (%v)", got, r.Data, err)
							continue
						}
						if verr.Items[0].Keyword != r.Keyword {
							t.Errorf("%s refuses %s with %+v, want %s", got, r.Data, verr.Items, r.Keyword)
						}
					}
					checkProvision(t, p, cfg.Config, cfg.Provision)
				}
				invalid := cases.Invalid
				// Every field type refuses unknown keys.
				invalid = append(invalid, struct {
					Config  json.RawMessage `json:"config"`
					Raw     *string         `json:"raw"`
					Pointer string          `json:"pointer"`
				}{Config: json.RawMessage(`{"no_such_key~": 1}`), Pointer: "/no_such_key~0"})
				for _, bad := range invalid {
					config := bad.Config
					if bad.Raw != nil {
						config = json.RawMessage(*bad.Raw)
					}
					_, err := p.Schema(config)
					var ce *ConfigError
					if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
						t.Errorf("Schema(%s) = %v, want a *ConfigError", config, err)
						continue
					}
					if ce.Pointer != bad.Pointer || ce.Plugin != id {
						t.Errorf("Schema(%s) = %v, want pointer %q", config, err, bad.Pointer)
					}
				}
			case RecordValidator:
				checkValidator(t, reg, p, validators)
			default:
				t.Fatalf("%T is neither a Format, a FieldType nor a RecordValidator", p)
			}
		})
	}
	for id := range formats {
		if _, ok := reg.Plugin(id); !ok {
			t.Errorf("formats.json has cases for %s, which is not registered", id)
		}
	}
	for id := range fields {
		if _, ok := reg.Plugin(id); !ok {
			t.Errorf("fields.json has cases for %s, which is not registered", id)
		}
	}
	for id := range validators {
		if _, ok := reg.Plugin(id); !ok {
			t.Errorf("validators.json has cases for %s, which is not registered", id)
		}
	}
}

// checkValidator runs a record validator through the conformance checks:
// golden cases, messages in its namespace in both locales with every
// placeholder filled, strict configuration decoding, values left as they
// were.
func checkValidator(t *testing.T, reg *Registry, p RecordValidator, all validatorCases) {
	t.Helper()
	id := p.ID()
	cases, ok := all[id]
	if !ok || len(cases.Configs) == 0 || len(cases.Invalid) == 0 {
		t.Fatalf("no golden cases in testdata/plugins/validators.json")
	}
	if v, ok := reg.RecordValidator(id); !ok || v.ID() != id {
		t.Errorf("RecordValidator(%q) does not return the plugin", id)
	}
	messages := p.Messages()
	if len(messages) == 0 {
		t.Errorf("Messages() is empty")
	}
	for key, texts := range messages {
		if key != "form."+id && !strings.HasPrefix(key, "form."+id+".") {
			t.Errorf("message key %s is outside form.%s", key, id)
		}
		if texts["en"] == "" || texts["zh-CN"] == "" {
			t.Errorf("message %s lacks a locale: %v", key, texts)
		}
		if reg.ValidatorMessages()[key]["en"] != texts["en"] {
			t.Errorf("ValidatorMessages() lacks %s", key)
		}
	}
	used := map[string]bool{}
	for _, cfg := range cases.Configs {
		check, err := p.Configure(cfg.Config, cfg.Schema)
		if err != nil {
			t.Errorf("Configure(%s, %s): %v", cfg.Config, cfg.Schema, err)
			continue
		}
		for _, tc := range cfg.Cases {
			t.Run(tc.Name, func(t *testing.T) {
				record := decodeJSON(t, []byte(`{"v": `+string(tc.Value)+`}`))
				failures := check.Validate(record["v"], record, testNow())
				got := make([]goldenFailure, len(failures))
				for i, f := range failures {
					used[f.MessageKey] = true
					texts, ok := messages[f.MessageKey]
					if !ok {
						t.Errorf("message key %s is not in Messages()", f.MessageKey)
					}
					got[i] = goldenFailure{Pointer: f.Pointer, MessageKey: f.MessageKey, Params: f.Params,
						En: render(texts["en"], f.Params), ZhCN: render(texts["zh-CN"], f.Params)}
					if strings.ContainsAny(got[i].En+got[i].ZhCN, "{}") {
						t.Errorf("messages %q, %q are not rendered", got[i].En, got[i].ZhCN)
					}
				}
				if len(got) == 0 {
					got = nil
				}
				if !reflect.DeepEqual(got, tc.Failures) {
					gb, _ := json.Marshal(got)
					t.Errorf("Validate(%s) = %s", tc.Value, gb)
				}
				if !sameJSON(t, record["v"], tc.Value) {
					t.Errorf("Validate modified the value")
				}
			})
		}
	}
	for key := range messages {
		if !used[key] {
			t.Errorf("no golden case produces %s", key)
		}
	}
	invalid := cases.Invalid
	// Every validator refuses unknown keys.
	invalid = append(invalid, struct {
		Config  json.RawMessage `json:"config"`
		Schema  json.RawMessage `json:"schema"`
		Pointer string          `json:"pointer"`
	}{Config: json.RawMessage(`{"no_such_key~": 1}`), Schema: cases.Configs[0].Schema, Pointer: "/no_such_key~0"})
	for _, bad := range invalid {
		_, err := p.Configure(bad.Config, bad.Schema)
		var ce *ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Configure(%s, %s) = %v, want a *ConfigError", bad.Config, bad.Schema, err)
			continue
		}
		if ce.Pointer != bad.Pointer || ce.Plugin != id {
			t.Errorf("Configure(%s, %s) = %v, want pointer %q", bad.Config, bad.Schema, err, bad.Pointer)
		}
	}
	checkProvision(t, p, cases.Configs[0].Config, nil)
}

// checkProvision checks the Provision step of a plugin that is a
// Provisioner: with config it asks the host for what want lists, passes
// the host's failure on, and refuses a configuration with an unknown key
// with a *ConfigError. Plugins that are not Provisioners must have no
// provision cases.
func checkProvision(t *testing.T, p Plugin, config, want json.RawMessage) {
	t.Helper()
	prov, ok := p.(Provisioner)
	if !ok {
		if want != nil {
			t.Errorf("provision cases for a plugin that is not a Provisioner")
		}
		return
	}
	if want == nil {
		t.Fatalf("no provision cases for config %s", config)
	}
	ctx := context.Background()
	host := &recordingHost{}
	if err := prov.Provision(ctx, host, config); err != nil {
		t.Fatalf("Provision(%s): %v", config, err)
	}
	got, _ := json.Marshal(host.picklists)
	if !jsonEqual(t, got, want) {
		t.Errorf("Provision(%s) asked for %s, want %s", config, got, want)
	}
	failing := &recordingHost{err: errors.New("the store is down")}
	if err := prov.Provision(ctx, failing, config); !errors.Is(err, failing.err) && len(failing.picklists) > 0 {
		t.Errorf("Provision with a failing host = %v", err)
	}
	var ce *ConfigError
	if err := prov.Provision(ctx, &recordingHost{}, json.RawMessage(`{"no_such_key": 1}`)); !errors.As(err, &ce) {
		t.Errorf("Provision with an unknown key = %v, want a *ConfigError", err)
	}
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestDefaultRegistry(t *testing.T) {
	reg, err := DefaultRegistry()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"field.date", "field.datetime", "field.file_ref", "field.long_text", "field.money",
		"field.multi_select", "field.number", "field.record_ref", "field.select", "field.subtable",
		"field.text", "field.user_ref",
		"format.cn_mobile", "format.cn_resident_id", "format.email", "format.url", "format.uscc",
		"validator.date_range", "validator.unique_in_rows",
	}
	if got := reg.IDs(); !reflect.DeepEqual(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	for name, id := range map[string]string{"email": "format.email", "cn_mobile": "format.cn_mobile", "cn_resident_id": "format.cn_resident_id", "uscc": "format.uscc", "url": "format.url"} {
		if f, ok := reg.Format(name); !ok || f.ID() != id {
			t.Errorf("Format(%q) = %v, %v; want %s", name, f, ok, id)
		}
	}
	// A second registry is independent of the first.
	other, err := DefaultRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Register(testFormat{id: "format.test_only", name: "test_only"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Format("test_only"); ok {
		t.Error("registries share state")
	}
}

// testFormat is a format for registry tests; it is never installed.
type testFormat struct{ id, name string }

func (f testFormat) ID() string        { return f.id }
func (f testFormat) Name() string      { return f.name }
func (f testFormat) IsFormat(any) bool { return true }

// testPlugin is a plugin of another kind, such as an action.
type plainPlugin string

func (p plainPlugin) ID() string { return string(p) }

type testPlugin string

func (p testPlugin) ID() string { return string(p) }

// CheckConfig makes a testPlugin an Action.
func (p testPlugin) CheckConfig(json.RawMessage) error { return nil }

var (
	_ Format = testFormat{}
	_ Plugin = testPlugin("")
)

func TestRegister(t *testing.T) {
	r := NewRegistry()
	if err := r.Register(testFormat{id: "format.a", name: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(testPlugin("action.webhook")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    Plugin
		want error
	}{
		{"duplicate id", testFormat{id: "format.a", name: "b"}, ErrDuplicatePlugin},
		{"duplicate id of another kind", testPlugin("action.webhook"), ErrDuplicatePlugin},
		{"duplicate format name", testFormat{id: "format.b", name: "a"}, ErrDuplicatePlugin},
		{"no namespace", testPlugin("webhook"), ErrInvalidPlugin},
		{"upper case", testPlugin("Action.webhook"), ErrInvalidPlugin},
		{"empty name", testPlugin("action."), ErrInvalidPlugin},
		{"two dots", testPlugin("action.web.hook"), ErrInvalidPlugin},
		{"format outside format.", testFormat{id: "field.phone", name: "phone"}, ErrInvalidPlugin},
		{"other plugin in format.", testPlugin("format.phone"), ErrInvalidPlugin},
		{"other plugin in field.", testPlugin("field.phone"), ErrInvalidPlugin},
		{"malformed format name", testFormat{id: "format.c", name: "C c"}, ErrInvalidPlugin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := r.Register(tt.p); !errors.Is(err, tt.want) {
				t.Errorf("Register = %v, want %v", err, tt.want)
			}
		})
	}
	if err := r.Register(plainPlugin("action.plain")); !errors.Is(err, ErrInvalidPlugin) {
		t.Errorf("a plain plugin in the action. namespace: %v", err)
	}
	if err := r.Require("format.a", "action.webhook"); err != nil {
		t.Errorf("Require = %v", err)
	}
	err := r.Require("format.a", "validator.unique", "action.sms")
	if !errors.Is(err, ErrMissingPlugin) || !strings.HasSuffix(err.Error(), "action.sms, validator.unique") {
		t.Errorf("Require = %v, want the missing ids", err)
	}
}

func TestInstallFormats(t *testing.T) {
	reg := installFormats(t)
	reg.InstallFormats() // a second call does nothing
	if err := reg.Register(testFormat{id: "format.late", name: "late"}); !errors.Is(err, ErrRegistryInstalled) {
		t.Errorf("Register after InstallFormats = %v, want ErrRegistryInstalled", err)
	}
	if err := reg.Register(testPlugin("action.late")); err != nil {
		t.Errorf("other plugins may still register: %v", err)
	}
	v, err := NewCompiler(CompilerOptions{}).Compile([]byte(`{"properties": {"m": {"format": "cn_mobile"}, "e": {"format": "email"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	verr, err := v.Validate(context.Background(), []byte(`{"m": "123", "e": "Li Na <li.na@example.com>"}`))
	if err != nil || verr == nil || len(verr.Items) != 2 {
		t.Fatalf("Validate = %v, %v; want two format errors", verr, err)
	}
	if verr.Items[0].Pointer != "/e" || verr.Items[1].Pointer != "/m" {
		t.Errorf("items = %+v", verr.Items)
	}
}

func TestCheckSchema(t *testing.T) {
	reg, err := DefaultRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{
		`{"properties": {"d": {"format": "date"}, "m": {"format": "cn_mobile"}, "u": {"format": "uri"}, "x": {"format": "uuid"}}}`,
		`{"definitions": {"a": {"format": "uscc"}}, "items": [{"format": "url"}], "default": {"format": "not-a-schema"}}`,
		`{"enum": [{"format": "data, not a schema"}]}`,
	} {
		if err := reg.CheckSchema([]byte(ok)); err != nil {
			t.Errorf("CheckSchema(%s) = %v", ok, err)
		}
	}
	for schema, pointer := range map[string]string{
		`{"format": "phone"}`: "/format",
		`{"properties": {"a": {"items": {"anyOf": [{}, {"format": "cn_phone"}]}}}}`: "/properties/a/items/anyOf/1/format",
		`{"definitions": {"x/y": {"format": "idn-hostname"}}}`:                      "/definitions/x~1y/format",
		`{"if": {"format": 3}}`:                "/if/format",
		`{"format": "date", "format": "date"}`: "/format",
	} {
		err := reg.CheckSchema([]byte(schema))
		var se *SchemaError
		if !errors.As(err, &se) || se.Pointer != pointer {
			t.Errorf("CheckSchema(%s) = %v, want a *SchemaError at %s", schema, err, pointer)
		}
	}
}
