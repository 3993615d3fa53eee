// Package formdefs owns form definitions as data: creating and editing
// drafts, publishing (which freezes a version), attaching customer and
// contact forms, compiling each version once, validating custom fields (it
// is the customfields.Processor the ent hooks call), and the dry runs and
// migrations that move records between versions, which run as jobs.
package formdefs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/formdefinition"
	"github.com/custos-crm/custos/ent/formversion"
	"github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/customfields"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/forms/expr"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/jobs"
)

// Config configures the Service.
type Config struct {
	// Registry holds the plugins forms may name; its formats must be
	// installed.
	Registry *forms.Registry
	Compiler *forms.Compiler
	Clock    clock.Clock
	Logger   *slog.Logger
	// Queue runs dry runs and migrations; nil leaves them unavailable.
	Queue *jobs.Queue
}

// Service manages form definitions.
type Service struct {
	designer *forms.Designer
	store    *ent.Client // the store's client, for jobs
	clock    clock.Clock
	logger   *slog.Logger
	queue    *jobs.Queue

	mu    sync.Mutex
	cache map[cacheKey]*forms.Form
}

// cacheKey names a compiled version: published versions never change, and
// a draft's key changes with every save.
type cacheKey struct {
	id      pulid.ID
	updated time.Time
}

// maxCached bounds the compiled forms kept in memory.
const maxCached = 1000

// New returns the service.
func New(c Config) (*Service, error) {
	d, err := forms.NewDesigner(c.Registry, c.Compiler)
	if err != nil {
		return nil, fmt.Errorf("formdefs: %w", err)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{designer: d, clock: c.Clock, logger: c.Logger, queue: c.Queue, cache: map[cacheKey]*forms.Form{}}
	if c.Queue != nil {
		jobs.Add(c.Queue, &dryRunWorker{s: s})
		jobs.Add(c.Queue, &migrateWorker{s: s})
	}
	return s, nil
}

var _ customfields.Processor = (*Service)(nil)

// UseClient gives the service the store's client, which its jobs read and
// write through. The client is built with the service as its custom-field
// processor, so it comes second.
func (s *Service) UseClient(c *ent.Client) { s.store = c }

// Form returns the compiled form of a version, compiling it at most once.
func (s *Service) Form(v *ent.FormVersion) (*forms.Form, error) {
	key := cacheKey{v.ID, v.UpdatedAt}
	s.mu.Lock()
	f, ok := s.cache[key]
	s.mu.Unlock()
	if ok {
		return f, nil
	}
	doc, err := json.Marshal(v.Document)
	if err != nil {
		return nil, err
	}
	f, err = s.designer.Check(doc)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cache) >= maxCached {
		clear(s.cache)
	}
	s.cache[key] = f
	return f, nil
}

// check checks a document and returns the problems as BAD_USER_INPUT with
// pointers under base.
func (s *Service) check(doc map[string]any, base string) error {
	_, err := s.checkForm(doc, base)
	return err
}

// checkForm is check, returning the compiled form of a document that
// passes.
func (s *Service) checkForm(doc map[string]any, base string) (*forms.Form, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, apierr.BadInput(apierr.Field(base, "invalid_json"))
	}
	f, err := s.designer.Check(b)
	if err != nil {
		return nil, documentError(err, base)
	}
	return f, nil
}

// documentError turns a form error into the client's error.
func documentError(err error, base string) error {
	var de *forms.DefinitionError
	if errors.As(err, &de) {
		return de.APIError(base)
	}
	return err
}

// CreateInput is a new form.
type CreateInput struct {
	Key      string
	Module   formdefinition.Module
	NameZh   string
	NameEn   string
	Document map[string]any
}

