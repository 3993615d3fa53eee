package workitems

import (
	"context"
	"sync"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/approvaltask"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/flows"
)

// grantedTaskStatuses are the approval tasks that let their approver read
// the record: tasks waiting for them and the decisions they made. A task
// they delegated, or one closed before they acted, grants nothing.
var grantedTaskStatuses = []approvaltask.Status{
	approvaltask.StatusOpen, approvaltask.StatusWaiting, approvaltask.StatusApproved, approvaltask.StatusRejected,
}

// NewRequestContext returns ctx prepared for one API request: it carries
// the records the viewer's approval tasks grant (read by the ticket and
// project privacy rules) and a memo of what field access needs per record
// (the viewer's roles, parsed workflow versions), so that a list of records
// reads them once, not once per row.
func (s *Service) NewRequestContext(ctx context.Context, client *ent.Client) context.Context {
	r := &requestState{service: s, client: client}
	ctx = rule.NewRecordGrantsContext(ctx, r)
	return context.WithValue(ctx, requestStateKey{}, r)
}

type requestStateKey struct{}

// requestState is what one request learned once and reuses.
type requestState struct {
	service *Service
	client  *ent.Client

	mu       sync.Mutex
	user     pulid.ID
	loaded   bool
	granted  map[string][]pulid.ID
	roles    []string
	hasRoles bool
	versions map[pulid.ID]*flows.Workflow
}

// clientFor returns the request's transaction client when ctx has one: on
// SQLite the store has a single connection, held by the transaction.
func (r *requestState) clientFor(ctx context.Context) *ent.Client {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return tx.Client()
	}
	return r.client
}

// RecordIDs implements rule.RecordGrants: the tasks are read once, when a
// read first needs them.
func (r *requestState) RecordIDs(ctx context.Context, v *viewer.Viewer, module string) ([]pulid.ID, error) {
	if v == nil || v.System || v.UserID == "" {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded || r.user != v.UserID {
		tasks, err := r.clientFor(ctx).ApprovalTask.Query().
			Where(approvaltask.TenantID(v.TenantID), approvaltask.ApproverID(v.UserID), approvaltask.StatusIn(grantedTaskStatuses...)).
			Select(approvaltask.FieldRecordID, approvaltask.FieldModule).
			All(r.service.system(ctx, v.TenantID, "approval task grants"))
		if err != nil {
			return nil, err
		}
		r.granted = map[string][]pulid.ID{}
		for _, t := range tasks {
			r.granted[string(t.Module)] = append(r.granted[string(t.Module)], t.RecordID)
		}
		r.user, r.loaded = v.UserID, true
	}
	return r.granted[module], nil
}

// viewerRoles returns the role names field access rules match for the
// viewer in ctx, memoised for the request when ctx has a request state.
func (s *Service) viewerRoles(ctx context.Context, client *ent.Client) ([]string, error) {
	r, _ := ctx.Value(requestStateKey{}).(*requestState)
	if r != nil {
		r.mu.Lock()
		roles, ok := r.roles, r.hasRoles
		r.mu.Unlock()
		if ok {
			return roles, nil
		}
	}
	ev, err := ExprViewer(ctx, client)
	if err != nil {
		return nil, err
	}
	if r != nil {
		r.mu.Lock()
		r.roles, r.hasRoles = ev.Roles, true
		r.mu.Unlock()
	}
	return ev.Roles, nil
}

// pinnedWorkflow returns the parsed workflow version a record pins,
// memoised for the request when ctx has a request state (pinned versions
// are published and never change).
func (s *Service) pinnedWorkflow(ctx context.Context, client *ent.Client, versionID pulid.ID) (*flows.Workflow, error) {
	r, _ := ctx.Value(requestStateKey{}).(*requestState)
	if r != nil {
		r.mu.Lock()
		w := r.versions[versionID]
		r.mu.Unlock()
		if w != nil {
			return w, nil
		}
	}
	ver, err := client.WorkflowVersion.Get(ctx, versionID)
	if err != nil {
		return nil, err
	}
	w, err := s.parse(ctx, client, ver)
	if err != nil {
		return nil, err
	}
	if r != nil {
		r.mu.Lock()
		if r.versions == nil {
			r.versions = map[pulid.ID]*flows.Workflow{}
		}
		r.versions[versionID] = w
		r.mu.Unlock()
	}
	return w, nil
}
