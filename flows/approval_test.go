package flows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// votes parses votes written "a+" (a approves), "a-" (a rejects) and "a>b"
// (a delegates to b).
func votes(s string) []Vote {
	var out []Vote
	for _, f := range strings.Fields(s) {
		switch {
		case strings.HasSuffix(f, "+"):
			out = append(out, Vote{Kind: VoteApprove, Actor: strings.TrimSuffix(f, "+")})
		case strings.HasSuffix(f, "-"):
			out = append(out, Vote{Kind: VoteReject, Actor: strings.TrimSuffix(f, "-")})
		default:
			actor, target, _ := strings.Cut(f, ">")
			out = append(out, Vote{Kind: VoteDelegate, Actor: actor, Target: target})
		}
	}
	return out
}

func TestTally(t *testing.T) {
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name    string
		step    Step
		votes   string
		outcome Outcome
		waiting string // who may decide now
		needed  int
	}{
		// 会签: every approver must approve, any rejection rejects.
		{"all: nobody yet", Step{Mode: ModeAll, Approvers: abc}, "", OutcomePending, "[a b c]", 3},
		{"all: two of three", Step{Mode: ModeAll, Approvers: abc}, "c+ a+", OutcomePending, "[b]", 3},
		{"all: everyone", Step{Mode: ModeAll, Approvers: abc}, "c+ a+ b+", OutcomeApproved, "[]", 3},
		{"all: one rejection", Step{Mode: ModeAll, Approvers: abc}, "a+ b-", OutcomeRejected, "[]", 3},
		// 或签: one approval approves, rejected when everyone rejected.
		{"any: one approval", Step{Mode: ModeAny, Approvers: abc}, "b+", OutcomeApproved, "[]", 1},
		{"any: a rejection waits for the others", Step{Mode: ModeAny, Approvers: abc}, "a- b-", OutcomePending, "[c]", 1},
		{"any: approval after rejections", Step{Mode: ModeAny, Approvers: abc}, "a- b- c+", OutcomeApproved, "[]", 1},
		{"any: everyone rejected", Step{Mode: ModeAny, Approvers: abc}, "a- c- b-", OutcomeRejected, "[]", 1},
		// Sequential: in order, a rejection rejects.
		{"sequential: first turn", Step{Mode: ModeSequential, Approvers: abc}, "", OutcomePending, "[a]", 3},
		{"sequential: second turn", Step{Mode: ModeSequential, Approvers: abc}, "a+", OutcomePending, "[b]", 3},
		{"sequential: all in order", Step{Mode: ModeSequential, Approvers: abc}, "a+ b+ c+", OutcomeApproved, "[]", 3},
		{"sequential: rejected midway", Step{Mode: ModeSequential, Approvers: abc}, "a+ b-", OutcomeRejected, "[]", 3},
		// Ratio: 3 approvers at 0.6 need 2.
		{"ratio: one of two needed", Step{Mode: ModeRatio, Ratio: 0.6, Approvers: abc}, "a+", OutcomePending, "[b c]", 2},
		{"ratio: two of three", Step{Mode: ModeRatio, Ratio: 0.6, Approvers: abc}, "a+ c+", OutcomeApproved, "[]", 2},
		{"ratio: one rejection leaves it reachable", Step{Mode: ModeRatio, Ratio: 0.6, Approvers: abc}, "a-", OutcomePending, "[b c]", 2},
		{"ratio: two rejections make it unreachable", Step{Mode: ModeRatio, Ratio: 0.6, Approvers: abc}, "a- b-", OutcomeRejected, "[]", 2},
		{"ratio: 0.6 of 5 is 3", Step{Mode: ModeRatio, Ratio: 0.6, Approvers: []string{"a", "b", "c", "d", "e"}}, "a+ b+ c+", OutcomeApproved, "[]", 3},
		{"ratio: 0.5 of 4 is 2", Step{Mode: ModeRatio, Ratio: 0.5, Approvers: []string{"a", "b", "c", "d"}}, "a+ b- c+", OutcomeApproved, "[]", 2},
		{"ratio: 1 is everyone", Step{Mode: ModeRatio, Ratio: 1, Approvers: abc}, "a+ b+", OutcomePending, "[c]", 3},
		{"ratio: small ratio needs one", Step{Mode: ModeRatio, Ratio: 0.1, Approvers: abc}, "b+", OutcomeApproved, "[]", 1},
		// Delegation.
		{"delegate: the target decides instead", Step{Mode: ModeAll, Approvers: abc}, "b>d a+ c+", OutcomePending, "[d]", 3},
		{"delegate: the target approves", Step{Mode: ModeAll, Approvers: abc}, "b>d a+ c+ d+", OutcomeApproved, "[]", 3},
		{"delegate: keeps the turn in sequence", Step{Mode: ModeSequential, Approvers: abc}, "a>x", OutcomePending, "[x]", 3},
		{"delegate: twice", Step{Mode: ModeSequential, Approvers: abc}, "a>x x>y y+", OutcomePending, "[b]", 3},
		{"delegate: back to the delegator", Step{Mode: ModeAny, Approvers: abc}, "a>x x>a", OutcomePending, "[a b c]", 1},
		// The submitter.
		{"self-approval off: submitter removed", Step{Mode: ModeAll, Approvers: abc, Submitter: "b"}, "a+ c+", OutcomeApproved, "[]", 2},
		{"self-approval on: submitter decides", Step{Mode: ModeAll, Approvers: abc, Submitter: "b", AllowSelfApproval: true}, "a+ c+", OutcomePending, "[b]", 3},
		{"only the submitter: needs fallback", Step{Mode: ModeAny, Approvers: []string{"s"}, Submitter: "s"}, "", OutcomeNeedsFallback, "[]", 0},
		{"nobody: needs fallback", Step{Mode: ModeAll}, "", OutcomeNeedsFallback, "[]", 0},
		{"repeated and empty ids count once", Step{Mode: ModeAll, Approvers: []string{"a", "", "b", "a"}}, "a+ b+", OutcomeApproved, "[]", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.step.Tally(votes(tt.votes))
			if err != nil {
				t.Fatalf("Tally: %v", err)
			}
			if got.Outcome != tt.outcome || fmt.Sprint(got.Waiting) != tt.waiting || got.Needed != tt.needed {
				t.Errorf("Tally = %s, waiting %v, needed %d; want %s, waiting %s, needed %d",
					got.Outcome, got.Waiting, got.Needed, tt.outcome, tt.waiting, tt.needed)
			}
		})
	}
}

