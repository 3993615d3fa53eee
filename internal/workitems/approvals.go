package workitems

import (
	"context"
	"errors"
	"slices"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/approvalrequest"
	"github.com/custos-crm/custos/ent/approvaltask"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/workflows"
)

// openApproval opens the approval step key of w on it, submitted by
// submitter: the step's resolver lists the approvers; when none is left
// (the submitter removed, nobody holding the role) the step's fallback
// resolver, or the tenant's admins, take over and the history says so.
// The approvers whose turn it is get a notice.
func (s *Service) openApproval(ctx context.Context, tx *ent.Tx, it *Item, w *flows.Workflow, transition, key string, submitter pulid.ID, chosen []pulid.ID) error {
	a, ok := w.Approval(key)
	if !ok {
		return errors.New("workitems: unknown approval step " + key)
	}
	sys := s.system(ctx, it.TenantID, "open approval "+key+" on "+string(it.ID))
	client := tx.Client()
	env := &resolverEnv{client: client, target: target(it, submitter), chosen: chosen}
	approvers, err := workflows.ResolveApprovers(sys, s.registry, env, a.Approvers.Type, a.Approvers.Config)
	if err != nil {
		return err
	}
	step := a.Step(idStrings(approvers), string(submitter))
	tally, err := step.Tally(nil)
	if err != nil {
		return err
	}
	fallback := false
	if tally.Outcome == flows.OutcomeNeedsFallback {
		fallback = true
		if a.Fallback != nil {
			approvers, err = workflows.ResolveApprovers(sys, s.registry, env, a.Fallback.Type, a.Fallback.Config)
		} else {
			approvers, err = workflows.RoleHolders(sys, client, it.TenantID, "admin")
		}
		if err != nil {
			return err
		}
		step = a.Step(idStrings(approvers), string(submitter))
		if tally, err = step.Tally(nil); err != nil {
			return err
		}
		if tally.Outcome == flows.OutcomeNeedsFallback {
			return apierr.BadInput(apierr.Field("/transition", "no_approvers"))
		}
	}
	req, err := client.ApprovalRequest.Create().SetTenantID(it.TenantID).SetRecordID(it.ID).
		SetModule(approvalrequest.Module(it.Module)).SetWorkflowVersionID(it.VersionID).SetApproval(key).
		SetTransition(transition).SetNillableSubmitterID(nonEmpty(submitter)).SetApprovers(tally.Approvers).
		SetFallback(fallback).SetVotes([]flows.Vote{}).Save(sys)
	if err != nil {
		return err
	}
	if fallback {
		if err := s.record(ctx, client, it.ID, it.State, it.State, "approval.fallback", "", nil); err != nil {
			return err
		}
	}
	return s.syncTasks(sys, tx, it, req, tally)
}

