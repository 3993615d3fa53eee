package formdefs_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/formversion"
	"github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// selectForm is a ticket form whose select fields name picklists, the
// options given for each list in the configuration.
func selectForm(lists map[string][]map[string]any) map[string]any {
	props := map[string]any{}
	for name, options := range lists {
		config := map[string]any{"picklist": name}
		if options != nil {
			config["options"] = options
		}
		props[name] = map[string]any{"x-field": "field.select", "x-config": config}
	}
	return map[string]any{"schema": map[string]any{"type": "object", "properties": props}, "plugins": []string{"field.select"}}
}

func option(key, zh, en string) map[string]any {
	return map[string]any{"key": key, "labelZh": zh, "labelEn": en}
}

// picklists returns the option keys of each of the viewer's picklists.
func picklists(t *testing.T, a *apptest.App, token string) map[string][]string {
	t.Helper()
	var out struct {
		Picklists []struct {
			Kind    string
			Options []struct {
				Key    string
				Active bool
			}
		}
	}
	a.GraphQL(t, token, `{ picklists { kind options { key active } } }`, nil).MustSucceed(t).Decode(t, &out)
	lists := map[string][]string{}
	for _, p := range out.Picklists {
		keys := []string{}
		for _, o := range p.Options {
			if !o.Active {
				t.Errorf("%s: option %s is inactive", p.Kind, o.Key)
			}
			keys = append(keys, o.Key)
		}
		lists[p.Kind] = keys
	}
	return lists
}

func TestPublishProvisionsPicklists(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		admin := a.Login(t, "acme", "admin@acme.test")
		builtin := map[string][]string{
			"customer_level":    {"key_account", "regular", "prospect"},
			"customer_source":   {"referral", "exhibition", "website", "cold_call", "wechat"},
			"customer_industry": {"manufacturing", "retail", "it", "finance", "logistics", "other"},
			"follow_up_type":    {"call", "visit", "wechat", "email", "note"},
		}
		if got := picklists(t, a, admin); !reflect.DeepEqual(got, builtin) {
			t.Fatalf("a new tenant's picklists %v", got)
		}

		create := func(token, key string, doc map[string]any) string {
			t.Helper()
			var out struct {
				CreateForm struct{ LatestVersion struct{ ID string } }
			}
			a.GraphQL(t, token, `mutation($in: CreateFormInput!) { createForm(input: $in) { latestVersion { id } } }`, map[string]any{"in": map[string]any{
				"key": key, "module": "ticket", "nameZh": key, "nameEn": key, "document": doc}}).MustSucceed(t).Decode(t, &out)
			return out.CreateForm.LatestVersion.ID
		}
		publish := func(token, id string) apptest.Result {
			return a.GraphQL(t, token, `mutation($id: ID!) { publishFormVersion(id: $id) { state } }`, map[string]any{"id": id})
		}

		// Saving a draft provisions nothing; publishing creates the new
		// list with the configuration's options and leaves the built-in
		// one it names alone.
		v1 := create(admin, "ticket_extra", selectForm(map[string][]map[string]any{
			"ticket_category": {option("hardware", "硬件", "Hardware"), option("software", "软件", "Software")},
			"customer_level":  {option("gold", "金牌", "Gold")},
		}))
		if _, ok := picklists(t, a, admin)["ticket_category"]; ok {
			t.Fatal("a draft provisioned its picklist")
		}
		publish(admin, v1).MustSucceed(t)
		want := map[string][]string{"ticket_category": {"hardware", "software"}}
		for k, v := range builtin {
			want[k] = v
		}
		if got := picklists(t, a, admin); !reflect.DeepEqual(got, want) {
			t.Fatalf("after publishing: %v, want %v", got, want)
		}

		// A designer without tenant:manage publishes a form naming the
		// same list with other options and a list of its own, with none:
		// the new list is created empty, the existing one is unchanged.
		designer := a.NewUser(t, tn, apptest.UserSpec{Email: "designer@acme.test"})
		sys := a.System(tn.Tenant.ID)
		a.Tx(t, sys, func(c *ent.Client) error {
			r, err := c.Role.Create().SetName("Designer").SetPermissions([]string{"form:design"}).SetScope(viewer.ScopeAll).Save(sys)
			if err != nil {
				return err
			}
			return c.RoleGrant.Create().SetUserID(designer.ID).SetRoleID(r.ID).Exec(sys)
		})
		dt := a.Login(t, "acme", "designer@acme.test")
		v2 := create(dt, "ticket_more", selectForm(map[string][]map[string]any{
			"ticket_category": {option("other", "其他", "Other")},
			"ticket_channel":  nil,
		}))
		publish(dt, v2).MustSucceed(t)
		want["ticket_channel"] = []string{}
		if got := picklists(t, a, admin); !reflect.DeepEqual(got, want) {
			t.Fatalf("after the second form: %v, want %v", got, want)
		}
		// Changing the list still needs tenant:manage.
		res := a.GraphQL(t, dt, `mutation { updatePicklist(kind: "ticket_channel", options: [{key: "phone", labelZh: "电话", labelEn: "Phone"}]) { kind } }`, nil)
		if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("a designer changed a picklist: %s", res.Raw)
		}
		// The publication is in the audit trail as the system's, with
		// who published and why.
		var events []*ent.AuditEvent
		a.Tx(t, sys, func(c *ent.Client) error {
			var err error
			events, err = c.AuditEvent.Query().All(sys)
			return err
		})
		found := false
		for _, e := range events {
			b, _ := json.Marshal(e)
			if strings.Contains(string(b), "publish form ticket_more version 1 by "+string(designer.ID)) {
				found = true
			}
		}
		if !found {
			t.Error("no audit event names the publication")
		}

		// The admin manages a provisioned list by its name.
		a.GraphQL(t, admin, `mutation { updatePicklist(kind: "ticket_channel", options: [{key: "phone", labelZh: "电话", labelEn: "Phone"}]) { kind } }`, nil).MustSucceed(t)
		if got := picklists(t, a, admin)["ticket_channel"]; !reflect.DeepEqual(got, []string{"phone"}) {
			t.Errorf("ticket_channel %v", got)
		}
		for _, bad := range []string{`"Ticket Channel"`, `"no_such_list"`} {
			res := a.GraphQL(t, admin, `mutation { updatePicklist(kind: `+bad+`, options: []) { kind } }`, nil)
			if len(res.Errors) != 1 {
				t.Errorf("updatePicklist(kind: %s): %s", bad, res.Raw)
			}
		}
		if got := picklists(t, a, admin); len(got) != len(want) {
			t.Errorf("picklists after refused updates: %v", got)
		}
	})
}

