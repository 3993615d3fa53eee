package seed_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/customer"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/seed"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/vault"
)

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b, other := seed.NewGenerator(42), seed.NewGenerator(42), seed.NewGenerator(43)
	for i := range 50 {
		if !reflect.DeepEqual(a.Customer(i), b.Customer(i)) || !reflect.DeepEqual(a.Contact(i, 1), b.Contact(i, 1)) {
			t.Fatalf("customer %d differs between two generators of seed 42", i)
		}
		c := a.Customer(i)
		if !reflect.DeepEqual(a.FollowUp(i, 2, 2, c.CreatedAt), b.FollowUp(i, 2, 2, c.CreatedAt)) {
			t.Fatalf("follow-up %d differs between two generators of seed 42", i)
		}
	}
	if reflect.DeepEqual(a.Customer(0), other.Customer(0)) && reflect.DeepEqual(a.Customer(1), other.Customer(1)) {
		t.Error("seeds 42 and 43 give the same customers")
	}
	if !reflect.DeepEqual(a.People("ten1", 100000), b.People("ten1", 100000)) {
		t.Error("the organisation differs between two generators of seed 42")
	}
	if a.ID("cus", "ten1", 1, 5, 0, seed.Epoch) == a.ID("cus", "ten2", 1, 5, 0, seed.Epoch) {
		t.Error("two tenants get the same ids")
	}
}

// TestGeneratedValuesAreValid checks that every generated phone number,
// e-mail and WeChat id passes the normaliser the blind indexes use, so an
// API write of the same value would be accepted.
func TestGeneratedValuesAreValid(t *testing.T) {
	g := seed.NewGenerator(7)
	check := func(kind personal.Kind, v string) {
		t.Helper()
		if v == "" {
			return
		}
		if _, ok := personal.Normalize(kind, normalize.Text(v), "86"); !ok {
			t.Errorf("%s %q does not normalise", kind, v)
		}
	}
	chinese := 0
	for i := range 2000 {
		c := g.Customer(i)
		check(personal.Phone, c.Mobile)
		check(personal.Phone, c.Telephone)
		check(personal.Email, c.Email)
		check(personal.WeChat, c.WeChat)
		ct := g.Contact(i, 0)
		check(personal.Phone, ct.Mobile)
		check(personal.Phone, ct.Telephone)
		check(personal.Email, ct.Email)
		check(personal.WeChat, ct.WeChat)
		if c.Name == "" || len(c.Province) != 6 || len(c.City) != 6 {
			t.Fatalf("customer %d: %+v", i, c)
		}
		if []rune(c.Name)[0] > 0x2E80 {
			chinese++
		}
	}
	if chinese < 1200 || chinese > 1800 {
		t.Errorf("%d of 2000 customer names are Chinese, want most but not all", chinese)
	}
	p := g.People("ten1", 1_000_000)
	if len(p.Owners) != 200 || len(p.Departments) != 8 {
		t.Errorf("1,000,000 customers: %d owners in %d departments, want 200 in 8", len(p.Owners), len(p.Departments))
	}
	// Every owner's chain ends at the manager who leads the department.
	for _, k := range p.Owners {
		me, hops := p.People[k], 0
		for me.ReportsTo >= 0 && hops < 5 {
			me, hops = p.People[me.ReportsTo], hops+1
		}
		if hops == 0 || me.Role != "manager" || p.People[p.Departments[me.Department].Leader].ID != me.ID {
			t.Fatalf("owner %s: chain of %d ends at %s", p.People[k].Email, hops, me.Email)
		}
	}
}

// apiCustomer is the name of the customer a test creates through the API.
const apiCustomer = "API 客户"

