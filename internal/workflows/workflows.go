// Package workflows owns workflow definitions as data: creating and editing
// drafts, checking them against the form whose records they move and the
// plugin registry, publishing (which freezes a version), the built-in
// actions and approver resolvers, and simulating a transition for a
// designer. The pure engine lives in package flows.
package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/workflowdefinition"
	"github.com/custos-crm/custos/ent/workflowversion"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/forms/expr"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/tenancy"
)

// Service manages workflow definitions.
type Service struct {
	registry *forms.Registry
	compiler *forms.Compiler
	forms    *formdefs.Service
	clock    clock.Clock

	mu     sync.Mutex
	parsed map[parsedKey]*flows.Workflow
}

// parsedKey names a parsed version: a draft's key changes with each save.
type parsedKey struct {
	id      pulid.ID
	updated time.Time
}

// New returns the service.
func New(reg *forms.Registry, forms *formdefs.Service, clk clock.Clock) *Service {
	return &Service{registry: reg, compiler: newCompiler(), forms: forms, clock: clk, parsed: map[parsedKey]*flows.Workflow{}}
}

// CreateInput is a new workflow.
type CreateInput struct {
	Key      string
	Module   workflowdefinition.Module
	NameZh   string
	NameEn   string
	FormID   *pulid.ID
	Document map[string]any
}

// Create creates a definition and its first draft.
func (s *Service) Create(ctx context.Context, client *ent.Client, in CreateInput) (*ent.WorkflowDefinition, error) {
	if in.FormID != nil {
		f, err := client.FormDefinition.Get(ctx, *in.FormID)
		if err != nil {
			return nil, apierr.BadInput(apierr.Field("/input/formID", "unknown_reference"))
		}
		if string(f.Module) != string(in.Module) {
			return nil, apierr.BadInput(apierr.Field("/input/formID", "invalid"))
		}
	}
	if _, err := s.Parse(ctx, client, in.FormID, in.Document, "/input/document"); err != nil {
		return nil, err
	}
	c := client.WorkflowDefinition.Create().SetKey(in.Key).SetModule(in.Module).SetNameZh(in.NameZh).
		SetNameEn(in.NameEn).SetNillableFormID(in.FormID)
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
		c.SetCreatedBy(v.UserID)
	}
	d, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := client.WorkflowVersion.Create().SetDefinitionID(d.ID).SetVersion(1).SetDocument(in.Document).Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// UpdateDraft replaces a draft's document.
func (s *Service) UpdateDraft(ctx context.Context, client *ent.Client, id pulid.ID, doc map[string]any) (*ent.WorkflowVersion, error) {
	v, err := client.WorkflowVersion.Query().Where(workflowversion.ID(id)).WithDefinition().Only(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.Parse(ctx, client, formOf(v.Edges.Definition), doc, "/document"); err != nil {
		return nil, err
	}
	return v.Update().SetDocument(doc).Save(ctx)
}

// NewDraft starts a draft from the definition's newest version; an existing
// draft is returned as it is.
func (s *Service) NewDraft(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.WorkflowVersion, error) {
	latest, err := Latest(ctx, client, definitionID)
	if err != nil {
		return nil, err
	}
	if latest.State == workflowversion.StateDraft {
		return latest, nil
	}
	return client.WorkflowVersion.Create().SetDefinitionID(definitionID).SetVersion(latest.Version + 1).
		SetDocument(latest.Document).Save(ctx)
}

// Publish checks a draft again and publishes it; the version published
// before it is retired (records that pinned it keep it).
func (s *Service) Publish(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.WorkflowVersion, error) {
	v, err := client.WorkflowVersion.Query().Where(workflowversion.ID(id)).WithDefinition().Only(ctx)
	if err != nil {
		return nil, err
	}
	if v.State != workflowversion.StateDraft {
		return nil, apierr.BadInput(apierr.Field("/id", "form_version_frozen"))
	}
	if _, err := s.Parse(ctx, client, formOf(v.Edges.Definition), v.Document, "/document"); err != nil {
		return nil, err
	}
	prev, err := Published(ctx, client, v.DefinitionID)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if prev != nil {
		if err := client.WorkflowVersion.UpdateOneID(prev.ID).SetState(workflowversion.StateRetired).Exec(ctx); err != nil {
			return nil, err
		}
	}
	u := client.WorkflowVersion.UpdateOneID(id).SetState(workflowversion.StatePublished).SetPublishedAt(s.clock.Now())
	if vw := viewer.FromContext(ctx); vw != nil && vw.UserID != "" {
		u.SetPublishedBy(vw.UserID)
	}
	return u.Save(ctx)
}

// Published returns a definition's published version.
func Published(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.WorkflowVersion, error) {
	return client.WorkflowVersion.Query().
		Where(workflowversion.DefinitionID(definitionID), workflowversion.StateEQ(workflowversion.StatePublished)).
		Order(ent.Desc(workflowversion.FieldVersion)).First(ctx)
}

// Latest returns a definition's newest version.
func Latest(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.WorkflowVersion, error) {
	return client.WorkflowVersion.Query().Where(workflowversion.DefinitionID(definitionID)).
		Order(ent.Desc(workflowversion.FieldVersion)).First(ctx)
}

func formOf(d *ent.WorkflowDefinition) *pulid.ID {
	if d == nil || d.FormID == "" {
		return nil
	}
	return &d.FormID
}

// Parse checks a workflow document against the published version of its
// form (which types `data`), the plugin registry (with each plugin's
// configuration), the built-in role keys and the permissions; problems come
// back as BAD_USER_INPUT with pointers under base.
func (s *Service) Parse(ctx context.Context, client *ent.Client, formID *pulid.ID, doc map[string]any, base string) (*flows.Workflow, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, apierr.BadInput(apierr.Field(base, "invalid_json"))
	}
	var schema []byte
	if formID != nil {
		ver, err := formdefs.Published(ctx, client, *formID)
		if err != nil {
			return nil, apierr.BadInput(apierr.Field("/input/formID", "form_not_published"))
		}
		f, err := s.forms.Form(ver)
		if err != nil {
			return nil, err
		}
		schema = f.Schema()
	}
	w, err := flows.Parse(raw, flows.Options{
		Schema:          schema,
		KnownPlugin:     s.knownPlugin,
		KnownRole:       knownRole,
		KnownPermission: viewer.KnownPermission,
		CompileSchema:   s.compileSchema,
	})
	var problems []apierr.FieldError
	var ps flows.Problems
	switch {
	case err == nil:
	case asProblems(err, &ps):
		for _, p := range ps {
			problems = append(problems, problem(base+p.Pointer, p.Message))
		}
	default:
		return nil, apierr.BadInput(apierr.Field(base, "invalid"))
	}
	problems = append(problems, s.checkConfigs(doc, base)...)
	if len(problems) > 0 {
		return nil, apierr.BadInput(problems...)
	}
	return w, nil
}

