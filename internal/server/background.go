package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/safehttp"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/workflows"
	"github.com/custos-crm/custos/internal/workitems"
)

// BackgroundConfig configures the background services.
type BackgroundConfig struct {
	Store    *store.Store
	Clock    clock.Clock
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// Mail sends e-mail; nil turns e-mail off.
	Mail mail.Sender
	// PublicURL starts the links in notifications.
	PublicURL string
	// AllowLoopbackWebhooks lets webhooks reach loopback addresses
	// (development and tests only).
	AllowLoopbackWebhooks bool
	// PollInterval is how often idle job workers look for work.
	PollInterval time.Duration
	// Retry overrides the outbox retry policy (tests).
	Retry outbox.RetryPolicy
	// Forms is the plugin registry forms name; its formats must be
	// installed (once per process).
	Forms *forms.Registry
}

// Background holds the job queue and the services that run on it: the
// outbox (webhooks, e-mail), notifications and reminders; and the audit
// sealer. Build it once per store, after the vault is open, then Start it.
type Background struct {
	Queue *jobs.Queue
	// Sealer links the audit events that commits left unsealed.
	Sealer    *audit.Sealer
	Outbox    *outbox.Service
	Notify    *notify.Service
	Reminders *notify.Reminders
	Forms     *formdefs.Service
	Workflows *workflows.Service
	WorkItems *workitems.Service

	stopSealer context.CancelFunc
	sealerDone chan struct{}
}

// NewBackground wires the background services and installs the outbox's
// event hook on the store's client.
func NewBackground(c BackgroundConfig) (*Background, error) {
	load := func(ctx context.Context, tenantID, userID pulid.ID, now time.Time) (*viewer.Viewer, error) {
		l, err := authn.LoadViewer(ctx, c.Store.Client, tenantID, userID, now)
		if errors.Is(err, authn.ErrInactive) {
			return nil, fmt.Errorf("%w: %w", jobs.ErrInactive, err)
		}
		if err != nil {
			return nil, err
		}
		return l.Viewer, nil
	}
	q := jobs.New(jobs.Config{
		Store: c.Store, Clock: c.Clock, Logger: c.Logger, Registry: c.Registry,
		LoadViewer: load, PollInterval: c.PollInterval,
	})
	b := &Background{Queue: q}
	fd, err := formdefs.New(formdefs.Config{
		Registry: c.Forms, Compiler: forms.NewCompiler(forms.CompilerOptions{}), Clock: c.Clock, Logger: c.Logger, Queue: q,
	})
	if err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	b.Forms = fd
	b.Workflows = workflows.New(c.Forms, fd, c.Clock)
	// The client validates custom fields through the form service, and
	// the form service's jobs use the client: first the client, then the
	// hooks below.
	c.Store.UseForms(fd)
	client := c.Store.Client
	fd.UseClient(client)
	b.Outbox = outbox.New(outbox.Config{
		Client: client, Queue: q, Clock: c.Clock, Logger: c.Logger,
		HTTP: safehttp.NewClient(safehttp.Options{AllowLoopback: c.AllowLoopbackWebhooks, Timeout: 15 * time.Second}),
		Mail: c.Mail,
		Compose: func(ctx context.Context, client *ent.Client, m *ent.OutboxMessage) (mail.Message, error) {
			return b.Notify.Compose(ctx, client, m)
		},
		OnDead: func(ctx context.Context, tx *ent.Tx, m *ent.OutboxMessage) error {
			return b.Notify.OnDead(ctx, tx, m)
		},
		Retry:    c.Retry,
		Registry: c.Registry,
	})
	b.Notify = notify.New(notify.Config{Outbox: b.Outbox, Clock: c.Clock, PublicURL: c.PublicURL, LoadViewer: load})
	b.Reminders = notify.RegisterReminders(q, client, b.Notify)
	b.WorkItems = workitems.New(workitems.Config{
		Workflows: b.Workflows, Registry: c.Forms, Clock: c.Clock, Queue: q, Client: client,
		Notify: b.Notify, Outbox: b.Outbox,
	})
	b.Outbox.Install(client)
	b.Sealer = audit.NewSealer(audit.SealerConfig{DB: c.Store.DB, Logger: c.Logger})
	b.Sealer.Install(client)
	if err := q.Open(); err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	return b, nil
}

// EnsureDefaults gives every tenant the built-in workflows it lacks, each
// tenant in its own transaction in its system context.
func (b *Background) EnsureDefaults(ctx context.Context, client *ent.Client, logger *slog.Logger, now time.Time) error {
	all := viewer.NewSystemContext(ctx, "", "list tenants for default workflows", now)
	tenants, err := client.Tenant.Query().IDs(all)
	if err != nil {
		return err
	}
	for _, id := range tenants {
		logger.InfoContext(ctx, "system context opened", "tenant_id", string(id), "reason", "default workflows")
		sys := viewer.NewSystemContext(ctx, id, "default workflows", now)
		tx, err := client.Tx(sys)
		if err != nil {
			return err
		}
		if err := b.Workflows.EnsureDefaults(sys, tx.Client()); err != nil {
			_ = tx.Rollback()
			if ent.IsConstraintError(err) {
				// Another server created them at the same moment.
				logger.InfoContext(ctx, "default workflows created elsewhere", "tenant_id", string(id))
				continue
			}
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Start starts working jobs and sealing audit events.
func (b *Background) Start(ctx context.Context) error {
	sealCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Sealer.Run(sealCtx)
	}()
	if err := b.Queue.Start(ctx); err != nil {
		cancel()
		<-done
		return err
	}
	b.stopSealer, b.sealerDone = cancel, done
	return nil
}

// Stop lets running jobs finish (until ctx ends) and stops; then it stops
// the sealer and links what the last commits left unsealed.
func (b *Background) Stop(ctx context.Context) error {
	err := b.Queue.Stop(ctx)
	if b.stopSealer != nil {
		b.stopSealer()
		select {
		case <-b.sealerDone:
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
		b.stopSealer, b.sealerDone = nil, nil
	}
	if _, serr := b.Sealer.SealPending(ctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("sealing audit events: %w", serr))
	}
	return err
}
