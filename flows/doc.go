// Package flows owns the pure core of the workflow engine: workflow
// definitions (state machines stored as data) and the rules that decide
// which transitions a viewer may take, how approval steps are tallied and
// when SLA timers breach. It does no I/O, touches no database and never
// reads the clock: callers pass every instant in. The service that stores
// records, runs actions through the outbox, schedules timers as jobs and
// resolves approvers calls it.
//
// # Definitions
//
// A definition is JSON written by an administrator:
//
//	{
//	  "initial": "new",
//	  "states": [{"key": "new", "category": "todo"}, …, {"key": "closed", "category": "done", "final": true}],
//	  "fieldAccess": [{"state": "closed", "roles": ["sales"], "readOnly": ["amount"], "hidden": ["cost"]}],
//	  "transitions": [{"key": "start", "from": ["new"], "to": "in_progress", "name": {"zh-CN": "开始处理", "en": "Start"},
//	                   "guards": {"roles": […], "permissions": […], "assignee": true, "expr": "…"},
//	                   "requires": ["summary"], "schema": {…}, "form": {…},
//	                   "actions": [{"type": "action.set_field", "config": {…}}], "approval": "manager_ok"}],
//	  "approvals": [{"key": "manager_ok", "mode": "all", "ratio": 0.6, "approvers": {"type": "approver.role", "config": {…}},
//	                 "fallback": {"type": "approver.role", "config": {…}}, "allowSelfApproval": false,
//	                 "onApprove": "resolved", "onReject": "in_progress"}],
//	  "sla": [{"key": "first_response", "start": {"enter": ["new"]}, "stop": {"enter": ["in_progress"]},
//	           "pause": {"enter": ["waiting"]}, "target": "4h", "calendar": "working", "warnAt": [0.5, 0.8],
//	           "breach": [{"type": "action.notify", "config": {…}}]}]
//	}
//
// [Parse] decodes it strictly (at most [MaxDefinitionBytes], valid UTF-8,
// no duplicate or unknown keys, every value of the right JSON type; a JSON
// null counts as absent) and checks it, reporting every problem together as
// a [Problems] error, each with the JSON Pointer of the offending value:
//
//   - keys of states, transitions, approvals and SLAs are a lower-case
//     letter followed by up to 63 lower-case letters, digits and
//     underscores, and are unique within their section;
//   - there is at least one state; a category is todo, in_progress or done;
//     a final state is a done state; initial is a known state;
//   - every state named in from, to, fieldAccess, onApprove, onReject and an
//     SLA's start, stop and pause is known; a list names a state once; an
//     SLA names each state in at most one of start, stop and pause;
//   - every role and permission is known to Options.KnownRole and
//     Options.KnownPermission, every field in requires, readOnly and hidden
//     is a property of the form schema (nested ones as "address.city"), and
//     a field access rule lists some field;
//   - every plugin resolves with Options.KnownPlugin and belongs to its
//     namespace: "action.*" for actions and breach actions, "approver.*" for
//     approvers and fallback; configurations are passed on unread;
//   - a guard expression compiles, as a bool, in the environment package
//     expr derives from the form schema (data is the record, viewer has id,
//     roles, permissions and department, now is the evaluation time);
//   - schema and form fragments compile with Options.CompileSchema (see
//     below);
//   - a mode is all, any, sequential or ratio; ratio is given in mode ratio,
//     and only there, within (0, 1];
//   - a target is a duration of days, hours and minutes (see
//     [ParseDuration]); the calendar is "calendar" (the default) or
//     "working", and a working-time target is written without days, since a
//     working day has no fixed length (write "18h", not "2d"); warnAt
//     fractions are within (0, 1) and strictly ascending;
//   - no transition leaves a final state, and a transition that opens an
//     approval leads to a state that is not final and that is neither the
//     approval's onApprove nor its onReject;
//   - every state can be reached from the initial state, through transitions
//     and approval outcomes;
//   - every state that is not final has a way out: a transition to another
//     state, or the outcome of an approval that a transition into it opens.
//     A dead end that is not marked final is refused rather than warned
//     about: a record stuck there could never be closed. A workflow need not
//     have a final state at all (a closed ticket may be reopened).
//
// Unknown roles, permissions and plugins are refused when the matching
// Options func is nil: nothing is known by default.
//
// # Approvals
//
// A transition with an approval moves the record to its "to" state at once
// (such as pending_approval) and opens the approval step; the step's outcome
// moves the record on to the approval's onApprove or onReject state. The
// caller resolves the approvers with the approvers plugin and tallies the
// decisions with [Step.Tally]; see [Mode] for how the modes decide and
// [Step.Tally] for who may vote. The submitter is removed from the approvers
// unless allowSelfApproval is set; when no approver is left the step
// reports [OutcomeNeedsFallback], and the caller resolves the approval's
// fallback plugin (or the tenant's fallback approvers), records that it did,
// and tallies a new step.
//
// # Checking transitions
//
// [Workflow.Available], [Workflow.Check] and [Workflow.Simulate] run the
// checks of a transition for a record and a viewer and report each failure
// as a [Reason] with a machine key, the pointer of the rule in the
// definition and messages in English and Chinese. The guards that are set
// must all pass: the viewer has at least one of the roles, every one of the
// permissions, is the record's assignee, and the expression is true (an
// expression that fails to evaluate, such as on an absent field, counts as
// false and the reason carries the error as Detail). Then every field in
// requires must be filled in (not absent, null, blank, [] or {}; false and 0
// are values), the record's data must satisfy the schema fragment, and the
// input must satisfy the form; a transition without a form accepts no
// input.
//
// Schema and form fragments are compiled once, when the definition is
// parsed, by Options.CompileSchema: the server plugs in the forms package's
// validator there. Without it a small built-in checker is used: it knows
// "type" ("object" at the root), "required", and "properties" whose
// subschemas may have a "type"; "title", "description" and "$comment" are
// allowed; every other keyword is refused when the definition is parsed, so
// that nothing is silently left unchecked.
//
// # SLA timers
//
// An SLA timer starts when the record enters one of its start states, stops
// when it enters one of its stop states, and is paused while the record is
// in one of its pause states; [Workflow.TimersFor] tells the caller what a
// change of state does to the timers. The timer counts calendar time, or the
// working time of a [workcal.Calendar]; [SLA.Deadline], [SLA.Warnings] and
// [SLA.Elapsed] do the arithmetic, leaving out the paused intervals. The
// jobs that fire at those instants are the caller's.
package flows
