// Package jobs owns background work: a River queue on the store's database
// (its database/sql driver on PostgreSQL, its SQLite driver on the embedded
// database), the viewer each job runs as, the error text clients may see,
// and the job list admins read.
//
// Every job's arguments embed Actor: a job with a user runs as that user,
// whose viewer is loaded again when the job runs (so revoked rights stop
// it); a job without one runs in the audited system context of its tenant.
// Arguments carry ids, never personal data.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
)

// Actor says on whose behalf a job runs. Every job's arguments embed it.
type Actor struct {
	// TenantID is the tenant the job works in; empty for jobs that look
	// at every tenant (the scheduler).
	TenantID pulid.ID `json:"tenant_id,omitempty"`
	// UserID, when set, is the user who started the job; it runs as them.
	UserID pulid.ID `json:"user_id,omitempty"`
}

// JobActor returns a; embedding Actor gives job arguments this method.
func (a Actor) JobActor() Actor { return a }

// actorArgs is implemented by every job's arguments through Actor.
type actorArgs interface {
	river.JobArgs
	JobActor() Actor
}

// ViewerLoader builds the viewer of a user as of now. It fails with an
// error matching ErrInactive when the user or tenant may no longer act;
// other errors are taken as passing trouble and the job is retried.
type ViewerLoader func(ctx context.Context, tenantID, userID pulid.ID, now time.Time) (*viewer.Viewer, error)

// ErrInactive is what a ViewerLoader's error matches when the user or the
// tenant may no longer act: a job they started is cancelled.
var ErrInactive = errors.New("jobs: the user or tenant is no longer active")

// Config configures a Queue.
type Config struct {
	Store  *store.Store
	Clock  clock.Clock
	Logger *slog.Logger
	// Registry receives the job metrics; nil registers none.
	Registry prometheus.Registerer
	// LoadViewer loads the viewer of a job started by a user.
	LoadViewer ViewerLoader
	// PollInterval is how often idle workers look for new jobs (default
	// 500ms; neither driver here listens for notifications).
	PollInterval time.Duration
	// MaxWorkers bounds the jobs worked at once (default 4).
	MaxWorkers int
}

// Queue is the job system of one process.
type Queue struct {
	cfg      Config
	workers  *river.Workers
	periodic []*river.PeriodicJob
	driver   riverdriver.Driver[*sql.Tx]
	client   *river.Client[*sql.Tx]
	metrics  *metrics
	// id is the River client id of this process; liveness holds its
	// liveness lock on PostgreSQL.
	id       string
	liveness *sql.Conn

	mu      sync.Mutex
	started bool
	stop    chan struct{} // ends the liveness watch
}

// New returns a queue on the store's database. Register workers and
// periodic jobs, then call Open before enqueuing and Start to work jobs.
func New(c Config) *Queue {
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = 4
	}
	q := &Queue{cfg: c, workers: river.NewWorkers(), driver: newDriver(c.Store), metrics: newMetrics(c.Store, c.Registry), id: clientID()}
	Add(q, &recoverWorker{q: q})
	if c.Store.Dialect == dialect.Postgres {
		q.Every(time.Minute, func() river.JobArgs { return RecoverArgs{} })
	}
	return q
}

// newDriver returns River's driver for the store's dialect.
func newDriver(st *store.Store) riverdriver.Driver[*sql.Tx] {
	if st.Dialect == dialect.SQLite {
		return riversqlite.New(st.DB)
	}
	return riverdatabasesql.New(st.DB)
}

// Add registers the worker of one job kind; call it before Open.
func Add[A river.JobArgs](q *Queue, w river.Worker[A]) {
	river.AddWorker(q.workers, w)
}

// Every runs a job built by args every interval (and once at start), on the
// elected leader only.
func (q *Queue) Every(interval time.Duration, args func() river.JobArgs) {
	q.periodic = append(q.periodic, river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
}

// Open builds the River client. Jobs can be enqueued from then on.
func (q *Queue) Open() error {
	cfg := &river.Config{
		ID:                q.id,
		Logger:            q.cfg.Logger.With("component", "jobs"),
		FetchPollInterval: q.cfg.PollInterval,
		FetchCooldown:     q.cfg.PollInterval / 5,
		JobTimeout:        5 * time.Minute,
		MaxAttempts:       10,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.cfg.MaxWorkers}},
		Workers:           q.workers,
		PeriodicJobs:      q.periodic,
		WorkerMiddleware:  []rivertype.WorkerMiddleware{river.WorkerMiddlewareFunc(q.work)},
		// Finished jobs stay a week so admins can see them in the job list.
		CompletedJobRetentionPeriod: 7 * 24 * time.Hour,
		DiscardedJobRetentionPeriod: 30 * 24 * time.Hour,
		CancelledJobRetentionPeriod: 30 * 24 * time.Hour,
	}
	if _, system := q.cfg.Clock.(clock.System); !system {
		cfg.Test.Time = timeGenerator{q.cfg.Clock}
	}
	client, err := river.NewClient(q.driver, cfg)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	q.client = client
	return nil
}

