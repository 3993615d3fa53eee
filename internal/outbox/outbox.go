// Package outbox owns side effects that leave the database: webhook
// deliveries and e-mails. They are written as rows in the transaction of
// the change that causes them, together with a job that delivers them after
// commit, so a rolled-back change sends nothing. Delivery retries with
// exponential back-off and ends in a dead-letter state; each message has an
// idempotency key that receivers see.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/outboxmessage"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/webhookendpoint"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/webhooks"
)

// RetryPolicy says how often and when a failed delivery is tried again.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts before a message is dead.
	MaxAttempts int
	// Base is the wait after the first failure; it doubles with each
	// further failure up to Max.
	Base, Max time.Duration
}

// DefaultRetry tries 8 times over about four hours: 30 s, 1, 2, 4, 8, 16,
// 32 minutes, then 1 hour... until dead.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 8, Base: 30 * time.Second, Max: 2 * time.Hour}
}

// Backoff returns the wait after the attempts-th failed attempt.
func (p RetryPolicy) Backoff(attempts int) time.Duration {
	d := p.Base
	for i := 1; i < attempts && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Composer builds the e-mail of an outbox message, loading what it needs
// under the recipient's viewer.
type Composer func(ctx context.Context, client *ent.Client, m *ent.OutboxMessage) (mail.Message, error)

// Config configures the outbox.
type Config struct {
	Client *ent.Client
	Queue  *jobs.Queue
	Clock  clock.Clock
	Logger *slog.Logger
	// HTTP sends webhooks; it must be the SSRF-safe client.
	HTTP *http.Client
	// Mail sends e-mail; nil turns e-mail off (notifications go to the
	// inbox only).
	Mail mail.Sender
	// Compose builds e-mails; required when Mail is set.
	Compose Composer
	// OnDead runs in the transaction that gives a message up.
	OnDead func(ctx context.Context, tx *ent.Tx, m *ent.OutboxMessage) error
	Retry  RetryPolicy
	// Registry receives the delivery counters; nil registers none.
	Registry prometheus.Registerer
}

// Service writes and delivers outbox messages.
type Service struct {
	cfg        Config
	deliveries *prometheus.CounterVec
}

// New returns the outbox and registers its delivery job with the queue.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry = DefaultRetry()
	}
	s := &Service{cfg: c, deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "custos_outbox_deliveries_total",
		Help: "Delivery attempts by kind (webhook, email) and outcome (delivered, retry, dead).",
	}, []string{"kind", "outcome"})}
	if c.Registry != nil {
		c.Registry.MustRegister(s.deliveries)
	}
	jobs.Add(c.Queue, &deliverWorker{s: s})
	jobs.Add(c.Queue, &sweepWorker{s: s})
	jobs.Add(c.Queue, &pingWorker{s: s})
	c.Queue.Every(time.Minute, func() river.JobArgs { return SweepArgs{} })
	return s
}

// EmailEnabled reports whether e-mail is configured.
func (s *Service) EmailEnabled() bool { return s.cfg.Mail != nil }

// Event is a change that webhook endpoints may subscribe to.
type Event struct {
	TenantID pulid.ID
	Name     string
	Subject  webhooks.Subject
	// Endpoint, when set, sends the event to that endpoint only (a ping),
	// whatever it subscribes to.
	Endpoint pulid.ID
}

// EmitTx records ev in tx for every enabled endpoint of the tenant that
// subscribes to it.
func (s *Service) EmitTx(ctx context.Context, tx *ent.Tx, ev Event) error {
	wctx := rule.NewOutboxWriteContext(ctx)
	q := tx.WebhookEndpoint.Query().Where(webhookendpoint.TenantID(ev.TenantID))
	if ev.Endpoint != "" {
		q = q.Where(webhookendpoint.ID(ev.Endpoint))
	} else {
		q = q.Where(webhookendpoint.Enabled(true))
	}
	endpoints, err := q.Select(webhookendpoint.FieldID, webhookendpoint.FieldEvents).All(wctx)
	if err != nil {
		return fmt.Errorf("outbox: loading endpoints: %w", err)
	}
	now := s.cfg.Clock.Now()
	for _, e := range endpoints {
		if ev.Endpoint == "" && !subscribes(e.Events, ev.Name) {
			continue
		}
		id := pulid.New("obx", now)
		env := webhooks.Envelope{ID: string(id), Event: ev.Name, OccurredAt: now, TenantID: string(ev.TenantID), Data: ev.Subject}
		payload, err := toMap(env)
		if err != nil {
			return err
		}
		err = s.create(wctx, tx, tx.OutboxMessage.Create().SetID(id).SetTenantID(ev.TenantID).
			SetKind(outboxmessage.KindWebhook).SetEvent(ev.Name).SetSubjectID(ev.Subject.ID).SetEndpointID(e.ID).
			SetPayload(payload).SetIdempotencyKey(string(id)).SetNextAttemptAt(now))
		if err != nil {
			return err
		}
	}
	return nil
}

func subscribes(events []string, name string) bool {
	for _, e := range events {
		if e == name {
			return true
		}
	}
	return false
}

// Email describes an e-mail to a user of the tenant.
type Email struct {
	TenantID pulid.ID
	UserID   pulid.ID
	// Kind is the notification kind, which picks the template.
	Kind string
	// RecordID is the record the e-mail is about, if any.
	RecordID string
	// Params are non-personal template values (dates, counts).
	Params map[string]string
	// Key makes the e-mail idempotent: a second EmailTx with the same key
	// sends nothing more.
	Key string
}