func options(t *testing.T, a *apptest.App, slug string, seedValue uint64) seed.Options {
	t.Helper()
	hash, err := a.Hasher.Hash(context.Background(), apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	return seed.Options{Tenant: slug, Customers: 23, ContactsPerCustomer: 2, FollowUpsPerCustomer: 3,
		Seed: seedValue, PasswordHash: hash, BatchSize: 5, SkipDiskCheck: true}
}

func TestSeed(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		ctx := context.Background()
		opts := options(t, a, "acme", 42)
		res, err := seed.Run(ctx, a.Store, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.CreatedTenant || res.Written != 23 {
			t.Fatalf("result %+v, want a new tenant with 23 customers", res)
		}
		sys := a.System(res.TenantID)
		for _, c := range []struct {
			name string
			got  func(context.Context) (int, error)
			want int
		}{
			{"customers", a.Client().Customer.Query().Count, 23},
			{"contacts", a.Client().Contact.Query().Count, 46},
			{"follow-ups", a.Client().FollowUp.Query().Count, 69},
		} {
			if n, err := c.got(sys); err != nil || n != c.want {
				t.Errorf("%s: %d, %v; want %d", c.name, n, err, c.want)
			}
		}

		t.Run("one audit event per batch and the chain verifies", func(t *testing.T) {
			n, err := a.Client().AuditEvent.Query().Where(auditevent.Action(seed.Action)).Count(sys)
			if err != nil {
				t.Fatal(err)
			}
			// The tenant marker, the people, and ceil(23/5) batches.
			if n != 1+1+5 {
				t.Errorf("%d seed events, want 7", n)
			}
			if _, problem, err := audit.Verify(ctx, a.Store.DB, string(res.TenantID)); err != nil || problem != nil {
				t.Fatalf("audit chain: %v %v", problem, err)
			}
		})

		t.Run("running again does nothing", func(t *testing.T) {
			again, err := seed.Run(ctx, a.Store, opts)
			if err != nil || again.Written != 0 {
				t.Errorf("second run: %+v, %v; want nothing written", again, err)
			}
		})

		gen := seed.NewGenerator(42)
		first := gen.Customer(0)
		var firstID pulid.ID
		t.Run("personal fields are encrypted at rest", func(t *testing.T) {
			c, err := a.Client().Customer.Query().Where(customer.Name(first.Name)).Order(ent.Asc(customer.FieldCreatedAt)).First(sys)
			if err != nil {
				t.Fatal(err)
			}
			firstID = c.ID
			var mobile, email, bidx []byte
			if err := a.Store.DB.QueryRowContext(ctx, `SELECT mobile, email, mobile_bidx FROM customers WHERE id = $1`, string(c.ID)).Scan(&mobile, &email, &bidx); err != nil {
				t.Fatal(err)
			}
			if len(mobile) == 0 || len(bidx) == 0 || bytes.Contains(mobile, []byte(first.Mobile[len(first.Mobile)-4:])) || bytes.Contains(email, []byte("example")) {
				t.Errorf("mobile %x, email %x are not ciphertexts", mobile, email)
			}
			got, err := a.Vault.OpenString(sys, vault.Ref{TenantID: string(res.TenantID), Table: "Customer", RowID: string(c.ID)}, c.DataKey, "mobile", mobile)
			if err != nil || got != normalize.Text(first.Mobile) {
				t.Errorf("decrypted mobile %q, %v; want %q", got, err, first.Mobile)
			}
		})

		t.Run("reads back through GraphQL and is found by its blind index", func(t *testing.T) {
			admin := a.Login(t, "acme", "admin@acme.seed.example")
			// The same number written another way, as a user would type it.
			digits := first.Mobile
			if n, ok := personal.Normalize(personal.Phone, normalize.Text(first.Mobile), "86"); ok {
				digits = n[len(n)-11:]
			}
			typed := digits[:3] + " " + digits[3:7] + " " + digits[7:]
			var out struct {
				Customers struct {
					Edges []struct {
						Node struct {
							ID, Name, Mobile, Email, Address string
							Owner                            struct{ Name string }
						}
					}
				}
				Search struct{ Customers []struct{ ID string } }
			}
			a.GraphQL(t, admin, `query($m: String!) {
				customers(first: 10, where: {mobile: $m}) { edges { node { id name mobile email address owner { name } } } }
				search(query: $m) { customers { id } } }`, map[string]any{"m": typed}).MustSucceed(t).Decode(t, &out)
			found := false
			for _, e := range out.Customers.Edges {
				if e.Node.ID == string(firstID) {
					found = true
					n := e.Node
					if n.Name != first.Name || n.Mobile != normalize.Text(first.Mobile) || n.Email != first.Email || n.Address != first.Address || n.Owner.Name == "" {
						t.Errorf("read back %+v, want %+v", n, first)
					}
				}
			}
			if !found {
				t.Fatalf("customers(where: {mobile: %q}) did not find the seeded customer: %+v", typed, out.Customers)
			}
			if len(out.Search.Customers) == 0 || out.Search.Customers[0].ID != string(firstID) {
				t.Errorf("search(%q) found %+v, want %s", typed, out.Search.Customers, firstID)
			}
			// An API-created customer with the same number is found the same way.
			a.GraphQL(t, admin, `mutation($m: String!, $name: String!) { createCustomer(input: {name: $name, mobile: $m}) { id } }`,
				map[string]any{"m": first.Mobile, "name": apiCustomer}).MustSucceed(t)
			a.GraphQL(t, admin, `query($m: String!) { customers(first: 10, where: {mobile: $m}) { edges { node { id name mobile email address owner { name } } } }
				search(query: $m) { customers { id } } }`, map[string]any{"m": typed}).MustSucceed(t).Decode(t, &out)
			if len(out.Customers.Edges) != 2 || len(out.Search.Customers) != 2 {
				t.Errorf("after an API create: %d customers and %d search hits by mobile, want 2 and 2", len(out.Customers.Edges), len(out.Search.Customers))
			}
		})

		t.Run("quick search finds seeded names by a fragment, as API-created ones", func(t *testing.T) {
			admin := a.Login(t, "acme", "admin@acme.seed.example")
			// The whole name: a shorter fragment may match more than the
			// 20 a search returns.
			fragment := first.Name
			a.GraphQL(t, admin, `mutation($name: String!) { createCustomer(input: {name: $name}) { id } }`,
				map[string]any{"name": "API " + first.Name}).MustSucceed(t)
			var out struct {
				Search struct{ Customers []struct{ ID, Name string } }
			}
			a.GraphQL(t, admin, `query($q: String!) { search(query: $q) { customers { id name } } }`, map[string]any{"q": fragment}).MustSucceed(t).Decode(t, &out)
			var seeded, api bool
			for _, c := range out.Search.Customers {
				seeded = seeded || c.ID == string(firstID)
				api = api || c.Name == "API "+first.Name
				if !strings.Contains(strings.ToLower(c.Name), strings.ToLower(fragment)) {
					t.Errorf("search(%q) found %q", fragment, c.Name)
				}
			}
			if !seeded || !api {
				t.Errorf("search(%q) found %+v: seeded %v, API-created %v", fragment, out.Search.Customers, seeded, api)
			}
		})

		t.Run("a manager sees the customers of the department", func(t *testing.T) {
			manager := res.People.People[res.People.Departments[0].Leader]
			token := a.Login(t, "acme", manager.Email)
			var out struct {
				Customers struct{ TotalCount int }
			}
			a.GraphQL(t, token, `{ customers(first: 50) { totalCount } }`, nil).MustSucceed(t).Decode(t, &out)
			want := 0
			for i := range 23 {
				k := res.People.Owners[gen.Customer(i).Owner%len(res.People.Owners)]
				if res.People.People[k].Department == 0 {
					want++
				}
			}
			if out.Customers.TotalCount != want || want == 0 {
				t.Errorf("the manager of %s sees %d customers, want %d", res.People.Departments[0].Name, out.Customers.TotalCount, want)
			}
		})

		t.Run("the same seed gives the same data in another tenant", func(t *testing.T) {
			res2, err := seed.Run(ctx, a.Store, options(t, a, "acme2", 42))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := contents(t, a, res2.TenantID), contents(t, a, res.TenantID); !reflect.DeepEqual(got, want) {
				t.Errorf("tenant acme2 holds\n%v\nacme holds\n%v", got, want)
			}
		})

		t.Run("refuses data it did not generate", func(t *testing.T) {
			// acme now holds a customer created through the API.
			_, err := seed.Run(ctx, a.Store, options(t, a, "acme", 43))
			if !errors.Is(err, seed.ErrForeignTenant) {
				t.Errorf("seeding a tenant with an API customer: %v, want ErrForeignTenant", err)
			}
			a.NewTenant(t, "bootstrapped")
			_, err = seed.Run(ctx, a.Store, options(t, a, "bootstrapped", 42))
			if !errors.Is(err, seed.ErrForeignTenant) {
				t.Errorf("seeding a tenant the seeder did not create: %v, want ErrForeignTenant", err)
			}
			// A different shape of the same seed is refused too.
			o := options(t, a, "acme2", 42)
			o.Customers = 40
			if _, err := seed.Run(ctx, a.Store, o); err == nil {
				t.Error("seed 42 with other counts was accepted")
			}
		})
	})
}