// checkConfigs decodes every plugin configuration a workflow document
// names, read from the document itself so that these problems come with
// the structural ones.
func (s *Service) checkConfigs(doc map[string]any, base string) []apierr.FieldError {
	var out []apierr.FieldError
	check := func(ptr string, v any) {
		p, _ := v.(map[string]any)
		id, _ := p["type"].(string)
		plugin, ok := s.registry.Plugin(id)
		if !ok {
			return // flows.Parse reports unknown plugins
		}
		c, ok := plugin.(interface{ CheckConfig(json.RawMessage) error })
		if !ok {
			return
		}
		config, _ := json.Marshal(p["config"])
		if err := c.CheckConfig(config); err != nil {
			pointer := ptr + "/config"
			var ce *forms.ConfigError
			if asConfigError(err, &ce) {
				pointer += ce.Pointer
				err = errors.New(ce.Reason)
			}
			out = append(out, problem(pointer, err.Error()))
		}
	}
	each := func(v any, fn func(i int, item map[string]any)) {
		list, _ := v.([]any)
		for i, it := range list {
			if m, ok := it.(map[string]any); ok {
				fn(i, m)
			}
		}
	}
	each(doc["transitions"], func(i int, t map[string]any) {
		each(t["actions"], func(j int, a map[string]any) {
			check(base+"/transitions/"+strconv.Itoa(i)+"/actions/"+strconv.Itoa(j), a)
		})
	})
	each(doc["approvals"], func(i int, a map[string]any) {
		check(base+"/approvals/"+strconv.Itoa(i)+"/approvers", a["approvers"])
		if a["fallback"] != nil {
			check(base+"/approvals/"+strconv.Itoa(i)+"/fallback", a["fallback"])
		}
	})
	each(doc["sla"], func(i int, sla map[string]any) {
		each(sla["breach"], func(j int, a map[string]any) {
			check(base+"/sla/"+strconv.Itoa(i)+"/breach/"+strconv.Itoa(j), a)
		})
	})
	return out
}

// problem is a definition problem whose message is the checker's English
// text, shown in both languages.
func problem(pointer, message string) apierr.FieldError {
	f := apierr.Field(pointer, "invalid")
	f.Messages = map[string]string{"en": message, "zh-CN": message}
	return f
}

func (s *Service) knownPlugin(id string) bool {
	if !strings.HasPrefix(id, "action.") && !strings.HasPrefix(id, "approver.") {
		return false
	}
	_, ok := s.registry.Plugin(id)
	return ok
}

// knownRole accepts the built-in role keys.
func knownRole(key string) bool {
	for _, r := range tenancy.BuiltinRoles() {
		if r.Key == key {
			return true
		}
	}
	return false
}