// EmailTx records an e-mail in tx. It does nothing when e-mail is off or
// an e-mail with the same key was already recorded.
func (s *Service) EmailTx(ctx context.Context, tx *ent.Tx, e Email) error {
	if s.cfg.Mail == nil {
		return nil
	}
	wctx := rule.NewOutboxWriteContext(ctx)
	key := "email:" + e.Key
	exists, err := tx.OutboxMessage.Query().Where(outboxmessage.TenantID(e.TenantID), outboxmessage.IdempotencyKey(key)).Exist(wctx)
	if err != nil {
		return fmt.Errorf("outbox: idempotency check: %w", err)
	}
	if exists {
		return nil
	}
	payload := map[string]any{"kind": e.Kind, "recordId": e.RecordID, "params": e.Params}
	now := s.cfg.Clock.Now()
	return s.create(wctx, tx, tx.OutboxMessage.Create().SetTenantID(e.TenantID).
		SetKind(outboxmessage.KindEmail).SetEvent(e.Kind).SetSubjectID(e.RecordID).SetUserID(e.UserID).
		SetPayload(payload).SetIdempotencyKey(key).SetNextAttemptAt(now))
}

// create saves a message and enqueues its first delivery in tx.
func (s *Service) create(ctx context.Context, tx *ent.Tx, c *ent.OutboxMessageCreate) error {
	m, err := c.Save(ctx)
	if err != nil {
		return fmt.Errorf("outbox: writing message: %w", err)
	}
	return s.cfg.Queue.EnqueueTx(ctx, tx, DeliverArgs{Actor: jobs.Actor{TenantID: m.TenantID}, MessageID: m.ID}, deliverOpts(time.Time{}))
}

func deliverOpts(at time.Time) *river.InsertOpts {
	return &river.InsertOpts{ScheduledAt: at, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

var errNoTx = errors.New("outbox: changes that cause side effects must run in a transaction")

// PingArgs is the job that sends a ping to one endpoint. It is started by
// a user and runs as them: if they may no longer manage webhooks when it
// runs, it is cancelled.
type PingArgs struct {
	jobs.Actor
	EndpointID pulid.ID `json:"endpoint_id"`
}

// Kind names the job.
func (PingArgs) Kind() string { return "webhooks.ping" }

type pingWorker struct {
	river.WorkerDefaults[PingArgs]
	s *Service
}

// Work records a ping delivery to the endpoint, as the user who asked.
func (w *pingWorker) Work(ctx context.Context, job *river.Job[PingArgs]) error {
	return jobs.RunTx(ctx, w.s.cfg.Queue, w.s.cfg.Client, job, func(ctx context.Context, tx *ent.Tx) error {
		e, err := tx.WebhookEndpoint.Get(ctx, job.Args.EndpointID)
		if err != nil {
			return err
		}
		return w.s.EmitTx(ctx, tx, Event{TenantID: e.TenantID, Name: webhooks.EventPing, Endpoint: e.ID,
			Subject: webhooks.Subject{Type: "WebhookEndpoint", ID: string(e.ID)}})
	})
}

// PingTx enqueues, in tx, a ping of an endpoint the viewer can see, run as
// the viewer.
func (s *Service) PingTx(ctx context.Context, tx *ent.Tx, endpointID pulid.ID) error {
	v := viewer.FromContext(ctx)
	e, err := tx.WebhookEndpoint.Get(ctx, endpointID)
	if err != nil {
		return err
	}
	return s.cfg.Queue.EnqueueTx(ctx, tx, PingArgs{Actor: jobs.Actor{TenantID: e.TenantID, UserID: v.UserID}, EndpointID: e.ID}, nil)
}

// RedeliverTx tries a dead webhook delivery once more, in tx: the message
// becomes pending again and a delivery job is enqueued. The viewer must be
// able to read the delivery log (webhook:manage).
func (s *Service) RedeliverTx(ctx context.Context, tx *ent.Tx, id pulid.ID) (*ent.OutboxMessage, error) {
	m, err := tx.OutboxMessage.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.Kind != outboxmessage.KindWebhook || m.State != outboxmessage.StateDead {
		return nil, apierr.BadInput(apierr.Field("/id", "not_dead"))
	}
	v := viewer.FromContext(ctx)
	s.cfg.Logger.InfoContext(ctx, "system context opened", "tenant_id", string(m.TenantID), "reason", "redeliver webhook", "by", string(v.UserID))
	sys := viewer.NewSystemContext(ctx, m.TenantID, "redeliver webhook for "+string(v.UserID), s.cfg.Clock.Now())
	m, err = tx.OutboxMessage.UpdateOneID(id).SetState(outboxmessage.StatePending).SetNextAttemptAt(s.cfg.Clock.Now()).Save(sys)
	if err != nil {
		return nil, err
	}
	// The attempts made so far stay counted: the job for the next one is
	// new, so the unique-job rule does not swallow it.
	return m, s.cfg.Queue.EnqueueTx(ctx, tx, DeliverArgs{Actor: jobs.Actor{TenantID: m.TenantID}, MessageID: m.ID, Attempt: m.Attempts}, deliverOpts(time.Time{}))
}