// contents returns the seeded customers of a tenant as plain text, in
// creation order: name, decrypted mobile and email, and the number of
// contacts and follow-ups.
func contents(t *testing.T, a *apptest.App, tenantID pulid.ID) []string {
	t.Helper()
	sys := a.System(tenantID)
	cs, err := a.Client().Customer.Query().WithContacts().WithFollowUps().
		Order(ent.Asc(customer.FieldCreatedAt), ent.Asc(customer.FieldName)).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		ref := vault.Ref{TenantID: string(tenantID), Table: "Customer", RowID: string(c.ID)}
		if c.Name == apiCustomer || strings.HasPrefix(c.Name, "API ") {
			continue
		}
		m, err := a.Vault.OpenString(sys, ref, c.DataKey, "mobile", c.Mobile.Ciphertext())
		if err != nil {
			t.Fatal(err)
		}
		e, err := a.Vault.OpenString(sys, ref, c.DataKey, "email", c.Email.Ciphertext())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Name+"|"+m+"|"+e+"|"+c.CreatedAt.UTC().String()+"|"+string(rune('0'+len(c.Edges.Contacts)))+string(rune('0'+len(c.Edges.FollowUps))))
	}
	return out
}

// cancelAfterFirst cancels a run when it reports its first batch.
type cancelAfterFirst struct{ cancel context.CancelFunc }

func (c cancelAfterFirst) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }

func TestInterruptedSeedResumes(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		opts := options(t, a, "resume", 9)
		ctx, cancel := context.WithCancel(context.Background())
		opts.Progress = cancelAfterFirst{cancel}
		first, err := seed.Run(ctx, a.Store, opts)
		if err == nil {
			t.Fatalf("the interrupted run succeeded: %+v", first)
		}
		opts.Progress = nil
		res, err := seed.Run(context.Background(), a.Store, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.CreatedTenant || res.Written == 0 || res.Written == 23 {
			t.Errorf("the second run wrote %d customers, want the rest of 23", res.Written)
		}
		sys := a.System(res.TenantID)
		if n, err := a.Client().Customer.Query().Count(sys); err != nil || n != 23 {
			t.Errorf("%d customers, %v; want 23", n, err)
		}
		if n, err := a.Client().FollowUp.Query().Count(sys); err != nil || n != 69 {
			t.Errorf("%d follow-ups, %v; want 69", n, err)
		}
		if _, problem, err := audit.Verify(context.Background(), a.Store.DB, string(res.TenantID)); err != nil || problem != nil {
			t.Fatalf("audit chain: %v %v", problem, err)
		}
	})
}
