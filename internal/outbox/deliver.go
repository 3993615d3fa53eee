package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/outboxmessage"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/safehttp"
	"github.com/custos-crm/custos/internal/webhooks"
)

// DeliverArgs is the job that makes one delivery attempt of a message.
type DeliverArgs struct {
	jobs.Actor
	MessageID pulid.ID `json:"message_id"`
	// Attempt is the number of attempts made before this one; a job whose
	// attempt no longer matches the message is stale and does nothing.
	Attempt int `json:"attempt"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "outbox.deliver" }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Service
}

// Timeout bounds one attempt: the HTTP client and SMTP dialer have their
// own, shorter limits.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return 2 * time.Minute }

// Work makes one attempt. The message is sent outside any transaction;
// the outcome, the next attempt and the job's completion are written in
// one transaction afterwards.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	return w.s.Attempt(ctx, job)
}

// outcome is the result of one attempt.
type outcome struct {
	delivered bool
	permanent bool // retrying cannot help
	status    *int
	// reason is shown to admins in the delivery log: never internal text.
	reason   string
	duration time.Duration
}

// Attempt makes the delivery attempt job asks for and records its outcome.
// ctx must carry the tenant's system viewer (the job middleware puts it
// there).
func (s *Service) Attempt(ctx context.Context, job *river.Job[DeliverArgs]) error {
	client := s.cfg.Client
	m, err := client.OutboxMessage.Get(ctx, job.Args.MessageID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.State != outboxmessage.StatePending || m.Attempts != job.Args.Attempt {
		return nil // already handled by an earlier run of this job
	}
	var res outcome
	switch m.Kind {
	case outboxmessage.KindWebhook:
		res = s.sendWebhook(ctx, client, m)
	case outboxmessage.KindEmail:
		res = s.sendEmail(ctx, client, m)
	}
	return jobs.RunTx(ctx, s.cfg.Queue, client, job, func(ctx context.Context, tx *ent.Tx) error {
		return s.record(ctx, tx, m, res)
	})
}

// record writes the outcome of an attempt on m, schedules the next one or
// gives the message up.
func (s *Service) record(ctx context.Context, tx *ent.Tx, m *ent.OutboxMessage, res outcome) error {
	now := s.cfg.Clock.Now()
	attempts := m.Attempts + 1
	u := tx.OutboxMessage.Update().
		Where(outboxmessage.ID(m.ID), outboxmessage.StateEQ(outboxmessage.StatePending), outboxmessage.Attempts(m.Attempts)).
		SetAttempts(attempts).SetNillableLastStatus(res.status).SetLastDurationMs(int(res.duration.Milliseconds()))
	outcomeLabel := "delivered"
	switch {
	case res.delivered:
		u.SetState(outboxmessage.StateDelivered).SetDeliveredAt(now).ClearLastError()
	case res.permanent || attempts >= s.cfg.Retry.MaxAttempts:
		u.SetState(outboxmessage.StateDead).SetLastError(res.reason)
		outcomeLabel = "dead"
	default:
		next := now.Add(s.cfg.Retry.Backoff(attempts))
		u.SetNextAttemptAt(next).SetLastError(res.reason)
		outcomeLabel = "retry"
	}
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("outbox: recording attempt: %w", err)
	}
	if n == 0 {
		return nil // another run recorded this attempt first
	}
	s.deliveries.WithLabelValues(string(m.Kind), outcomeLabel).Inc()
	switch outcomeLabel {
	case "retry":
		next := now.Add(s.cfg.Retry.Backoff(attempts))
		return s.cfg.Queue.EnqueueTx(ctx, tx, DeliverArgs{Actor: jobs.Actor{TenantID: m.TenantID}, MessageID: m.ID, Attempt: attempts}, deliverOpts(next))
	case "dead":
		s.cfg.Logger.WarnContext(ctx, "outbox message dead", "message_id", string(m.ID), "kind", string(m.Kind), "attempts", attempts, "reason", res.reason)
		if s.cfg.OnDead != nil {
			m.State, m.Attempts = outboxmessage.StateDead, attempts
			return s.cfg.OnDead(ctx, tx, m)
		}
	}
	return nil
}

// sendWebhook posts m to its endpoint, signed.
func (s *Service) sendWebhook(ctx context.Context, client *ent.Client, m *ent.OutboxMessage) outcome {
	e, err := client.WebhookEndpoint.Get(ctx, m.EndpointID)
	if ent.IsNotFound(err) {
		return outcome{permanent: true, reason: "the endpoint was deleted"}
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "outbox: loading endpoint", "message_id", string(m.ID), "error", err)
		return outcome{reason: "internal error"}
	}
	if !e.Enabled && m.Event != webhooks.EventPing {
		return outcome{permanent: true, reason: "the endpoint is disabled"}
	}
	now := s.cfg.Clock.Now()
	secrets, err := webhooks.Secrets(ctx, client.Vault, e, now)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "outbox: opening endpoint secret", "message_id", string(m.ID), "error", err)
		return outcome{reason: "internal error"}
	}
	body, err := json.Marshal(m.Payload)
	if err != nil {
		return outcome{permanent: true, reason: "internal error"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{permanent: true, reason: "the endpoint URL is not valid"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Custos-Webhooks/1")
	req.Header.Set(webhooks.HeaderEvent, m.Event)
	req.Header.Set(webhooks.HeaderDelivery, m.IdempotencyKey)
	webhooks.SetHeaders(req.Header, now, body, secrets...)
	start := time.Now()
	resp, err := s.cfg.HTTP.Do(req)
	took := time.Since(start)
	if err != nil {
		res := outcome{duration: took, reason: "the connection failed"}
		var ne net.Error
		switch {
		case errors.Is(err, safehttp.ErrForbiddenAddress):
			res.permanent, res.reason = true, "refused: the URL resolves to a non-public address"
		case errors.Is(err, safehttp.ErrRedirectRefused):
			res.reason = "the endpoint answered with a redirect"
		case errors.As(err, &ne) && ne.Timeout():
			res.reason = "the endpoint did not answer in time"
		}
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	status := resp.StatusCode
	res := outcome{status: &status, duration: took}
	switch {
	case status >= 200 && status < 300:
		res.delivered = true
	case status >= 300 && status < 400:
		res.reason = fmt.Sprintf("the endpoint answered with a redirect (HTTP %d)", status)
	default:
		res.reason = fmt.Sprintf("HTTP %d", status)
	}
	return res
}

// sendEmail composes and sends an e-mail message.
func (s *Service) sendEmail(ctx context.Context, client *ent.Client, m *ent.OutboxMessage) outcome {
	if s.cfg.Mail == nil || s.cfg.Compose == nil {
		return outcome{permanent: true, reason: "e-mail is not configured"}
	}
	msg, err := s.cfg.Compose(ctx, client, m)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "outbox: composing e-mail", "message_id", string(m.ID), "error", err)
		if errors.Is(err, jobs.ErrInactive) || ent.IsNotFound(err) || errors.Is(err, ErrNoAddress) {
			return outcome{permanent: true, reason: "the recipient is no longer active or has no address"}
		}
		return outcome{reason: "internal error"}
	}
	msg.MessageID = "<" + string(m.ID) + "@custos>"
	start := time.Now()
	err = s.cfg.Mail.Send(ctx, msg)
	took := time.Since(start)
	if err != nil {
		// The server's reply text may quote the recipient's address: log
		// only what kind of failure it was.
		s.cfg.Logger.WarnContext(ctx, "outbox: sending e-mail failed", "message_id", string(m.ID), "permanent", mail.IsPermanent(err))
		if mail.IsPermanent(err) {
			return outcome{permanent: true, duration: took, reason: "the mail server refused the message"}
		}
		return outcome{duration: took, reason: "the mail server could not be reached or deferred the message"}
	}
	return outcome{delivered: true, duration: took}
}

// ErrNoAddress is what a Composer's error matches when the recipient has no
// e-mail address.
var ErrNoAddress = errors.New("outbox: the recipient has no e-mail address")

// SweepArgs is the periodic job that re-enqueues due messages whose
// delivery job was lost (a crash between commit and enqueue cannot happen,
// but an operator may have deleted jobs).
type SweepArgs struct {
	jobs.Actor
}

// Kind names the job.
func (SweepArgs) Kind() string { return "outbox.sweep" }

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

// Work enqueues a delivery for every pending message that is more than a
// minute overdue; delivery jobs are unique by arguments, so a message whose
// job still exists gets no second one.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	s := w.s
	due, err := s.cfg.Client.OutboxMessage.Query().
		Where(outboxmessage.StateEQ(outboxmessage.StatePending), outboxmessage.NextAttemptAtLT(s.cfg.Clock.Now().Add(-time.Minute))).
		Order(outboxmessage.ByNextAttemptAt()).Limit(500).All(ctx)
	if err != nil {
		return err
	}
	for _, m := range due {
		args := DeliverArgs{Actor: jobs.Actor{TenantID: m.TenantID}, MessageID: m.ID, Attempt: m.Attempts}
		if err := s.cfg.Queue.Enqueue(ctx, args, deliverOpts(time.Time{})); err != nil {
			return err
		}
	}
	return nil
}

// toMap turns v into the JSON object stored as a payload.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("outbox: payload: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("outbox: payload: %w", err)
	}
	return m, nil
}