// Create creates a definition and its first draft.
func (s *Service) Create(ctx context.Context, client *ent.Client, in CreateInput) (*ent.FormDefinition, error) {
	if err := s.check(in.Document, "/input/document"); err != nil {
		return nil, err
	}
	c := client.FormDefinition.Create().SetKey(in.Key).SetModule(in.Module).SetNameZh(in.NameZh).SetNameEn(in.NameEn)
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
		c.SetCreatedBy(v.UserID)
	}
	d, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := client.FormVersion.Create().SetDefinitionID(d.ID).SetVersion(1).SetDocument(in.Document).Exec(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// UpdateDraft replaces a draft's document.
func (s *Service) UpdateDraft(ctx context.Context, client *ent.Client, id pulid.ID, doc map[string]any) (*ent.FormVersion, error) {
	if err := s.check(doc, "/document"); err != nil {
		return nil, err
	}
	return client.FormVersion.UpdateOneID(id).SetDocument(doc).Save(ctx)
}

// NewDraft starts a draft from the definition's newest version; a draft
// that exists already is returned as it is.
func (s *Service) NewDraft(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.FormVersion, error) {
	latest, err := Latest(ctx, client, definitionID)
	if err != nil {
		return nil, err
	}
	if latest.State == formversion.StateDraft {
		return latest, nil
	}
	return client.FormVersion.Create().SetDefinitionID(definitionID).SetVersion(latest.Version + 1).
		SetDocument(latest.Document).Save(ctx)
}

// Publish checks a draft again, runs the Provision step of the plugins it
// uses (the select fields make sure the tenant's picklists they name
// exist) and publishes it; the version published before it is retired.
// client should be the request's transaction, so that a publication that
// fails, a refused provision included, leaves nothing behind; a refused
// provision is BAD_USER_INPUT with pointers under /document.
func (s *Service) Publish(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.FormVersion, error) {
	v, err := client.FormVersion.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.State != formversion.StateDraft {
		return nil, apierr.BadInput(apierr.Field("/id", "form_version_frozen"))
	}
	f, err := s.checkForm(v.Document, "/document")
	if err != nil {
		return nil, err
	}
	d, err := client.FormDefinition.Get(ctx, v.DefinitionID)
	if err != nil {
		return nil, err
	}
	if err := f.Provision(ctx, s.provisionHost(ctx, client, d, v)); err != nil {
		return nil, documentError(err, "/document")
	}
	prev, err := Published(ctx, client, v.DefinitionID)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	if prev != nil {
		if err := client.FormVersion.UpdateOneID(prev.ID).SetState(formversion.StateRetired).Exec(ctx); err != nil {
			return nil, err
		}
	}
	u := client.FormVersion.UpdateOneID(id).SetState(formversion.StatePublished).SetPublishedAt(s.clock.Now())
	if vw := viewer.FromContext(ctx); vw != nil && vw.UserID != "" {
		u.SetPublishedBy(vw.UserID)
	}
	return u.Save(ctx)
}

// SetActive attaches or detaches a form: its published version validates
// the custom fields of the module's records (customers, contacts) or the
// data of new tickets and projects. Attaching needs a published version
// and detaches the module's other form.
func (s *Service) SetActive(ctx context.Context, client *ent.Client, definitionID pulid.ID, active bool) (*ent.FormDefinition, error) {
	d, err := client.FormDefinition.Get(ctx, definitionID)
	if err != nil {
		return nil, err
	}
	if active {
		if _, err := Published(ctx, client, d.ID); ent.IsNotFound(err) {
			return nil, apierr.BadInput(apierr.Field("/definitionID", "form_not_published"))
		} else if err != nil {
			return nil, err
		}
		others, err := client.FormDefinition.Query().
			Where(formdefinition.ModuleEQ(d.Module), formdefinition.Active(true), formdefinition.IDNEQ(d.ID)).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if err := o.Update().SetActive(false).Exec(ctx); err != nil {
				return nil, err
			}
		}
	}
	return d.Update().SetActive(active).Save(ctx)
}

// Published returns a definition's published version.
func Published(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.FormVersion, error) {
	return client.FormVersion.Query().
		Where(formversion.DefinitionID(definitionID), formversion.StateEQ(formversion.StatePublished)).
		Order(ent.Desc(formversion.FieldVersion)).First(ctx)
}

// Latest returns a definition's newest version.
func Latest(ctx context.Context, client *ent.Client, definitionID pulid.ID) (*ent.FormVersion, error) {
	return client.FormVersion.Query().Where(formversion.DefinitionID(definitionID)).
		Order(ent.Desc(formversion.FieldVersion)).First(ctx)
}

// Active returns the published version of the tenant's active form for a
// module, or a not-found error.
func Active(ctx context.Context, client *ent.Client, tenantID pulid.ID, module string) (*ent.FormVersion, error) {
	d, err := client.FormDefinition.Query().
		Where(formdefinition.TenantID(tenantID), formdefinition.ModuleEQ(formdefinition.Module(module)), formdefinition.Active(true)).
		Only(ctx)
	if err != nil {
		return nil, err
	}
	return Published(ctx, client, d.ID)
}

// Prepare validates custom fields against the tenant's active form for
// the module; the ent hooks of records with custom fields call it. The
// picklist keys under the top-level fields in written must be active
// options of the tenant's lists; keys stored before, whose option may have
// been deactivated since, are left as they are.
func (s *Service) Prepare(ctx context.Context, client any, tenantID pulid.ID, module string, data map[string]any, written []string) (*customfields.Prepared, error) {
	c, ok := client.(*ent.Client)
	if !ok {
		return nil, fmt.Errorf("formdefs: Prepare needs an *ent.Client, got %T", client)
	}
	ver, err := Active(ctx, c, tenantID, module)
	if ent.IsNotFound(err) {
		if len(data) == 0 {
			return &customfields.Prepared{Data: map[string]any{}}, nil
		}
		return nil, apierr.BadInput(apierr.Field("/input/customFields", "no_custom_form"))
	}
	if err != nil {
		return nil, err
	}
	p, f, err := s.prepareWith(ctx, ver, data, "/input/customFields")
	if err != nil {
		return nil, err
	}
	if err := checkPicklistKeys(ctx, c, tenantID, f.PicklistValues(p.Data, written), "/input/customFields"); err != nil {
		return nil, err
	}
	return p, nil
}