func TestTallyDetails(t *testing.T) {
	step := Step{Mode: ModeRatio, Ratio: 0.6, Approvers: []string{"a", "s", "b", "c"}, Submitter: "s"}
	got, err := step.Tally(votes("b>d a- d+"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.Approvers) != "[a d c]" || fmt.Sprint(got.Approved) != "[d]" || fmt.Sprint(got.Rejected) != "[a]" || !got.SelfRemoved {
		t.Errorf("Tally = %+v", got)
	}
}

func TestTallyRefusesVotes(t *testing.T) {
	abc := []string{"a", "b", "c"}
	tests := []struct {
		name  string
		step  Step
		votes string
		index int
		want  error
	}{
		{"not an approver", Step{Mode: ModeAll, Approvers: abc}, "z+", 0, ErrNotApprover},
		{"the submitter without self-approval", Step{Mode: ModeAll, Approvers: abc, Submitter: "a"}, "a+", 0, ErrSelfApproval},
		{"twice", Step{Mode: ModeAll, Approvers: abc}, "a+ a+", 1, ErrAlreadyDecided},
		{"changing one's mind", Step{Mode: ModeAny, Approvers: abc}, "a- a+", 1, ErrAlreadyDecided},
		{"out of turn", Step{Mode: ModeSequential, Approvers: abc}, "b+", 0, ErrOutOfTurn},
		{"out of turn later", Step{Mode: ModeSequential, Approvers: abc}, "a+ c+", 1, ErrOutOfTurn},
		{"delegating out of turn", Step{Mode: ModeSequential, Approvers: abc}, "c>x", 0, ErrOutOfTurn},
		{"after approval", Step{Mode: ModeAny, Approvers: abc}, "a+ b+", 1, ErrStepDecided},
		{"after rejection", Step{Mode: ModeAll, Approvers: abc}, "a- b+", 1, ErrStepDecided},
		{"with no approvers", Step{Mode: ModeAll, Approvers: []string{"s"}, Submitter: "s"}, "s+", 0, ErrNoApprovers},
		{"the delegator afterwards", Step{Mode: ModeAll, Approvers: abc}, "a>x a+", 1, ErrNotApprover},
		{"delegating to an approver", Step{Mode: ModeAll, Approvers: abc}, "a>b", 0, ErrInvalidDelegate},
		{"delegating to one who decided", Step{Mode: ModeAll, Approvers: abc}, "b+ a>b", 1, ErrInvalidDelegate},
		{"delegating to oneself", Step{Mode: ModeAll, Approvers: abc}, "a>a", 0, ErrInvalidDelegate},
		{"delegating to the submitter", Step{Mode: ModeAll, Approvers: abc, Submitter: "s"}, "a>s", 0, ErrSelfApproval},
		{"delegating without a target", Step{Mode: ModeAll, Approvers: abc}, "a>", 0, ErrInvalidVote},
		{"no actor", Step{Mode: ModeAll, Approvers: abc}, "+", 0, ErrInvalidVote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.step.Tally(votes(tt.votes))
			var ve *VoteError
			if !errors.As(err, &ve) || !errors.Is(err, tt.want) || ve.Index != tt.index {
				t.Errorf("Tally = %v, want vote %d refused with %v", err, tt.index, tt.want)
			}
		})
	}
}

