// Package seed owns generated data for benchmarks and trials: `custos seed`
// fills a tenant with realistic customers, contacts and follow-ups (Chinese
// and English names, Chinese phone numbers, regions, owners across
// departments with reports-to chains), the same for the same seed.
//
// People (departments, users, role grants) are created through ent like
// any other write. Customers, contacts and follow-ups are written in
// batches, with COPY on PostgreSQL and multi-row INSERTs on SQLite, in the
// audited system context: each batch commits together with ONE audit event
// that records what it wrote (the documented exception to an event per
// record). Because batches bypass the ent hooks, this package does what the
// seal hook does itself: every record gets its own data key, personal
// fields are normalised, sealed with internal/vault and blind-indexed with
// internal/personal, so a seeded customer reads and searches exactly like
// one created through the API.
//
// The seed events are also the marker of generated data: a tenant is
// seeded only when the seeder created it and it holds exactly the rows its
// seed events account for. The command line and the benchmarks call Run.
package seed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/department"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/tenancy"
)

// Action is the action of the audit events the seeder writes.
const Action = "seed"

// DefaultBatchSize is how many customers (with their contacts and
// follow-ups) one batch writes when Options leaves it unset.
const DefaultBatchSize = 2000

// ErrForeignTenant is returned (wrapped) when the tenant holds data the
// seeder did not generate.
var ErrForeignTenant = errors.New("seed: the tenant holds data custos seed did not generate")

// Options say what to seed.
type Options struct {
	// Tenant is the slug of the tenant to fill; it is created when missing.
	Tenant string
	// Customers is how many customers the seed holds in total.
	Customers int
	// ContactsPerCustomer and FollowUpsPerCustomer give each customer
	// that many contacts and follow-ups.
	ContactsPerCustomer, FollowUpsPerCustomer int
	// Seed chooses the data: the same seed gives the same data.
	Seed uint64
	// PasswordHash is the argon2id hash every seeded user signs in with.
	PasswordHash string
	// BatchSize is how many customers a batch writes (DefaultBatchSize
	// when 0).
	BatchSize int
	// Progress, when set, gets a line per batch.
	Progress io.Writer
	// SkipDiskCheck skips the free space check (for tests).
	SkipDiskCheck bool
}

func (o Options) validate() error {
	var errs []error
	if o.Tenant == "" {
		errs = append(errs, errors.New("a tenant slug is required"))
	}
	if o.Customers < 1 {
		errs = append(errs, errors.New("at least one customer is required"))
	}
	if o.ContactsPerCustomer < 0 || o.ContactsPerCustomer > 100 {
		errs = append(errs, errors.New("contacts per customer must be between 0 and 100"))
	}
	if o.FollowUpsPerCustomer < 0 || o.FollowUpsPerCustomer > 100 {
		errs = append(errs, errors.New("follow-ups per customer must be between 0 and 100"))
	}
	if o.PasswordHash == "" {
		errs = append(errs, errors.New("a password hash is required"))
	}
	if o.BatchSize < 0 {
		errs = append(errs, errors.New("the batch size must be positive"))
	}
	return errors.Join(errs...)
}

// Result is what Run did.
type Result struct {
	TenantID pulid.ID
	// CreatedTenant reports whether the tenant was made by this run.
	CreatedTenant bool
	// CreatedPeople reports whether this run made the seed's users (who
	// sign in with Options.PasswordHash); a resumed run finds them.
	CreatedPeople bool
	// Written counts the customers this run wrote; 0 when the seed was
	// already complete.
	Written int
	// People is the organisation of the seed.
	People  People
	Elapsed time.Duration
}

// counts is what seed events account for, and what a tenant holds.
type counts struct {
	Customers, Contacts, FollowUps, Users, Departments int
}

// record is the content of a seed event, stored as its changes.
type record struct {
	CreatedTenant bool
	Seed          uint64
	Params        string // customers/contacts/follow-ups of the seed
	From          int    // first customer index of a batch
	counts
}

// changes returns r as the changes of an audit event.
func (r record) changes() []audit.Change {
	add := func(field string, v any) audit.Change {
		b, _ := json.Marshal(v)
		return audit.Change{Field: field, After: b}
	}
	out := []audit.Change{add("seed", r.Seed), add("params", r.Params), add("from", r.From),
		add("customers", r.Customers), add("contacts", r.Contacts), add("follow_ups", r.FollowUps),
		add("users", r.Users), add("departments", r.Departments)}
	if r.CreatedTenant {
		out = append(out, add("created_tenant", true))
	}
	return out
}

// parseRecord reads the changes of a seed event.
func parseRecord(changes string) (record, error) {
	var list []audit.Change
	if err := json.Unmarshal([]byte(changes), &list); err != nil {
		return record{}, err
	}
	var r record
	for _, c := range list {
		var dst any
		switch c.Field {
		case "seed":
			dst = &r.Seed
		case "params":
			dst = &r.Params
		case "from":
			dst = &r.From
		case "customers":
			dst = &r.Customers
		case "contacts":
			dst = &r.Contacts
		case "follow_ups":
			dst = &r.FollowUps
		case "users":
			dst = &r.Users
		case "departments":
			dst = &r.Departments
		case "created_tenant":
			dst = &r.CreatedTenant
		default:
			continue
		}
		if err := json.Unmarshal(c.After, dst); err != nil {
			return record{}, fmt.Errorf("field %s: %w", c.Field, err)
		}
	}
	return r, nil
}