// prepareWith validates data against one version; error pointers start
// with base. It also returns the compiled form.
func (s *Service) prepareWith(ctx context.Context, ver *ent.FormVersion, data map[string]any, base string) (*customfields.Prepared, *forms.Form, error) {
	f, err := s.Form(ver)
	if err != nil {
		return nil, nil, err
	}
	if err := checkKeys(data, f.Fields(), base); err != nil {
		return nil, nil, err
	}
	out, err := f.Process(ctx, data, ExprViewer(ctx), s.clock.Now())
	if err != nil {
		return nil, nil, submissionError(err, base)
	}
	return &customfields.Prepared{
		VersionID: ver.ID, Data: out, Sensitive: f.SensitiveFields(), Searchable: f.SearchableFields(),
		Formats: Formats(ver.Document),
	}, f, nil
}

// checkPicklistKeys refuses the values that are not active options of the
// tenant's picklist of their kind (a list that does not exist has none),
// each at its pointer below base. It reads the lists involved in one query.
func checkPicklistKeys(ctx context.Context, client *ent.Client, tenantID pulid.ID, values []forms.PicklistValue, base string) error {
	if len(values) == 0 {
		return nil
	}
	var kinds []choices.Kind
	for _, v := range values {
		if k := choices.Kind(v.Kind); !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	lists, err := client.Picklist.Query().Where(picklist.TenantID(tenantID), picklist.KindIn(kinds...)).All(ctx)
	if err != nil {
		return fmt.Errorf("reading picklists: %w", err)
	}
	options := make(map[choices.Kind][]choices.Option, len(lists))
	for _, l := range lists {
		options[l.Kind] = l.Options
	}
	var bad []apierr.FieldError
	for _, v := range values {
		if !choices.Allows(options[choices.Kind(v.Kind)], v.Key) {
			bad = append(bad, apierr.Field(base+v.Pointer, "unknown_option", "value", v.Key))
		}
	}
	if len(bad) > 0 {
		return apierr.BadInput(bad...)
	}
	return nil
}

// checkKeys refuses top-level keys the form does not have (they would be
// stored unvalidated) and object keys starting with "$" at any depth (they
// are the storage's own, such as "$sealed").
func checkKeys(data map[string]any, fields []string, base string) error {
	var bad []apierr.FieldError
	for _, k := range sortedKeys(data) {
		if !slices.Contains(fields, k) {
			bad = append(bad, apierr.Field(base+"/"+k, "unknown_field"))
			continue
		}
		if p := reservedKey(data[k]); p != "" {
			bad = append(bad, apierr.Field(base+"/"+k+p, "invalid"))
		}
	}
	if len(bad) > 0 {
		return apierr.BadInput(bad...)
	}
	return nil
}

// reservedKey returns the pointer (below v) of an object key starting with
// "$", or "".
func reservedKey(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if strings.HasPrefix(k, "$") {
				return "/" + k
			}
			if p := reservedKey(x[k]); p != "" {
				return "/" + k + p
			}
		}
	case []any:
		for i, e := range x {
			if p := reservedKey(e); p != "" {
				return "/" + strconv.Itoa(i) + p
			}
		}
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// submissionError turns a failed submission into the client's error.
func submissionError(err error, base string) error {
	var ve *forms.ValidationError
	if errors.As(err, &ve) {
		return ve.APIError(base)
	}
	var re *forms.RuleError
	if errors.As(err, &re) {
		return apierr.BadInput(apierr.Field(base+re.Pointer, "invalid"))
	}
	return err
}

// ExprViewer is the viewer form expressions see: id, department and
// permissions. Workflow guards add the viewer's roles.
func ExprViewer(ctx context.Context) expr.Viewer {
	v := viewer.FromContext(ctx)
	if v == nil {
		return expr.Viewer{}
	}
	out := expr.Viewer{ID: string(v.UserID), Department: string(v.DepartmentID)}
	for _, p := range viewer.AllPermissions() {
		if v.Can(p) {
			out.Permissions = append(out.Permissions, p)
		}
	}
	return out
}

// FieldType returns the JSON type of a top-level field of a form's schema,
// or "" when it has none.
func FieldType(f *forms.Form, field string) string {
	var schema struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(f.Schema(), &schema); err != nil {
		return ""
	}
	t, _ := schema.Properties[field].Type.(string)
	return t
}

// Formats returns the format of each top-level property of a document's
// schema.
func Formats(doc map[string]any) map[string]string {
	out := map[string]string{}
	schema, _ := doc["schema"].(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	for k, p := range props {
		if pm, ok := p.(map[string]any); ok {
			if f, ok := pm["format"].(string); ok {
				out[k] = f
			}
		}
	}
	return out
}
