package formdefs

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/riverqueue/river"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/contact"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/formdefinition"
	"github.com/custos-crm/custos/ent/formversion"
	"github.com/custos-crm/custos/ent/schema"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/vault"
)

// MaxFailures is how many failing records a report lists.
const MaxFailures = 100

// batchSize is how many records a run reads at a time.
const batchSize = 200

// RunArgs is a dry run or a migration of a module's records to a version.
// It is started by a designer and runs as them.
type RunArgs struct {
	jobs.Actor
	VersionID pulid.ID     `json:"version_id"`
	Steps     []forms.Step `json:"steps,omitempty"`
}

// DryRunArgs runs records through a version and reports.
type DryRunArgs struct{ RunArgs }

// Kind names the job.
func (DryRunArgs) Kind() string { return "forms.dry_run" }

// MigrateArgs moves records to a version.
type MigrateArgs struct{ RunArgs }

// Kind names the job.
func (MigrateArgs) Kind() string { return "forms.migrate" }

// StartDryRun enqueues, in tx, a dry run of a version with steps.
func (s *Service) StartDryRun(ctx context.Context, tx *ent.Tx, versionID pulid.ID, steps []forms.Step) error {
	args, err := s.runArgs(ctx, tx, versionID, steps)
	if err != nil {
		return err
	}
	return s.queue.EnqueueTx(ctx, tx, DryRunArgs{args}, nil)
}

// StartMigration enqueues, in tx, the migration of records to a version,
// which must be the published version of the module's active form.
func (s *Service) StartMigration(ctx context.Context, tx *ent.Tx, versionID pulid.ID, steps []forms.Step) error {
	args, err := s.runArgs(ctx, tx, versionID, steps)
	if err != nil {
		return err
	}
	return s.queue.EnqueueTx(ctx, tx, MigrateArgs{args}, nil)
}

func (s *Service) runArgs(ctx context.Context, tx *ent.Tx, versionID pulid.ID, steps []forms.Step) (RunArgs, error) {
	v := viewer.FromContext(ctx)
	ver, err := tx.FormVersion.Query().Where(formversion.ID(versionID)).WithDefinition().Only(ctx)
	if err != nil {
		return RunArgs{}, err
	}
	if m := ver.Edges.Definition.Module; m != formdefinition.ModuleCustomer && m != formdefinition.ModuleContact {
		return RunArgs{}, apierr.BadInput(apierr.Field("/id", "form_not_attachable"))
	}
	if !mayRun(v) {
		return RunArgs{}, apierr.New(apierr.Forbidden)
	}
	if _, err := forms.ApplySteps(map[string]any{}, steps); err != nil {
		return RunArgs{}, apierr.BadInput(apierr.Field("/steps", "invalid"))
	}
	return RunArgs{Actor: jobs.Actor{TenantID: v.TenantID, UserID: v.UserID}, VersionID: versionID, Steps: steps}, nil
}

type dryRunWorker struct {
	river.WorkerDefaults[DryRunArgs]
	s *Service
}

// Work runs the dry run and stores its report on the version.
func (w *dryRunWorker) Work(ctx context.Context, job *river.Job[DryRunArgs]) error {
	return w.s.run(ctx, job.Args.RunArgs, false, func(ctx context.Context, report map[string]any) error {
		return jobs.RunTx(ctx, w.s.queue, w.s.store, job, func(ctx context.Context, tx *ent.Tx) error {
			return tx.FormVersion.UpdateOneID(job.Args.VersionID).SetDryRun(report).Exec(ctx)
		})
	})
}

type migrateWorker struct {
	river.WorkerDefaults[MigrateArgs]
	s *Service
}

// Work migrates the records and stores the report on the version.
func (w *migrateWorker) Work(ctx context.Context, job *river.Job[MigrateArgs]) error {
	return w.s.run(ctx, job.Args.RunArgs, true, func(ctx context.Context, report map[string]any) error {
		return jobs.RunTx(ctx, w.s.queue, w.s.store, job, func(ctx context.Context, tx *ent.Tx) error {
			return tx.FormVersion.UpdateOneID(job.Args.VersionID).SetMigration(report).Exec(ctx)
		})
	})
}

// mayRun reports whether v may run records of a whole module through a
// form: a run reads every customer and contact and a migration rewrites
// them, so it takes form:design and customer:update over the whole tenant.
func mayRun(v *viewer.Viewer) bool {
	if v == nil || !v.Can(viewer.PermFormDesign) {
		return false
	}
	s, ok := v.ScopeFor(viewer.PermCustomerUpdate)
	return ok && s == viewer.ScopeAll
}

// record is a customer or contact as a run sees it.
type record struct {
	id        pulid.ID
	tenantID  pulid.ID
	dataKey   []byte
	fields    map[string]any
	versionID pulid.ID
}

// failure is one record that does not validate.
type failure struct {
	RecordID string              `json:"recordId"`
	Errors   []map[string]string `json:"errors"`
}

