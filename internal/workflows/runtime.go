package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/department"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/forms"
)

// Target is the record a running action or resolver works on.
type Target struct {
	// Module is "ticket" or "project".
	Module     string
	ID         pulid.ID
	TenantID   pulid.ID
	OwnerID    pulid.ID
	AssigneeID pulid.ID
	CustomerID pulid.ID
	// SubmitterID is the user who took the transition (or submitted the
	// approval request); empty when the system acts (an SLA breach).
	SubmitterID pulid.ID
}

// ActionEnv is what a running action may do. Every method writes in the
// transaction of the transition (or of the SLA job), so nothing happens if
// it rolls back; messages (notices, e-mails, webhooks) go through the
// outbox and leave only after commit.
type ActionEnv interface {
	// Target is the record.
	Target() Target
	// SetField sets a field of the record's form data (a dot-separated
	// path); the value is validated with the rest of the record.
	SetField(ctx context.Context, path string, value any) error
	// Assign makes user the record's assignee.
	Assign(ctx context.Context, user pulid.ID) error
	// Notify puts a notice of kind about the record in user's inbox and,
	// by their preferences, an e-mail in the outbox.
	Notify(ctx context.Context, user pulid.ID, kind string) error
	// Webhook records event about the record for the tenant's endpoints
	// that subscribe to it.
	Webhook(ctx context.Context, event string) error
	// CreateFollowUp adds a follow-up of followUpType, due in inDays days,
	// on the record's customer; nothing when the record has none.
	CreateFollowUp(ctx context.Context, followUpType string, inDays int) error
}

// Runner is an action plugin that can run. Run decodes config (already
// checked when the workflow was saved) and acts through env.
type Runner interface {
	forms.Action
	Run(ctx context.Context, env ActionEnv, config json.RawMessage) error
}

// ResolverEnv is what an approver resolver may read: the tenant's users,
// roles and departments through Client (in the tenant's system context),
// the record, and the approvers the submitter chose.
type ResolverEnv interface {
	Client() *ent.Client
	Target() Target
	// Chosen are the approvers the submitter named with the transition.
	Chosen() []pulid.ID
}

// Resolving is an approver resolver plugin that can list approvers: user
// ids in order, possibly none (the step then falls back).
type Resolving interface {
	forms.ApproverResolver
	Resolve(ctx context.Context, env ResolverEnv, config json.RawMessage) ([]pulid.ID, error)
}

// RunAction runs the action named by typ from reg.
func RunAction(ctx context.Context, reg *forms.Registry, env ActionEnv, typ string, config json.RawMessage) error {
	p, ok := reg.Plugin(typ)
	if !ok {
		return fmt.Errorf("workflows: action %q is not registered", typ)
	}
	r, ok := p.(Runner)
	if !ok {
		return fmt.Errorf("workflows: plugin %q cannot run", typ)
	}
	return r.Run(ctx, env, config)
}

// ResolveApprovers runs the resolver named by typ from reg and keeps only
// active users of the tenant, in order, each once.
func ResolveApprovers(ctx context.Context, reg *forms.Registry, env ResolverEnv, typ string, config json.RawMessage) ([]pulid.ID, error) {
	p, ok := reg.Plugin(typ)
	if !ok {
		return nil, fmt.Errorf("workflows: resolver %q is not registered", typ)
	}
	r, ok := p.(Resolving)
	if !ok {
		return nil, fmt.Errorf("workflows: plugin %q cannot resolve approvers", typ)
	}
	ids, err := r.Resolve(ctx, env, config)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	active, err := env.Client().User.Query().
		Where(user.IDIn(ids...), user.TenantID(env.Target().TenantID), user.StatusEQ(user.StatusActive)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	var out []pulid.ID
	for _, id := range ids {
		if slices.Contains(active, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// RoleHolders lists the active users holding a role, named by its built-in
// key (admin, manager, sales) or its id, sorted by id.
func RoleHolders(ctx context.Context, client *ent.Client, tenantID pulid.ID, name string) ([]pulid.ID, error) {
	roles, err := client.Role.Query().
		Where(role.TenantID(tenantID), role.Or(role.Builtin(name), role.ID(pulid.ID(name)))).IDs(ctx)
	if err != nil || len(roles) == 0 {
		return nil, err
	}
	return client.User.Query().
		Where(user.TenantID(tenantID), user.StatusEQ(user.StatusActive), user.HasGrantsWith(rolegrant.RoleIDIn(roles...))).
		Order(ent.Asc(user.FieldID)).IDs(ctx)
}

// Supervisor returns the level-th supervisor of a user: the reports-to
// chain first; where it ends, the leader of the department of the last
// person reached, then of its parent departments. It returns "" when the
// chain is shorter than level.
func Supervisor(ctx context.Context, client *ent.Client, of pulid.ID, level int) (pulid.ID, error) {
	current := of
	seen := map[pulid.ID]bool{of: true}
	for range level {
		u, err := client.User.Get(ctx, current)
		if err != nil {
			return "", err
		}
		next := u.ReportsToID
		if next == "" || seen[next] {
			next, err = departmentLeader(ctx, client, u.DepartmentID, seen)
			if err != nil || next == "" {
				return "", err
			}
		}
		seen[next] = true
		current = next
	}
	return current, nil
}

// departmentLeader returns the first leader, going up from dept, who is not
// in seen.
func departmentLeader(ctx context.Context, client *ent.Client, dept pulid.ID, seen map[pulid.ID]bool) (pulid.ID, error) {
	for depth := 0; dept != "" && depth < 32; depth++ {
		d, err := client.Department.Query().Where(department.ID(dept)).Only(ctx)
		if err != nil {
			return "", err
		}
		if d.LeaderID != "" && !seen[d.LeaderID] {
			return d.LeaderID, nil
		}
		dept = d.ParentID
	}
	return "", nil
}
