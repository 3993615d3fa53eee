package bench

import (
	"context"
	"fmt"

	entgo "entgo.io/ent"

	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/schema"
)

// auditHookIndex returns the position of the audit hook among the
// generated customer hooks: ent/runtime puts the mixins' hooks first, then
// those of Customer.Hooks(), whose first is the audit hook. L1 checks it
// before trusting it.
func auditHookIndex() int { return len(customer.Hooks) - len(schema.Customer{}.Hooks()) }

// auditSwitch turns the customer audit hook off and on in this process:
// the "auditing off" build of L1. It is only ever flipped between runs,
// while no mutation is in flight.
type auditSwitch struct {
	index    int
	original entgo.Hook
}

func newAuditSwitch() *auditSwitch {
	i := auditHookIndex()
	return &auditSwitch{index: i, original: customer.Hooks[i]}
}

func (s *auditSwitch) set(on bool) {
	if on {
		customer.Hooks[s.index] = s.original
		return
	}
	customer.Hooks[s.index] = func(next entgo.Mutator) entgo.Mutator { return next }
}

const updateMutation = `mutation($id: ID!, $name: String!) { updateCustomer(id: $id, input: {name: $name}) { id } }`

// L1 returns the arms of L1: updateCustomer through the full HTTP stack
// as the manager, each worker renaming customers of its own, with the
// chained audit event (A) and with the customer audit hook switched off
// (B). It first checks that the switch does switch the audit event off.
func (e *Env) L1(ctx context.Context, workers int) (a, b Arm, err error) {
	client := HTTPClient(workers)
	token, err := e.Login(ctx, client, e.Manager())
	if err != nil {
		return a, b, err
	}
	v, err := e.loadViewer(ctx, e.Manager())
	if err != nil {
		return a, b, err
	}
	s := scopeOf(v)
	rows, err := e.Pgx.QueryContext(ctx, `SELECT id, name FROM customers WHERE tenant_id = $1 AND department_id = ANY($2) ORDER BY id DESC LIMIT $3`,
		string(s.tenantID), s.departments, workers*4)
	if err != nil {
		return a, b, err
	}
	var ids, names []string
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return a, b, err
		}
		ids, names = append(ids, id), append(names, name)
	}
	rows.Close()
	if len(ids) < workers*4 {
		return a, b, fmt.Errorf("bench: the manager sees only %d customers", len(ids))
	}
	update := func(ctx context.Context, worker, n int) error {
		i := worker*4 + n%4
		_, err := GraphQL(ctx, client, e.Server.URL, token, updateMutation,
			map[string]any{"id": ids[i], "name": fmt.Sprintf("%s #%d", names[i], n%1000)})
		return err
	}
	sw := newAuditSwitch()
	events := func() (int, error) {
		var n int
		err := e.Pgx.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND entity_id = $2`, string(s.tenantID), ids[0]).Scan(&n)
		return n, err
	}
	for k, on := range []bool{false, true} {
		sw.set(on)
		before, err := events()
		if err != nil {
			return a, b, err
		}
		// Worker 0, call 400(k+1): customer ids[0] under a new name.
		if err := update(ctx, 0, 400*(k+1)); err != nil {
			sw.set(true)
			return a, b, err
		}
		after, err := events()
		if err != nil {
			return a, b, err
		}
		if wrote := after > before; wrote != on {
			sw.set(true)
			return a, b, fmt.Errorf("bench: customer.Hooks[%d] is not the audit hook (audit on=%v wrote an event=%v)", sw.index, on, wrote)
		}
	}
	a = Arm{Op: update, Around: func() func() { sw.set(true); return func() {} }}
	b = Arm{Op: update, Around: func() func() { sw.set(false); return func() { sw.set(true) } }}
	return a, b, nil
}