// params identifies a seed's shape: a run resumes a seed only with the same.
func (o Options) params() string {
	return fmt.Sprintf("%d/%d/%d", o.Customers, o.ContactsPerCustomer, o.FollowUpsPerCustomer)
}

// Run seeds the tenant named in opts in st, whose client must have the
// vault. It creates the tenant when missing, refuses one holding data it
// did not generate, and resumes a seed an earlier run of the same options
// left unfinished (doing nothing when it is complete).
func Run(ctx context.Context, st *store.Store, opts Options) (*Result, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if st.Client.Vault == nil {
		return nil, errors.New("seed: the store has no vault")
	}
	start := time.Now()
	clk := st.Client.Clock
	all := viewer.NewSystemContext(ctx, "", "custos seed: find tenant "+opts.Tenant, clk.Now())
	res := &Result{}
	t, err := st.Client.Tenant.Query().Where(tenant.Slug(opts.Tenant)).Only(all)
	switch {
	case ent.IsNotFound(err):
		if !opts.SkipDiskCheck {
			if err := checkDiskSpace(ctx, st, opts); err != nil {
				return nil, err
			}
		}
		created, err := tenancy.Create(all, st.Client, tenancy.Spec{
			Slug: opts.Tenant, Name: "Seed " + opts.Tenant, AdminEmail: "admin@" + opts.Tenant + ".seed.example",
			AdminName: "管理员 Admin", AdminPasswordHash: opts.PasswordHash,
		})
		if err != nil {
			return nil, fmt.Errorf("creating tenant: %w", err)
		}
		t, res.CreatedTenant = created.Tenant, true
		sys := systemContext(ctx, st, t.ID)
		if err := withTx(sys, st.Client, func(tx *ent.Tx) error {
			return writeEvent(sys, tx, t.ID, record{CreatedTenant: true, counts: counts{Users: 1, Departments: 1}})
		}); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("looking up tenant: %w", err)
	}
	res.TenantID = t.ID
	sys := systemContext(ctx, st, t.ID)
	prog, err := checkTenant(sys, st, t.ID, opts)
	if err != nil {
		return nil, err
	}
	if !prog.started && !res.CreatedTenant && !opts.SkipDiskCheck {
		if err := checkDiskSpace(ctx, st, opts); err != nil {
			return nil, err
		}
	}
	gen := NewGenerator(opts.Seed)
	res.People = gen.People(t.ID, opts.Customers)
	if !prog.started {
		if err := createPeople(sys, st.Client, t.ID, res.People, opts); err != nil {
			return nil, err
		}
		res.CreatedPeople = true
	}
	if prog.customers >= opts.Customers {
		res.Elapsed = time.Since(start)
		return res, nil
	}
	owners, err := loadOwners(sys, st.Client, res.People)
	if err != nil {
		return nil, err
	}
	w := &writer{st: st, tenantID: t.ID, gen: gen, opts: opts, owners: owners, progress: opts.Progress}
	if res.Written, err = w.run(sys, prog.batches); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// systemContext opens the audited system context of the seeder in
// tenantID.
func systemContext(ctx context.Context, st *store.Store, tenantID pulid.ID) context.Context {
	return viewer.NewSystemContext(ctx, tenantID, "custos seed", st.Client.Clock.Now())
}

// withTx runs fn in a transaction of client and commits when it succeeds.
func withTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// writeEvent writes the seed event r in tx.
func writeEvent(ctx context.Context, tx *ent.Tx, tenantID pulid.ID, r record) error {
	return audit.Write(ctx, tx, audit.Event{
		TenantID: tenantID, Category: auditevent.CategoryData, Action: Action,
		EntityType: "Tenant", EntityID: tenantID, Changes: r.changes(),
	})
}

// progress is how far earlier runs got with a seed.
type progress struct {
	started   bool
	customers int
	// batches maps the first customer of each written batch to its size.
	batches map[int]int
}

// checkTenant refuses a tenant the seeder did not create or that holds
// rows its seed events do not account for, and returns how far earlier
// runs got with opts.Seed.
func checkTenant(ctx context.Context, st *store.Store, tenantID pulid.ID, opts Options) (progress, error) {
	events, err := st.Client.AuditEvent.Query().
		Where(auditevent.TenantID(tenantID), auditevent.Action(Action)).
		Order(ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		return progress{}, fmt.Errorf("reading seed events: %w", err)
	}
	var (
		want    counts
		created bool
		prog    = progress{batches: map[int]int{}}
	)
	for _, ev := range events {
		r, err := parseRecord(ev.Changes)
		if err != nil {
			return prog, fmt.Errorf("seed event %s: %w", ev.ID, err)
		}
		created = created || r.CreatedTenant
		want.Customers += r.Customers
		want.Contacts += r.Contacts
		want.FollowUps += r.FollowUps
		want.Users += r.Users
		want.Departments += r.Departments
		if r.Seed == opts.Seed && !r.CreatedTenant {
			if r.Params != opts.params() {
				return prog, fmt.Errorf("seed: tenant %s already holds seed %d with customers/contacts/follow-ups %s, not %s: use another seed or tenant", opts.Tenant, opts.Seed, r.Params, opts.params())
			}
			prog.started = true
			prog.customers += r.Customers
			if r.Customers > 0 {
				if r.From%opts.BatchSize != 0 {
					return prog, fmt.Errorf("seed: an earlier run of seed %d wrote batches of another size; resume it with that --batch-size", opts.Seed)
				}
				prog.batches[r.From] = r.Customers
			}
		}
	}
	if !created {
		return prog, fmt.Errorf("%w: tenant %s was not created by custos seed", ErrForeignTenant, opts.Tenant)
	}
	have, err := tenantCounts(ctx, st, tenantID)
	if err != nil {
		return prog, err
	}
	if have != want {
		return prog, fmt.Errorf("%w: tenant %s holds %+v, its seed events account for %+v", ErrForeignTenant, opts.Tenant, have, want)
	}
	return prog, nil
}

// tenantCounts counts the rows of a tenant the seeder writes, deleted ones
// included.
func tenantCounts(ctx context.Context, st *store.Store, tenantID pulid.ID) (counts, error) {
	var c counts
	for _, q := range []struct {
		table string
		dst   *int
	}{
		{"customers", &c.Customers}, {"contacts", &c.Contacts}, {"follow_ups", &c.FollowUps},
		{"users", &c.Users}, {"departments", &c.Departments},
	} {
		if err := st.DB.QueryRowContext(ctx, `SELECT count(*) FROM `+q.table+` WHERE tenant_id = $1`, string(tenantID)).Scan(q.dst); err != nil {
			return c, fmt.Errorf("counting %s: %w", q.table, err)
		}
	}
	return c, nil
}

// createPeople creates the departments and users of a seed through ent,
// with one seed event counting them, in one transaction.
func createPeople(ctx context.Context, client *ent.Client, tenantID pulid.ID, p People, opts Options) error {
	return withTx(ctx, client, func(tx *ent.Tx) error {
		c := tx.Client()
		root, err := c.Department.Query().Where(department.ParentIDIsNil()).Order(ent.Asc(department.FieldID)).First(ctx)
		if err != nil {
			return fmt.Errorf("finding the root department: %w", err)
		}
		roles := map[string]pulid.ID{}
		for _, key := range []string{tenancy.RoleManager, tenancy.RoleSales} {
			r, err := c.Role.Query().Where(role.Builtin(key)).Only(ctx)
			if err != nil {
				return fmt.Errorf("finding role %s: %w", key, err)
			}
			roles[key] = r.ID
		}
		for _, d := range p.Departments {
			if _, err := c.Department.Create().SetID(d.ID).SetName(d.Name).SetParentID(root.ID).Save(ctx); err != nil {
				return fmt.Errorf("creating department %s: %w", d.Name, err)
			}
		}
		for _, pr := range p.People {
			u := c.User.Create().SetID(pr.ID).SetEmail(secret.Plain(pr.Email)).SetName(pr.Name).
				SetPasswordHash(opts.PasswordHash).SetDepartmentID(p.Departments[pr.Department].ID)
			if pr.ReportsTo >= 0 {
				u.SetReportsToID(p.People[pr.ReportsTo].ID)
			}
			if _, err := u.Save(ctx); err != nil {
				return fmt.Errorf("creating user %s: %w", pr.Email, err)
			}
			if _, err := c.RoleGrant.Create().SetUserID(pr.ID).SetRoleID(roles[pr.Role]).Save(ctx); err != nil {
				return fmt.Errorf("granting %s: %w", pr.Role, err)
			}
		}
		for _, d := range p.Departments {
			if _, err := c.Department.UpdateOneID(d.ID).SetLeaderID(p.People[d.Leader].ID).Save(ctx); err != nil {
				return fmt.Errorf("setting the leader of %s: %w", d.Name, err)
			}
		}
		return writeEvent(ctx, tx, tenantID, record{Seed: opts.Seed, Params: opts.params(),
			counts: counts{Users: len(p.People), Departments: len(p.Departments)}})
	})
}

// owner is what a seeded customer needs of its owner.
type owner struct {
	id, department pulid.ID
}

// loadOwners returns the owners of a seed with their departments.
func loadOwners(ctx context.Context, client *ent.Client, p People) ([]owner, error) {
	out := make([]owner, len(p.Owners))
	for i, k := range p.Owners {
		u, err := client.User.Get(ctx, p.People[k].ID)
		if err != nil {
			return nil, fmt.Errorf("loading owner %s: %w", p.People[k].Email, err)
		}
		out[i] = owner{id: u.ID, department: u.DepartmentID}
	}
	return out, nil
}