func idStrings(ids []pulid.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func nonEmpty(id pulid.ID) *pulid.ID {
	if id == "" {
		return nil
	}
	return &id
}

// syncTasks brings the tasks of req in line with its tally: one task per
// approver (delegators keep theirs, marked delegated) and a notice to each
// approver whose turn has just come.
func (s *Service) syncTasks(sys context.Context, tx *ent.Tx, it *Item, req *ent.ApprovalRequest, t flows.Tally) error {
	client := tx.Client()
	want := map[string]approvaltask.Status{}
	var order []string
	for _, v := range req.Votes {
		if v.Kind == flows.VoteDelegate {
			want[v.Actor] = approvaltask.StatusDelegated
			order = append(order, v.Actor)
		}
	}
	for _, id := range t.Approvers {
		order = append(order, id)
		switch {
		case slices.Contains(t.Approved, id):
			want[id] = approvaltask.StatusApproved
		case slices.Contains(t.Rejected, id):
			want[id] = approvaltask.StatusRejected
		case slices.Contains(t.Waiting, id):
			want[id] = approvaltask.StatusOpen
		case t.Outcome == flows.OutcomePending:
			want[id] = approvaltask.StatusWaiting
		default:
			want[id] = approvaltask.StatusClosed
		}
	}
	existing, err := client.ApprovalTask.Query().Where(approvaltask.RequestID(req.ID)).All(sys)
	if err != nil {
		return err
	}
	have := map[string]*ent.ApprovalTask{}
	for _, task := range existing {
		have[string(task.ApproverID)] = task
	}
	for _, id := range order {
		status := want[id]
		task, ok := have[id]
		switch {
		case !ok:
			err = client.ApprovalTask.Create().SetTenantID(it.TenantID).SetRequestID(req.ID).SetRecordID(it.ID).
				SetModule(approvaltask.Module(it.Module)).SetApproval(req.Approval).SetApproverID(pulid.ID(id)).
				SetNillableSubmitterID(nonEmpty(req.SubmitterID)).SetStatus(status).Exec(sys)
		case task.Status != status:
			err = task.Update().SetStatus(status).Exec(sys)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if status == approvaltask.StatusOpen {
			err := s.notify.NotifyTx(sys, tx, notify.Notice{
				TenantID: it.TenantID, UserID: pulid.ID(id), Kind: mail.KindApprovalRequested, RecordID: string(it.ID),
				Key: "approval:" + string(req.ID) + ":" + id,
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// withdraw ends the pending approval requests of it, in tx, because a
// transition is taking the record out of the step's state before the step
// was decided: their open and waiting tasks close and the history says so.
func (s *Service) withdraw(ctx context.Context, tx *ent.Tx, it *Item) error {
	sys := s.system(ctx, it.TenantID, "withdraw approvals of "+string(it.ID))
	client := tx.Client()
	pending, err := client.ApprovalRequest.Query().
		Where(approvalrequest.RecordID(it.ID), approvalrequest.OutcomeEQ(approvalrequest.OutcomePending)).All(sys)
	if err != nil {
		return err
	}
	for _, req := range pending {
		if err := req.Update().SetOutcome(approvalrequest.OutcomeWithdrawn).Exec(sys); err != nil {
			return err
		}
		err := client.ApprovalTask.Update().
			Where(approvaltask.RequestID(req.ID), approvaltask.StatusIn(approvaltask.StatusOpen, approvaltask.StatusWaiting)).
			SetStatus(approvaltask.StatusClosed).Exec(sys)
		if err != nil {
			return err
		}
		if err := s.record(ctx, client, it.ID, it.State, it.State, "approval.withdrawn", "", []string{req.Approval}); err != nil {
			return err
		}
	}
	return nil
}

// Decision is an approver's decision on a record's pending approval.
type Decision struct {
	Kind    flows.VoteKind
	Comment *string
	// Delegate is, for a delegation, the user who decides instead.
	Delegate pulid.ID
}

// Decide records the viewer's decision on the pending approval of a record,
// in tx: the vote is checked against the step (approver, turn, submitter,
// already decided), the tasks follow, the history grows, and when the step
// is decided the record moves to the step's approve or reject state. A
// decision bumps the record's revision, so two decisions at once cannot
// both count from the same votes: the second gets CONFLICT.
func (s *Service) Decide(ctx context.Context, tx *ent.Tx, module string, id pulid.ID, d Decision) (string, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.UserID == "" {
		return "", apierr.New(apierr.Forbidden)
	}
	client := tx.Client()
	sys := s.system(ctx, v.TenantID, "approval decision on "+string(id))
	req, err := client.ApprovalRequest.Query().
		Where(approvalrequest.TenantID(v.TenantID), approvalrequest.RecordID(id), approvalrequest.ModuleEQ(approvalrequest.Module(module)),
			approvalrequest.OutcomeEQ(approvalrequest.OutcomePending)).
		Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return "", err
	}
	// Approvers see the record they decide on; anyone else needs it in
	// their data scope, or learns nothing.
	involved := false
	if req != nil {
		involved, err = client.ApprovalTask.Query().Where(approvaltask.RequestID(req.ID), approvaltask.ApproverID(v.UserID)).Exist(sys)
		if err != nil {
			return "", err
		}
	}
	if !involved {
		if _, err := s.load(ctx, client, module, id); err != nil {
			return "", err
		}
		if req == nil {
			return "", apierr.BadInput(apierr.Field("/id", "no_pending_approval"))
		}
	}
	it, err := s.load(sys, client, module, id)
	if err != nil {
		return "", err
	}
	ver, err := client.WorkflowVersion.Get(sys, req.WorkflowVersionID)
	if err != nil {
		return "", err
	}
	w, err := s.parse(sys, client, ver)
	if err != nil {
		return "", err
	}
	a, ok := w.Approval(req.Approval)
	if !ok {
		return "", errors.New("workitems: the approval step is gone from its pinned version")
	}
	vote := flows.Vote{Kind: d.Kind, Actor: string(v.UserID), Target: string(d.Delegate)}
	if d.Kind == flows.VoteDelegate {
		ok, err := client.User.Query().Where(user.ID(d.Delegate), user.TenantID(v.TenantID), user.StatusEQ(user.StatusActive)).Exist(sys)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", apierr.BadInput(apierr.Field("/to", "unknown_reference"))
		}
	}
	step := a.Step(req.Approvers, string(req.SubmitterID))
	tally, err := step.Cast(req.Votes, vote)
	if err != nil {
		return "", voteError(err)
	}
	// The revision bump serialises decisions on the record.
	if err := s.setState(sys, client, it, it.State); err != nil {
		return "", err
	}
	votes := append(slices.Clone(req.Votes), vote)
	upd := req.Update().SetVotes(votes)
	switch tally.Outcome {
	case flows.OutcomeApproved:
		upd.SetOutcome(approvalrequest.OutcomeApproved)
	case flows.OutcomeRejected:
		upd.SetOutcome(approvalrequest.OutcomeRejected)
	}
	if req, err = upd.Save(sys); err != nil {
		return "", err
	}
	comment := ""
	if d.Comment != nil {
		comment = *d.Comment
	}
	var changes []string
	if d.Kind == flows.VoteDelegate {
		changes = []string{"delegate:" + string(d.Delegate)}
	}
	if err := s.record(ctx, client, id, it.State, it.State, "approval."+string(d.Kind), comment, changes); err != nil {
		return "", err
	}
	if err := s.syncTasks(sys, tx, it, req, tally); err != nil {
		return "", err
	}
	var to string
	switch tally.Outcome {
	case flows.OutcomeApproved:
		to = a.OnApprove
	case flows.OutcomeRejected:
		to = a.OnReject
	default:
		return it.State, nil
	}
	from := it.State
	if err := s.setState(sys, client, it, to); err != nil {
		return "", err
	}
	if err := s.record(ctx, client, id, from, to, "approval."+string(tally.Outcome), "", nil); err != nil {
		return "", err
	}
	if req.SubmitterID != "" {
		err := s.notify.NotifyTx(sys, tx, notify.Notice{
			TenantID: it.TenantID, UserID: req.SubmitterID, Kind: mail.KindWorkItem, RecordID: string(id),
			Key: "approval:" + string(req.ID) + ":" + string(tally.Outcome),
		})
		if err != nil {
			return "", err
		}
	}
	return to, s.timers(sys, tx, it, w, from, to)
}

// voteError turns a refused vote into the client's error.
func voteError(err error) error {
	key := ""
	switch {
	case errors.Is(err, flows.ErrSelfApproval):
		key = "self_approval"
	case errors.Is(err, flows.ErrNotApprover):
		key = "not_approver"
	case errors.Is(err, flows.ErrOutOfTurn):
		key = "not_your_turn"
	case errors.Is(err, flows.ErrAlreadyDecided):
		key = "already_decided"
	case errors.Is(err, flows.ErrInvalidDelegate):
		return apierr.BadInput(apierr.Field("/to", "invalid_delegate"))
	case errors.Is(err, flows.ErrStepDecided), errors.Is(err, flows.ErrNoApprovers):
		return apierr.BadInput(apierr.Field("/id", "no_pending_approval"))
	default:
		return err
	}
	e := apierr.New(apierr.Forbidden)
	e.MessageKey = key
	return e
}

// MyApprovalTasks lists the approval tasks waiting for the viewer's
// decision, newest first, at most 200.
func (s *Service) MyApprovalTasks(ctx context.Context, client *ent.Client) ([]*ent.ApprovalTask, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.UserID == "" {
		return nil, apierr.New(apierr.Forbidden)
	}
	sys := s.system(ctx, v.TenantID, "list my approval tasks")
	return client.ApprovalTask.Query().
		Where(approvaltask.TenantID(v.TenantID), approvaltask.ApproverID(v.UserID), approvaltask.StatusEQ(approvaltask.StatusOpen)).
		Order(ent.Desc(approvaltask.FieldCreatedAt), ent.Desc(approvaltask.FieldID)).Limit(200).All(sys)
}

// Approvals lists the approval requests of a record the viewer may read,
// oldest first.
func (s *Service) Approvals(ctx context.Context, client *ent.Client, module string, id pulid.ID) ([]*ent.ApprovalRequest, error) {
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return nil, err
	}
	sys := s.system(ctx, it.TenantID, "read approvals of "+string(id))
	return client.ApprovalRequest.Query().Where(approvalrequest.TenantID(it.TenantID), approvalrequest.RecordID(id)).
		Order(ent.Asc(approvalrequest.FieldCreatedAt), ent.Asc(approvalrequest.FieldID)).All(sys)
}
