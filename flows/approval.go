package flows

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Mode says how the decisions of an approval step combine.
type Mode string

// The modes of an approval step.
const (
	// ModeAll (会签) needs every approver to approve; the first rejection
	// rejects.
	ModeAll Mode = "all"
	// ModeAny (或签) is approved by the first approval, and rejected only
	// when every approver has rejected.
	ModeAny Mode = "any"
	// ModeSequential has the approvers decide one after the other, in
	// order; the last approval approves and the first rejection rejects.
	ModeSequential Mode = "sequential"
	// ModeRatio is approved once approvals/approvers reaches the ratio
	// (with 3 approvers, a ratio of 0.6 needs 2), and rejected once the
	// rejections make that impossible.
	ModeRatio Mode = "ratio"
)

// VoteKind is what an approver decides.
type VoteKind string

// The kinds of vote.
const (
	VoteApprove  VoteKind = "approve"
	VoteReject   VoteKind = "reject"
	VoteDelegate VoteKind = "delegate"
)

// Vote is one decision of an approval step.
type Vote struct {
	// Kind is approve, reject or delegate.
	Kind VoteKind `json:"kind"`
	// Actor is the id of the user who decides.
	Actor string `json:"actor"`
	// Target is, for a delegation, the id of the user who decides instead.
	Target string `json:"target,omitempty"`
}

// Outcome is the state of an approval step.
type Outcome string

// The outcomes of an approval step.
const (
	OutcomePending  Outcome = "pending"
	OutcomeApproved Outcome = "approved"
	OutcomeRejected Outcome = "rejected"
	// OutcomeNeedsFallback means no approver is left once the submitter is
	// removed. The caller routes the step to the approval's Fallback (or the
	// tenant's fallback approvers), records that it did, and tallies a new
	// Step with them.
	OutcomeNeedsFallback Outcome = "needs_fallback"
)

// Errors of the tally; a refused vote is reported as a *VoteError wrapping one.
var (
	// ErrInvalidStep means the step's mode or ratio is invalid.
	ErrInvalidStep = errors.New("flows: invalid approval step")
	// ErrInvalidVote means the vote has no actor or an unknown kind, or a
	// delegation has no target.
	ErrInvalidVote = errors.New("flows: invalid vote")
	// ErrStepDecided means the step is already approved or rejected.
	ErrStepDecided = errors.New("flows: the approval step is already decided")
	// ErrNoApprovers means the step has no approvers and needs fallback ones.
	ErrNoApprovers = errors.New("flows: the approval step has no approvers")
	// ErrNotApprover means the actor is not, or no longer, an approver of the step.
	ErrNotApprover = errors.New("flows: not an approver of this step")
	// ErrSelfApproval means the submitter may not decide their own request,
	// nor be delegated to.
	ErrSelfApproval = errors.New("flows: the submitter may not approve their own request")
	// ErrAlreadyDecided means the approver has already approved or rejected.
	ErrAlreadyDecided = errors.New("flows: the approver has already decided")
	// ErrOutOfTurn means another approver of a sequential step decides first.
	ErrOutOfTurn = errors.New("flows: not this approver's turn")
	// ErrInvalidDelegate means the delegate is the actor or already an approver.
	ErrInvalidDelegate = errors.New("flows: invalid delegate")
)

// VoteError is a vote the step refuses.
type VoteError struct {
	// Index is the vote's position in the votes tallied.
	Index int
	// Vote is the refused vote.
	Vote Vote
	// Err is the reason: one of the package's sentinel errors, or an error
	// wrapping one.
	Err error
}

// Error implements error.
func (e *VoteError) Error() string {
	return fmt.Sprintf("%v (vote %d: %s by %q)", e.Err, e.Index, e.Vote.Kind, e.Vote.Actor)
}

// Unwrap returns the reason.
func (e *VoteError) Unwrap() error { return e.Err }

// Step is one approval step of one request: its rule and its approvers.
type Step struct {
	// Mode says how the decisions combine.
	Mode Mode
	// Ratio is the share needed in ModeRatio, in (0, 1].
	Ratio float64
	// Approvers are the user ids the resolver listed, in order (the order
	// matters in ModeSequential). Empty ids are ignored and repeated ids
	// count once, at their first position.
	Approvers []string
	// Submitter is the id of the user who submitted the request.
	Submitter string
	// AllowSelfApproval keeps the submitter among the approvers; otherwise
	// the submitter is removed from them.
	AllowSelfApproval bool
}

// Tally is the state of a step after some votes.
type Tally struct {
	// Outcome is pending, approved, rejected or needs_fallback.
	Outcome Outcome
	// Approvers are the approvers of the step, in order, after removing the
	// submitter and applying delegations.
	Approvers []string
	// Waiting are the approvers who may decide now, in order: in
	// ModeSequential the one whose turn it is, otherwise everyone who has
	// not decided. Empty unless the step is pending.
	Waiting []string
	// Approved and Rejected are the approvers who approved and rejected, in
	// the order of their votes.
	Approved []string
	Rejected []string
	// Needed is the number of approvals that approve the step.
	Needed int
	// SelfRemoved reports whether the submitter was removed from the approvers.
	SelfRemoved bool
}

