package seed

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/tenancy"
)

// Person is a seeded user: an owner of customers, a manager leading a
// department, or a team lead in between.
type Person struct {
	ID    pulid.ID
	Email string
	Name  string
	// Role is the built-in role key (tenancy.RoleManager or RoleSales).
	Role string
	// Department indexes Plan.Departments.
	Department int
	// ReportsTo indexes Plan.People; -1 for none.
	ReportsTo int
}

// Department is a seeded sales department under the tenant's root.
type Department struct {
	ID   pulid.ID
	Name string
	// Leader indexes Plan.People.
	Leader int
}

// People is the organisation a seed run creates: departments, each led by
// a manager, with team leads reporting to the manager and sales people
// reporting to a team lead. Sales people and team leads own customers.
type People struct {
	Departments []Department
	People      []Person
	// Owners indexes People: who customers are spread over.
	Owners []int
}

var departmentNames = []string{"华东销售部 Sales East", "华北销售部 Sales North", "华南销售部 Sales South", "西部销售部 Sales West",
	"华中销售部 Sales Central", "东北销售部 Sales Northeast", "海外销售部 Sales Overseas", "大客户部 Key Accounts"}

// OwnerCount returns how many owners a seed of n customers spreads them
// over: one per 5,000 customers, at least 4 and at most 200.
func OwnerCount(n int) int { return min(max(n/5000, 4), 200) }

// People returns the organisation of a seed of n customers in tenantID.
func (g Generator) People(tenantID pulid.ID, n int) People {
	owners := OwnerCount(n)
	depts := min(max(owners/10, 2), len(departmentNames))
	var p People
	for d := range depts {
		p.Departments = append(p.Departments, Department{
			ID:   g.ID("dep", tenantID, streamPeople, d, 0, Epoch),
			Name: fmt.Sprintf("%s · seed %d", departmentNames[d], g.seed),
		})
	}
	name := func(k int) string {
		r := g.rng(streamPeople, k, 1)
		if r.IntN(5) == 0 {
			return englishName(r)
		}
		return chineseName(r)
	}
	add := func(pr Person) int {
		k := len(p.People)
		pr.ID = g.ID("usr", tenantID, streamPeople, k, 2, Epoch)
		pr.Name = name(k)
		p.People = append(p.People, pr)
		return k
	}
	for d := range p.Departments {
		p.Departments[d].Leader = add(Person{
			Email: fmt.Sprintf("manager%d.s%d@seed.example", d+1, g.seed), Role: tenancy.RoleManager, Department: d, ReportsTo: -1,
		})
	}
	lead := make([]int, depts)
	for k := range owners {
		d := k % depts
		boss := lead[d]
		if k/depts%5 == 0 { // every fifth owner of a department leads a team
			boss = p.Departments[d].Leader
		}
		me := add(Person{Email: fmt.Sprintf("sales%d.s%d@seed.example", k+1, g.seed), Role: tenancy.RoleSales, Department: d, ReportsTo: boss})
		if k/depts%5 == 0 {
			lead[d] = me
		}
		p.Owners = append(p.Owners, me)
	}
	return p
}

// ID returns the id of record (i, j) of stream in tenantID, timestamped
// at. Ids are deterministic for a seed and tenant, so an interrupted run
// resumes where it stopped, and distinct across tenants.
func (g Generator) ID(prefix string, tenantID pulid.ID, stream, i, j int, at time.Time) pulid.ID {
	h := fnv.New64a()
	h.Write([]byte(tenantID))
	r := rand.New(rand.NewPCG(g.seed^h.Sum64(), uint64(stream)<<56|uint64(i)<<16|uint64(j)))
	var entropy [16]byte
	for k := 0; k < len(entropy); k += 8 {
		v := r.Uint64()
		for b := range 8 {
			entropy[k+b] = byte(v >> (8 * b))
		}
	}
	u, err := ulid.New(ulid.Timestamp(at), bytes.NewReader(entropy[:]))
	if err != nil {
		panic(fmt.Sprintf("seed: ulid: %v", err)) // only for times before 1970 or after 10889
	}
	return pulid.ID(prefix + u.String())
}