// claimField is a field type whose Provision step first creates the
// picklist "claimed", then refuses configurations with "refuse": true.
type claimField struct{}

func (claimField) ID() string { return "field.claim" }

func (f claimField) decode(config json.RawMessage) (bool, error) {
	var refuse bool
	err := forms.DecodeConfig(f.ID(), config, forms.ConfigKey{Name: "refuse", Dst: &refuse})
	return refuse, err
}

func (f claimField) Schema(config json.RawMessage) (json.RawMessage, error) {
	if _, err := f.decode(config); err != nil {
		return nil, err
	}
	return json.RawMessage(`{"type": "string"}`), nil
}

func (f claimField) Provision(ctx context.Context, host forms.ProvisionHost, config json.RawMessage) error {
	refuse, err := f.decode(config)
	if err != nil {
		return err
	}
	if err := host.EnsurePicklist(ctx, "claimed", nil); err != nil {
		return err
	}
	if refuse {
		return &forms.ConfigError{Plugin: f.ID(), Pointer: "/refuse", Reason: "refused"}
	}
	return nil
}

func TestRefusedProvisionLeavesNothing(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		reg, err := forms.DefaultRegistry()
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Register(claimField{}); err != nil {
			t.Fatal(err)
		}
		s, err := formdefs.New(formdefs.Config{Registry: reg, Compiler: forms.NewCompiler(forms.CompilerOptions{}), Clock: a.Clock})
		if err != nil {
			t.Fatal(err)
		}
		ctx := a.System(tn.Tenant.ID)
		doc := func(refuse bool) map[string]any {
			return map[string]any{
				"schema": map[string]any{"type": "object", "properties": map[string]any{
					"c": map[string]any{"x-field": "field.claim", "x-config": map[string]any{"refuse": refuse}}}},
				"plugins": []string{"field.claim"},
			}
		}
		var versionID = func() *ent.FormVersion {
			var v *ent.FormVersion
			a.Tx(t, ctx, func(c *ent.Client) error {
				d, err := s.Create(ctx, c, formdefs.CreateInput{Key: "claims", Module: "ticket", NameZh: "认领", NameEn: "Claims", Document: doc(true)})
				if err != nil {
					return err
				}
				v, err = formdefs.Latest(ctx, c, d.ID)
				return err
			})
			return v
		}()

		err = a.TryTx(ctx, func(c *ent.Client) error {
			_, err := s.Publish(ctx, c, versionID.ID)
			return err
		})
		ae := apierr.As(err)
		if ae == nil || ae.Code != apierr.BadUserInput || len(ae.Fields) != 1 ||
			ae.Fields[0].Pointer != "/document/schema/properties/c/x-config/refuse" || ae.Fields[0].MessageKey != "form.definition.provision" {
			t.Fatalf("Publish = %#v, want a refusal at the configuration", err)
		}
		claimed := func() bool {
			n, err := a.Client().Picklist.Query().Where(picklist.KindEQ(choices.Kind("claimed"))).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n == 1
		}
		state := func() formversion.State {
			v, err := a.Client().FormVersion.Get(ctx, versionID.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v.State
		}
		if claimed() || state() != formversion.StateDraft {
			t.Fatalf("a refused publication left the picklist (%v) or published (%s)", claimed(), state())
		}

		a.Tx(t, ctx, func(c *ent.Client) error {
			if _, err := s.UpdateDraft(ctx, c, versionID.ID, doc(false)); err != nil {
				return err
			}
			_, err := s.Publish(ctx, c, versionID.ID)
			return err
		})
		if !claimed() || state() != formversion.StatePublished {
			t.Fatalf("publication: picklist %v, state %s", claimed(), state())
		}
	})
}