// Start starts working jobs until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if q.client == nil {
		return errors.New("jobs: Start before Open")
	}
	if err := q.holdLiveness(ctx); err != nil {
		return err
	}
	n, err := q.RecoverOrphans(ctx)
	if err != nil {
		q.releaseLiveness()
		return err
	}
	if n > 0 {
		q.cfg.Logger.WarnContext(ctx, "recovered jobs of a process that died", "jobs", n)
	}
	if err := q.client.Start(ctx); err != nil {
		q.releaseLiveness()
		return fmt.Errorf("jobs: starting: %w", err)
	}
	q.mu.Lock()
	q.started = true
	q.stop = make(chan struct{})
	q.mu.Unlock()
	if q.cfg.Store.Dialect == dialect.Postgres {
		go q.watchLiveness(q.stop)
	}
	return nil
}

// Stop waits for running jobs to finish (until ctx ends) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.started = false
	if q.stop != nil {
		close(q.stop)
		q.stop = nil
	}
	q.mu.Unlock()
	if !started {
		return nil
	}
	defer q.releaseLiveness()
	if err := q.client.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stopping: %w", err)
	}
	return nil
}

// Health reports whether the queue is working jobs on a current schema;
// readyz calls it.
func (q *Queue) Health(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.mu.Unlock()
	if !started {
		return errors.New("job queue not started")
	}
	pending, err := Pending(ctx, q.cfg.Store)
	if err != nil {
		return err
	}
	if pending > 0 {
		return fmt.Errorf("job queue schema behind (%d migrations pending)", pending)
	}
	return nil
}