// run streams the records of the version's module through it. ctx carries
// the designer (the job runs as them); the records are read in the
// tenant's system context so that the run covers every record, and the
// report names records only by id. migrate writes each record that
// validates, in the system context (audited as a form migration).
func (s *Service) run(ctx context.Context, args RunArgs, migrate bool, save func(context.Context, map[string]any) error) error {
	client := s.store
	v := viewer.FromContext(ctx)
	if !mayRun(v) {
		return apierr.New(apierr.Forbidden)
	}
	ver, err := client.FormVersion.Query().Where(formversion.ID(args.VersionID)).WithDefinition().Only(ctx)
	if err != nil {
		return err
	}
	module := string(ver.Edges.Definition.Module)
	if migrate {
		active, err := Active(ctx, client, v.TenantID, module)
		if err != nil || active.ID != ver.ID {
			return apierr.BadInput(apierr.Field("/id", "form_not_active"))
		}
	}
	reason := "form dry run by " + string(v.UserID)
	if migrate {
		reason = "form migration by " + string(v.UserID)
	}
	s.logger.InfoContext(ctx, "system context opened", "tenant_id", string(v.TenantID), "reason", reason, "by", string(v.UserID))
	sys := viewer.NewSystemContext(ctx, v.TenantID, reason, s.clock.Now())
	var (
		total, valid, invalid, moved int
		failures                     = []failure{}
		after                        pulid.ID
	)
	for {
		batch, err := s.records(sys, client, module, after)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		after = batch[len(batch)-1].id
		for _, r := range batch {
			total++
			ref := vault.Ref{TenantID: string(r.tenantID), Table: tableOf(module), RowID: string(r.id)}
			data, err := schema.OpenCustomFields(sys, client.Vault, ref, r.dataKey, r.fields)
			if err != nil {
				// A record that cannot be read is reported, not fatal.
				s.logger.ErrorContext(ctx, "form run: opening custom fields", "record_id", string(r.id), "error", err)
				invalid++
				if len(failures) < MaxFailures {
					failures = append(failures, failure{RecordID: string(r.id), Errors: []map[string]string{{"pointer": "", "messageKey": "internal"}}})
				}
				continue
			}
			if data, err = forms.ApplySteps(data, args.Steps); err != nil {
				return err
			}
			// Picklist keys are not checked here: they were when they
			// were written, and an option deactivated since does not
			// make a stored record invalid.
			if _, _, err := s.prepareWith(sys, ver, data, ""); err != nil {
				invalid++
				if len(failures) < MaxFailures {
					failures = append(failures, failure{RecordID: string(r.id), Errors: items(err)})
				}
				continue
			}
			valid++
			if migrate && r.versionID != ver.ID {
				if err := s.rewrite(sys, client, module, r, data); err != nil {
					return err
				}
				moved++
			}
		}
	}
	report := map[string]any{
		"total": total, "valid": valid, "invalid": invalid, "failures": failures,
		"ranAt": s.clock.Now(), "ranBy": string(v.UserID), "steps": args.Steps,
	}
	if migrate {
		report["migrated"] = moved
	}
	m, err := toMap(report)
	if err != nil {
		return err
	}
	return save(ctx, m)
}

// records returns the next batch of a module's records after id.
func (s *Service) records(ctx context.Context, client *ent.Client, module string, after pulid.ID) ([]record, error) {
	var out []record
	switch module {
	case "customer":
		cs, err := client.Customer.Query().Where(customer.IDGT(after)).Order(ent.Asc(customer.FieldID)).Limit(batchSize).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, record{id: c.ID, tenantID: c.TenantID, dataKey: c.DataKey, fields: c.CustomFields, versionID: c.CustomFormVersionID})
		}
	case "contact":
		cs, err := client.Contact.Query().Where(contact.IDGT(after)).Order(ent.Asc(contact.FieldID)).Limit(batchSize).All(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out = append(out, record{id: c.ID, tenantID: c.TenantID, dataKey: c.DataKey, fields: c.CustomFields, versionID: c.CustomFormVersionID})
		}
	}
	return out, nil
}

// rewrite stores data as a record's custom fields (the hook validates it
// against the active version again and seals it), in a transaction of its
// own.
func (s *Service) rewrite(ctx context.Context, client *ent.Client, module string, r record, data map[string]any) error {
	given := map[string]any{}
	for k := range r.fields {
		given[k] = nil // fields the steps dropped or renamed
	}
	for k, v := range data {
		given[k] = v
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	switch module {
	case "customer":
		err = tx.Customer.UpdateOneID(r.id).SetCustomFields(given).Exec(ctx)
	case "contact":
		err = tx.Contact.UpdateOneID(r.id).SetCustomFields(given).Exec(ctx)
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("formdefs: migrating %s: %w", r.id, err)
	}
	return tx.Commit()
}

func tableOf(module string) string {
	if module == "contact" {
		return "Contact"
	}
	return "Customer"
}

// items lists a failed submission's errors by pointer, in English.
func items(err error) []map[string]string {
	ae := apierr.As(err)
	if ae == nil {
		return []map[string]string{{"pointer": "", "messageKey": "invalid"}}
	}
	body := apierr.Present(ae, "en", "")
	out := make([]map[string]string, 0, len(body.Errors))
	for _, it := range body.Errors {
		out = append(out, map[string]string{"pointer": it.Pointer, "messageKey": it.MessageKey, "message": it.Message})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["pointer"] < out[j]["pointer"] })
	return out
}

// toMap turns v into a JSON object.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