// compileSchema lets transitions' schema and form fragments use all of JSON
// Schema, validated by the forms validator.
func (s *Service) compileSchema(schema json.RawMessage) (flows.SchemaCheck, error) {
	v, err := s.compiler.Compile(schema)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, doc map[string]any) ([]flows.Violation, error) {
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		ve, err := v.Validate(ctx, b)
		if err != nil || ve == nil {
			return nil, err
		}
		out := make([]flows.Violation, 0, len(ve.Items))
		for _, it := range ve.Items {
			out = append(out, flows.Violation{Pointer: it.Pointer, Keyword: it.Keyword, Message: it.Message})
		}
		return out, nil
	}, nil
}

// Simulated is one transition out of a state as a designer's simulation
// shows it.
type Simulated struct {
	Transition string
	To         string
	Approval   string
	Passed     bool
	Reasons    []flows.Reason
}

// Simulate shows which transitions out of state a viewer with the given
// built-in roles could take on a record with data, and why the others are
// refused: the permissions are those of the roles, the viewer is the
// record's assignee when assignee is set.
func (s *Service) Simulate(ctx context.Context, client *ent.Client, versionID pulid.ID, state string, data map[string]any, roles []string, assignee bool) ([]Simulated, error) {
	v, err := client.WorkflowVersion.Query().Where(workflowversion.ID(versionID)).WithDefinition().Only(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.Version(ctx, client, v)
	if err != nil {
		return nil, err
	}
	if state == "" {
		state = w.Initial()
	}
	if _, ok := w.State(state); !ok {
		return nil, apierr.BadInput(apierr.Field("/state", "invalid"))
	}
	ev := expr.Viewer{ID: "simulated-user", Roles: roles}
	for _, r := range tenancy.BuiltinRoles() {
		for _, want := range roles {
			if r.Key == want {
				ev.Permissions = append(ev.Permissions, r.Permissions...)
			}
		}
	}
	rec := flows.Record{Data: data}
	if assignee {
		rec.Assignee = ev.ID
	}
	opts, err := w.Simulate(ctx, state, rec, ev, s.clock.Now())
	if err != nil {
		return nil, err
	}
	out := make([]Simulated, 0, len(opts))
	for _, o := range opts {
		out = append(out, Simulated{Transition: o.Transition, To: o.To, Approval: o.Approval, Passed: o.Passed, Reasons: o.Reasons})
	}
	return out, nil
}

// Version returns a version parsed, parsing each saved version once.
func (s *Service) Version(ctx context.Context, client *ent.Client, v *ent.WorkflowVersion) (*flows.Workflow, error) {
	key := parsedKey{v.ID, v.UpdatedAt}
	s.mu.Lock()
	w, ok := s.parsed[key]
	s.mu.Unlock()
	if ok {
		return w, nil
	}
	d := v.Edges.Definition
	if d == nil {
		var err error
		if d, err = client.WorkflowDefinition.Get(ctx, v.DefinitionID); err != nil {
			return nil, err
		}
	}
	w, err := s.Parse(ctx, client, formOf(d), v.Document, "/document")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.parsed) >= 1000 {
		clear(s.parsed)
	}
	s.parsed[key] = w
	return w, nil
}

// EnsureDefaults gives a tenant the built-in ticket and project workflows
// (published) unless it has them: `custos migrate` and tenant creation
// call it, so `make run` shows them.
func (s *Service) EnsureDefaults(ctx context.Context, client *ent.Client) error {
	defaults := []struct {
		key, zh, en string
		module      workflowdefinition.Module
		doc         []byte
	}{
		{"ticket_default", "工单默认流程", "Default ticket flow", workflowdefinition.ModuleTicket, flows.DefaultTicketFlow()},
		{"project_default", "项目默认流程", "Default project flow", workflowdefinition.ModuleProject, flows.DefaultProjectFlow()},
	}
	for _, d := range defaults {
		exists, err := client.WorkflowDefinition.Query().Where(workflowdefinition.Key(d.key)).Exist(ctx)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(d.doc, &doc); err != nil {
			return err
		}
		def, err := s.Create(ctx, client, CreateInput{Key: d.key, Module: d.module, NameZh: d.zh, NameEn: d.en, Document: doc})
		if err != nil {
			return fmt.Errorf("workflows: default %s: %w", d.key, err)
		}
		v, err := Latest(ctx, client, def.ID)
		if err != nil {
			return err
		}
		if _, err := s.Publish(ctx, client, v.ID); err != nil {
			return fmt.Errorf("workflows: publishing %s: %w", d.key, err)
		}
	}
	return nil
}

func asProblems(err error, ps *flows.Problems) bool { return errors.As(err, ps) }

func asConfigError(err error, ce **forms.ConfigError) bool { return errors.As(err, ce) }

func newCompiler() *forms.Compiler { return forms.NewCompiler(forms.CompilerOptions{}) }