// EnqueueTx inserts a job in tx: it runs only if tx commits. Its tenant is
// recorded as a tag so that the job list can show each tenant its own jobs.
func (q *Queue) EnqueueTx(ctx context.Context, tx *ent.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if q.client == nil {
		return errors.New("jobs: enqueue before Open")
	}
	stx, ok := tx.SQLTx()
	if !ok {
		return errors.New("jobs: the transaction does not expose its database/sql transaction")
	}
	if _, err := q.client.InsertTx(ctx, stx, args, withTags(args, opts)); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Enqueue inserts a job outside any transaction. On SQLite it must not be
// called while the caller holds a transaction open (one connection).
func (q *Queue) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if q.client == nil {
		return errors.New("jobs: enqueue before Open")
	}
	if _, err := q.client.Insert(ctx, args, withTags(args, opts)); err != nil {
		return fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// tenantTag is the tag that files a job under its tenant.
func tenantTag(id pulid.ID) string { return "tenant_" + string(id) }

func withTags(args river.JobArgs, opts *river.InsertOpts) *river.InsertOpts {
	a, ok := args.(actorArgs)
	if !ok || a.JobActor().TenantID == "" {
		return opts
	}
	out := river.InsertOpts{}
	if opts != nil {
		out = *opts
	}
	out.Tags = append(append([]string(nil), out.Tags...), tenantTag(a.JobActor().TenantID))
	return &out
}

// Complete marks a running job completed in tx, so that what the job wrote
// and its completion commit together: a job killed before the commit runs
// again, one killed after it does not.
func Complete[A river.JobArgs](ctx context.Context, q *Queue, tx *ent.Tx, job *river.Job[A]) error {
	stx, ok := tx.SQLTx()
	if !ok {
		return errors.New("jobs: the transaction does not expose its database/sql transaction")
	}
	var err error
	switch q.driver.(type) {
	case *riversqlite.Driver:
		_, err = river.JobCompleteTx[*riversqlite.Driver](ctx, stx, job)
	default:
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
	}
	if err != nil {
		return fmt.Errorf("jobs: completing job %d: %w", job.ID, err)
	}
	return nil
}

// RunTx runs fn in a transaction of client and completes job in the same
// transaction.
func RunTx[A river.JobArgs](ctx context.Context, q *Queue, client *ent.Client, job *river.Job[A], fn func(ctx context.Context, tx *ent.Tx) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("jobs: begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := Complete(ctx, q, tx, job); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("jobs: commit: %w", err)
	}
	return nil
}

// work runs around every job: it puts the job's viewer in the context,
// counts the outcome, logs failures in full and hands River only text a
// client may see.
func (q *Queue) work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	// A panicking worker fails its job with a message clients may see;
	// River would otherwise record the panic's text.
	defer func() {
		if r := recover(); r != nil {
			q.cfg.Logger.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "panic", fmt.Sprint(r))
			q.metrics.jobs.WithLabelValues(job.Kind, "failed").Inc()
			err = errors.New(PublicMessage(errors.New("panic")))
		}
	}()
	var a Actor
	if err := json.Unmarshal(job.EncodedArgs, &a); err != nil {
		return river.JobCancel(errors.New("job arguments cannot be read"))
	}
	now := q.cfg.Clock.Now()
	if a.UserID != "" {
		if q.cfg.LoadViewer == nil {
			return river.JobCancel(errors.New("jobs started by users cannot run here"))
		}
		v, err := q.cfg.LoadViewer(ctx, a.TenantID, a.UserID, now)
		if errors.Is(err, ErrInactive) {
			q.cfg.Logger.WarnContext(ctx, "job cancelled: its user can no longer act", "job_id", job.ID, "kind", job.Kind, "error", err)
			q.metrics.jobs.WithLabelValues(job.Kind, "cancelled").Inc()
			return river.JobCancel(errors.New("FORBIDDEN: the user who started this job can no longer act"))
		}
		if err != nil {
			q.cfg.Logger.ErrorContext(ctx, "job: loading its user", "job_id", job.ID, "kind", job.Kind, "error", err)
			q.metrics.jobs.WithLabelValues(job.Kind, "failed").Inc()
			return errors.New(PublicMessage(err))
		}
		ctx = viewer.NewContext(ctx, v)
	} else {
		reason := "job " + job.Kind
		if a.TenantID != "" {
			// Load the tenant's keys before the worker opens a transaction:
			// the vault reads them through its own connection, which on
			// SQLite (one connection) the transaction would hold.
			if err := q.cfg.Store.Client.Vault.EnsureTenant(ctx, string(a.TenantID)); err != nil {
				q.cfg.Logger.ErrorContext(ctx, "job: loading the tenant's keys", "job_id", job.ID, "kind", job.Kind, "error", err)
				q.metrics.jobs.WithLabelValues(job.Kind, "failed").Inc()
				return errors.New(PublicMessage(err))
			}
		}
		q.cfg.Logger.InfoContext(ctx, "system context opened", "tenant_id", string(a.TenantID), "reason", reason, "job_id", job.ID)
		ctx = viewer.NewSystemContext(ctx, a.TenantID, reason, now)
	}
	err = doInner(ctx)
	if err == nil {
		q.metrics.jobs.WithLabelValues(job.Kind, "completed").Inc()
		return nil
	}
	var snooze *rivertype.JobSnoozeError
	if errors.As(err, &snooze) {
		return err
	}
	q.cfg.Logger.ErrorContext(ctx, "job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt, "error", err)
	public := errors.New(PublicMessage(err))
	var cancel *rivertype.JobCancelError
	if errors.As(err, &cancel) || denied(err) {
		q.metrics.jobs.WithLabelValues(job.Kind, "cancelled").Inc()
		return river.JobCancel(public)
	}
	q.metrics.jobs.WithLabelValues(job.Kind, "failed").Inc()
	return public
}

// denied reports whether err is a refusal that retrying cannot change.
func denied(err error) bool {
	if errors.Is(err, privacy.Deny) || ent.IsNotFound(err) {
		return true
	}
	if ae := apierr.As(err); ae != nil {
		switch ae.Code {
		case apierr.Forbidden, apierr.NotFound, apierr.BadUserInput:
			return true
		}
	}
	return false
}

// PublicMessage is the text of err a client may see: the English message
// of its Custos error code, never internal error text.
func PublicMessage(err error) string {
	ae := apierr.As(err)
	switch {
	case ae != nil:
	case errors.Is(err, privacy.Deny):
		ae = apierr.New(apierr.Forbidden)
	case ent.IsNotFound(err):
		ae = apierr.New(apierr.NotFound)
	default:
		ae = apierr.New(apierr.Internal)
	}
	return string(ae.Code) + ": " + apierr.Present(ae, "en", "").Message
}

// timeGenerator lets River run on the injected clock.
type timeGenerator struct{ clk clock.Clock }

func (g timeGenerator) Now() time.Time { return g.clk.Now() }

func (g timeGenerator) NowOrNil() *time.Time {
	t := g.clk.Now()
	return &t
}

// Migrate applies River's pending migrations. `custos migrate` runs it
// after the store's own, under the same lock.
func Migrate(ctx context.Context, st *store.Store) (int, error) {
	m, err := rivermigrate.New(newDriver(st), nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: migrating: %w", err)
	}
	return len(res.Versions), nil
}

// Pending returns how many of River's migrations the database lacks.
func Pending(ctx context.Context, st *store.Store) (int, error) {
	m, err := rivermigrate.New(newDriver(st), nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: migrator: %w", err)
	}
	have, err := m.ExistingVersions(ctx)
	if err != nil {
		// Before the first migration there is no river_migration table.
		return len(m.AllVersions()), nil //nolint:nilerr // a missing table means everything is pending
	}
	return len(m.AllVersions()) - len(have), nil
}
