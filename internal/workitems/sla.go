package workitems

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/slatimer"
	"github.com/custos-crm/custos/flows"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/workcal"
)

// TimerArgs is the job that fires one warning (Warning ≥ 0, an index into
// the SLA's WarnAt) or the breach (Warning = -1) of one SLA timer. It is
// queued for the instant it fires at and is unique by its arguments; a job
// whose generation is not the timer's any more does nothing.
type TimerArgs struct {
	jobs.Actor
	Timer      pulid.ID `json:"timer"`
	Generation int      `json:"generation"`
	Warning    int      `json:"warning"`
}

// Kind names the job.
func (TimerArgs) Kind() string { return "sla.fire" }

// breach is the Warning value of a breach job.
const breach = -1

type timerWorker struct {
	river.WorkerDefaults[TimerArgs]
	s *Service
}

// Work fires the warning or breach and completes the job in the same
// transaction, so it fires exactly once even if the process dies.
func (w *timerWorker) Work(ctx context.Context, job *river.Job[TimerArgs]) error {
	return jobs.RunTx(ctx, w.s.queue, w.s.client, job, func(ctx context.Context, tx *ent.Tx) error {
		return w.s.fire(ctx, tx, job.Args)
	})
}

// timers starts, stops, pauses and resumes the SLA timers of it as its
// state changes from → to, in tx. Starting a timer that runs or is paused
// does nothing; starting a stopped one starts it afresh (a reopened
// ticket).
func (s *Service) timers(ctx context.Context, tx *ent.Tx, it *Item, w *flows.Workflow, from, to string) error {
	ch := w.TimersFor(from, to)
	if len(ch.Start)+len(ch.Stop)+len(ch.Pause)+len(ch.Resume) == 0 {
		return nil
	}
	sys := s.system(ctx, it.TenantID, "SLA timers of "+string(it.ID))
	client := tx.Client()
	now := s.clock.Now()
	existing, err := client.SLATimer.Query().Where(slatimer.RecordID(it.ID)).All(sys)
	if err != nil {
		return err
	}
	byKey := map[string]*ent.SLATimer{}
	for _, t := range existing {
		byKey[t.SLA] = t
	}
	for _, key := range ch.Stop {
		if t := byKey[key]; t != nil && t.Status != slatimer.StatusStopped {
			if byKey[key], err = t.Update().SetStatus(slatimer.StatusStopped).ClearDeadline().AddGeneration(1).Save(sys); err != nil {
				return err
			}
		}
	}
	for _, key := range ch.Start {
		t := byKey[key]
		switch {
		case t == nil:
			t, err = client.SLATimer.Create().SetTenantID(it.TenantID).SetRecordID(it.ID).SetModule(slatimer.Module(it.Module)).
				SetWorkflowVersionID(it.VersionID).SetSLA(key).SetStartedAt(now).SetStatus(slatimer.StatusRunning).
				SetPaused([]flows.Interval{}).Save(sys)
		case t.Status == slatimer.StatusStopped:
			t, err = t.Update().SetStartedAt(now).SetPaused([]flows.Interval{}).SetStatus(slatimer.StatusRunning).
				SetWarningsFired(0).ClearBreachedAt().AddGeneration(1).Save(sys)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if err := s.schedule(sys, tx, w, t); err != nil {
			return err
		}
	}
	for _, key := range ch.Pause {
		if t := byKey[key]; t != nil && t.Status == slatimer.StatusRunning {
			paused := append(slices.Clone(t.Paused), flows.Interval{Start: now})
			if byKey[key], err = t.Update().SetPaused(paused).SetStatus(slatimer.StatusPaused).ClearDeadline().AddGeneration(1).Save(sys); err != nil {
				return err
			}
		}
	}
	for _, key := range ch.Resume {
		t := byKey[key]
		if t == nil || t.Status != slatimer.StatusPaused {
			continue
		}
		paused := slices.Clone(t.Paused)
		if n := len(paused); n > 0 && paused[n-1].End.IsZero() {
			paused[n-1].End = now
		}
		if t, err = t.Update().SetPaused(paused).SetStatus(slatimer.StatusRunning).AddGeneration(1).Save(sys); err != nil {
			return err
		}
		if err := s.schedule(sys, tx, w, t); err != nil {
			return err
		}
	}
	return nil
}

// calendar returns the working calendar of the tenant in ctx when sla
// counts working time, and nil otherwise.
func (s *Service) calendar(ctx context.Context, client *ent.Client, tenantID pulid.ID, sla *flows.SLA) (*workcal.Calendar, error) {
	if sla.Clock != flows.ClockWorking {
		return nil, nil
	}
	t, err := client.Tenant.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	return t.Settings.Calendar(), nil
}

// schedule computes a running timer's deadline and queues the jobs of its
// warnings not yet fired and of its breach, for the timer's generation.
func (s *Service) schedule(ctx context.Context, tx *ent.Tx, w *flows.Workflow, t *ent.SLATimer) error {
	sla, ok := w.SLA(t.SLA)
	if !ok {
		return fmt.Errorf("workitems: SLA %q is not in the pinned workflow", t.SLA)
	}
	cal, err := s.calendar(ctx, tx.Client(), t.TenantID, sla)
	if err != nil {
		return err
	}
	deadline, err := sla.Deadline(t.StartedAt, t.Paused, cal)
	if err != nil {
		return fmt.Errorf("workitems: SLA %s deadline: %w", t.SLA, err)
	}
	if err := t.Update().SetDeadline(deadline).Exec(ctx); err != nil {
		return err
	}
	warnings, err := sla.Warnings(t.StartedAt, t.Paused, cal)
	if err != nil {
		return err
	}
	enqueue := func(at time.Time, warning int) error {
		return s.queue.EnqueueTx(ctx, tx, TimerArgs{
			Actor: jobs.Actor{TenantID: t.TenantID}, Timer: t.ID, Generation: t.Generation, Warning: warning,
		}, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	}
	for i, at := range warnings {
		if i >= t.WarningsFired {
			if err := enqueue(at, i); err != nil {
				return err
			}
		}
	}
	if t.BreachedAt == nil {
		return enqueue(deadline, breach)
	}
	return nil
}

// fire fires what args names if the timer still runs in the same
// generation and it has not fired yet, in tx; ctx is the tenant's system
// context.
func (s *Service) fire(ctx context.Context, tx *ent.Tx, args TimerArgs) error {
	client := tx.Client()
	t, err := client.SLATimer.Get(ctx, args.Timer)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.Generation != args.Generation || t.Status != slatimer.StatusRunning {
		return nil
	}
	it, err := s.load(ctx, client, string(t.Module), t.RecordID)
	if ent.IsNotFound(err) {
		return nil // the record was deleted
	}
	if err != nil {
		return err
	}
	ver, err := client.WorkflowVersion.Get(ctx, it.VersionID)
	if err != nil {
		return err
	}
	w, err := s.parse(ctx, client, ver)
	if err != nil {
		return err
	}
	sla, ok := w.SLA(t.SLA)
	if !ok {
		return nil
	}
	kind := mail.KindSLAWarning
	if args.Warning == breach {
		if t.BreachedAt != nil {
			return nil
		}
		if err := t.Update().SetBreachedAt(s.clock.Now()).Exec(ctx); err != nil {
			return err
		}
		kind = mail.KindSLABreached
	} else {
		if t.WarningsFired > args.Warning {
			return nil
		}
		if err := t.Update().SetWarningsFired(args.Warning + 1).Exec(ctx); err != nil {
			return err
		}
	}
	to := it.Assignee
	if to == "" {
		to = it.Owner
	}
	if to != "" {
		deadline := ""
		if t.Deadline != nil {
			tn, err := client.Tenant.Get(ctx, it.TenantID)
			if err != nil {
				return err
			}
			deadline = t.Deadline.In(tn.Settings.Location()).Format("2006-01-02 15:04")
		}
		err := s.notify.NotifyTx(ctx, tx, notify.Notice{
			TenantID: it.TenantID, UserID: to, Kind: kind, RecordID: string(it.ID),
			Params: map[string]string{"Deadline": deadline},
			Key:    fmt.Sprintf("%s:%s:%d:%d", kind, t.ID, t.StartedAt.Unix(), args.Warning),
		})
		if err != nil {
			return err
		}
	}
	if args.Warning != breach {
		return nil
	}
	if err := s.record(ctx, client, it.ID, it.State, it.State, "sla.breached", "", []string{t.SLA}); err != nil {
		return err
	}
	for _, a := range sla.Breach {
		if err := s.runAction(ctx, tx, it, "", a); err != nil {
			return err
		}
	}
	return nil
}

// Timers lists the SLA timers of a record the viewer may read.
func (s *Service) Timers(ctx context.Context, client *ent.Client, module string, id pulid.ID) ([]*ent.SLATimer, error) {
	it, err := s.load(ctx, client, module, id)
	if err != nil {
		return nil, err
	}
	sys := s.system(ctx, it.TenantID, "read SLA timers of "+string(id))
	return client.SLATimer.Query().Where(slatimer.RecordID(it.ID)).Order(ent.Asc(slatimer.FieldSLA)).All(sys)
}
