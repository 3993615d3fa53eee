package notify

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/riverqueue/river"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/followup"
	"github.com/custos-crm/custos/ent/predicate"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
)

// ScheduleArgs is the periodic job that starts each tenant's reminder run
// once its local clock passes the tenant's reminder hour.
type ScheduleArgs struct {
	jobs.Actor
}

// Kind names the job.
func (ScheduleArgs) Kind() string { return "reminders.schedule" }

// RemindArgs is one tenant's reminder run for one local date. Jobs are
// unique by arguments, so a date's run happens once.
type RemindArgs struct {
	jobs.Actor
	Date string `json:"date"`
}

// Kind names the job.
func (RemindArgs) Kind() string { return "reminders.remind" }

// Reminders sends follow-up reminders.
type Reminders struct {
	svc    *Service
	client *ent.Client
	queue  *jobs.Queue
}

// RegisterReminders registers the reminder jobs with the queue, the
// scheduler running every minute.
func RegisterReminders(q *jobs.Queue, client *ent.Client, svc *Service) *Reminders {
	r := &Reminders{svc: svc, client: client, queue: q}
	jobs.Add(q, &scheduleWorker{r: r})
	jobs.Add(q, &remindWorker{r: r})
	q.Every(time.Minute, func() river.JobArgs { return ScheduleArgs{} })
	return r
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	r *Reminders
}

// Work runs Schedule at the clock's time.
func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	return w.r.Schedule(ctx, w.r.svc.clock.Now())
}

// Schedule enqueues today's reminder run of every active tenant whose local
// time at now is at or past its reminder hour. ctx must be the system
// context of every tenant.
func (r *Reminders) Schedule(ctx context.Context, now time.Time) error {
	tenants, err := r.client.Tenant.Query().Where(tenant.StatusEQ(tenant.StatusActive)).
		Select(tenant.FieldID, tenant.FieldSettings).All(ctx)
	if err != nil {
		return fmt.Errorf("reminders: tenants: %w", err)
	}
	for _, t := range tenants {
		s := t.Settings.WithDefaults()
		local := now.In(s.Location())
		if local.Hour() < s.RemindAt() {
			continue
		}
		args := RemindArgs{Actor: jobs.Actor{TenantID: t.ID}, Date: caldate.Of(now, s.Location()).String()}
		if err := r.queue.Enqueue(ctx, args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			return err
		}
	}
	return nil
}

type remindWorker struct {
	river.WorkerDefaults[RemindArgs]
	r *Reminders
}

// Work reminds the authors of the tenant's follow-ups due on the job's date,
// and completes the job in the same transaction.
func (w *remindWorker) Work(ctx context.Context, job *river.Job[RemindArgs]) error {
	return jobs.RunTx(ctx, w.r.queue, w.r.client, job, func(ctx context.Context, tx *ent.Tx) error {
		return w.r.RemindTx(ctx, tx, job.Args.Date)
	})
}

// RemindTx notifies, in tx, the author of every follow-up of the tenant in
// ctx (a system context) whose next follow-up date is date and that no
// later follow-up on the same customer has superseded.
func (r *Reminders) RemindTx(ctx context.Context, tx *ent.Tx, date string) error {
	d, err := caldate.Parse(date)
	if err != nil {
		return fmt.Errorf("reminders: date: %w", err)
	}
	v := viewer.FromContext(ctx)
	due, err := tx.FollowUp.Query().
		Where(followup.TenantID(v.TenantID), followup.NextFollowUpOn(d), followup.AuthorIDNotNil(), notSuperseded()).
		Select(followup.FieldID, followup.FieldAuthorID, followup.FieldTenantID).All(ctx)
	if err != nil {
		return fmt.Errorf("reminders: due follow-ups: %w", err)
	}
	for _, f := range due {
		err := r.svc.NotifyTx(ctx, tx, Notice{
			TenantID: f.TenantID, UserID: f.AuthorID, Kind: mail.KindFollowupDue, RecordID: string(f.ID),
			Params: map[string]string{"Date": date}, Key: "followup.due:" + string(f.ID) + ":" + date,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DueQuery returns the viewer's follow-ups whose next follow-up date is on
// or before today in the tenant's time zone and that no later follow-up on
// the same customer has superseded.
func DueQuery(ctx context.Context, client *ent.Client, loc *time.Location, now time.Time) (*ent.FollowUpQuery, error) {
	v := viewer.FromContext(ctx)
	if v == nil || !v.Authenticated() {
		return nil, apierr.New(apierr.Unauthenticated)
	}
	today := caldate.Of(now, loc)
	return client.FollowUp.Query().Where(
		followup.AuthorID(v.UserID),
		followup.NextFollowUpOnLTE(today),
		notSuperseded(),
	), nil
}

// notSuperseded keeps follow-ups that no later follow-up on the same
// customer has superseded.
func notSuperseded() predicate.FollowUp {
	return func(s *sql.Selector) {
		later := sql.Table(followup.Table).As("later")
		s.Where(sql.NotExists(sql.Select(later.C(followup.FieldID)).From(later).Where(sql.And(
			sql.ColumnsEQ(later.C(followup.FieldCustomerID), s.C(followup.FieldCustomerID)),
			sql.ColumnsGT(later.C(followup.FieldCreatedAt), s.C(followup.FieldCreatedAt)),
			sql.IsNull(later.C(followup.FieldDeletedAt)),
		))))
	}
}