func TestTallyAllowsDelegatingToTheSubmitterWithSelfApproval(t *testing.T) {
	step := Step{Mode: ModeAll, Approvers: []string{"a"}, Submitter: "s", AllowSelfApproval: true}
	got, err := step.Tally(votes("a>s s+"))
	if err != nil || got.Outcome != OutcomeApproved {
		t.Errorf("Tally = %+v, %v; want approved", got, err)
	}
}

func TestTallyRefusesInvalidSteps(t *testing.T) {
	for _, s := range []Step{{Mode: "majority"}, {Mode: ModeRatio, Ratio: 0}, {Mode: ModeRatio, Ratio: 1.2}} {
		if _, err := s.Tally(nil); !errors.Is(err, ErrInvalidStep) {
			t.Errorf("Tally(%+v) = %v, want ErrInvalidStep", s, err)
		}
	}
	if _, err := (Step{Mode: ModeAll, Approvers: []string{"a"}}).Tally([]Vote{{Kind: "abstain", Actor: "a"}}); !errors.Is(err, ErrInvalidVote) {
		t.Errorf("unknown vote kind: %v", err)
	}
}

func TestCast(t *testing.T) {
	step := Step{Mode: ModeSequential, Approvers: []string{"a", "b"}}
	history := votes("a+")
	got, err := step.Cast(history, Vote{Kind: VoteApprove, Actor: "b"})
	if err != nil || got.Outcome != OutcomeApproved {
		t.Errorf("Cast(b+) = %+v, %v", got, err)
	}
	_, err = step.Cast(history, Vote{Kind: VoteApprove, Actor: "a"})
	var ve *VoteError
	if !errors.As(err, &ve) || ve.Index != 1 || !errors.Is(err, ErrAlreadyDecided) {
		t.Errorf("Cast(a+ again) = %v", err)
	}
	if len(history) != 1 {
		t.Errorf("Cast changed the history: %v", history)
	}
}

func TestApprovalStep(t *testing.T) {
	w := mustParse(t, baseDefinition, testOptions())
	a, _ := w.Approval("manager_ok")
	approvers := []string{"m1", "m2"}
	step := a.Step(approvers, "m2")
	approvers[0] = "changed"
	got, err := step.Tally(votes("m1+"))
	if err != nil || got.Outcome != OutcomeApproved || fmt.Sprint(got.Approvers) != "[m1]" {
		t.Errorf("Tally = %+v, %v; want m1 alone to approve (m2 submitted)", got, err)
	}
}