// Tally replays votes, in order, and returns the state of the step. The
// first vote the step refuses stops the replay with a *VoteError; the rules:
//
//   - only an approver who may decide now (see Tally.Waiting) may vote, and
//     only while the step is pending: the submitter when self-approval is
//     off (ErrSelfApproval), anyone else (ErrNotApprover), an approver who
//     has already decided (ErrAlreadyDecided), an approver whose turn has not
//     come in ModeSequential (ErrOutOfTurn), and every vote once the step is
//     decided (ErrStepDecided) or when it has no approvers (ErrNoApprovers)
//     are refused;
//   - a delegation replaces the actor by the target, at the actor's
//     position, for the rest of the step; the target must not be the actor
//     or already an approver, decided or not (ErrInvalidDelegate), nor the
//     submitter when self-approval is off (ErrSelfApproval). The target may
//     delegate again.
func (s Step) Tally(votes []Vote) (Tally, error) {
	switch s.Mode {
	case ModeAll, ModeAny, ModeSequential:
	case ModeRatio:
		if !(s.Ratio > 0 && s.Ratio <= 1) {
			return Tally{}, fmt.Errorf("%w: ratio %v is not in (0, 1]", ErrInvalidStep, s.Ratio)
		}
	default:
		return Tally{}, fmt.Errorf("%w: mode %q", ErrInvalidStep, s.Mode)
	}
	t := Tally{}
	for _, id := range s.Approvers {
		switch {
		case id == "" || slices.Contains(t.Approvers, id):
		case id == s.Submitter && !s.AllowSelfApproval:
			t.SelfRemoved = true
		default:
			t.Approvers = append(t.Approvers, id)
		}
	}
	decided := map[string]VoteKind{}
	t.update(s, decided)
	for i, v := range votes {
		if err := t.apply(s, decided, v); err != nil {
			return Tally{}, &VoteError{Index: i, Vote: v, Err: err}
		}
		t.update(s, decided)
	}
	return t, nil
}

// Cast tallies votes followed by next, so that a caller can check a new
// vote before recording it. A refused next vote is a *VoteError whose Index
// is len(votes).
func (s Step) Cast(votes []Vote, next Vote) (Tally, error) {
	all := make([]Vote, 0, len(votes)+1)
	all = append(all, votes...)
	return s.Tally(append(all, next))
}

// apply records one vote, or says why it is refused.
func (t *Tally) apply(s Step, decided map[string]VoteKind, v Vote) error {
	switch {
	case v.Actor == "":
		return fmt.Errorf("%w: no actor", ErrInvalidVote)
	case v.Kind != VoteApprove && v.Kind != VoteReject && v.Kind != VoteDelegate:
		return fmt.Errorf("%w: kind %q", ErrInvalidVote, v.Kind)
	case t.Outcome == OutcomeNeedsFallback:
		return ErrNoApprovers
	case t.Outcome != OutcomePending:
		return ErrStepDecided
	}
	pos := slices.Index(t.Approvers, v.Actor)
	switch {
	case pos < 0 && v.Actor == s.Submitter && !s.AllowSelfApproval:
		return ErrSelfApproval
	case pos < 0:
		return ErrNotApprover
	case decided[v.Actor] != "":
		return ErrAlreadyDecided
	case !slices.Contains(t.Waiting, v.Actor):
		return ErrOutOfTurn
	}
	switch v.Kind {
	case VoteApprove:
		decided[v.Actor] = VoteApprove
		t.Approved = append(t.Approved, v.Actor)
	case VoteReject:
		decided[v.Actor] = VoteReject
		t.Rejected = append(t.Rejected, v.Actor)
	case VoteDelegate:
		switch {
		case v.Target == "":
			return fmt.Errorf("%w: a delegation needs a target", ErrInvalidVote)
		case v.Target == s.Submitter && !s.AllowSelfApproval:
			return ErrSelfApproval
		case v.Target == v.Actor || slices.Contains(t.Approvers, v.Target):
			return fmt.Errorf("%w: %q is already an approver", ErrInvalidDelegate, v.Target)
		}
		t.Approvers[pos] = v.Target
	}
	return nil
}

// update recomputes the outcome, the approvals needed and who may decide.
func (t *Tally) update(s Step, decided map[string]VoteKind) {
	n := len(t.Approvers)
	approved, rejected := len(t.Approved), len(t.Rejected)
	undecided := n - approved - rejected
	switch s.Mode {
	case ModeAll, ModeSequential:
		t.Needed = n
	case ModeAny:
		t.Needed = min(1, n)
	case ModeRatio:
		// The epsilon keeps 0.6 × 5 = 3.0000000000000004 at 3.
		t.Needed = max(1, int(math.Ceil(s.Ratio*float64(n)-1e-9)))
	}
	switch {
	case n == 0:
		t.Outcome = OutcomeNeedsFallback
	case s.Mode == ModeAny && approved > 0:
		t.Outcome = OutcomeApproved
	case s.Mode == ModeAny && rejected == n:
		t.Outcome = OutcomeRejected
	case s.Mode == ModeAny:
		t.Outcome = OutcomePending
	case s.Mode == ModeRatio && approved >= t.Needed:
		t.Outcome = OutcomeApproved
	case s.Mode == ModeRatio && approved+undecided < t.Needed:
		t.Outcome = OutcomeRejected
	case s.Mode == ModeRatio:
		t.Outcome = OutcomePending
	case rejected > 0:
		t.Outcome = OutcomeRejected
	case approved == n:
		t.Outcome = OutcomeApproved
	default:
		t.Outcome = OutcomePending
	}
	t.Waiting = nil
	if t.Outcome != OutcomePending {
		return
	}
	for _, id := range t.Approvers {
		if decided[id] != "" {
			continue
		}
		t.Waiting = append(t.Waiting, id)
		if s.Mode == ModeSequential {
			break
		}
	}
}
