package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/vault"
)

// EventPing is sent by pingWebhookEndpoint to test an endpoint; every
// endpoint receives it whatever it subscribes to.
const EventPing = "ping"

// Events lists the events endpoints may subscribe to.
func Events() []string {
	return []string{
		"customer.created", "customer.updated", "customer.deleted",
		"contact.created", "contact.updated", "contact.deleted",
		"followup.created", "followup.updated", "followup.deleted",
		EventTicketWorkflow, EventProjectWorkflow,
	}
}

// The events a workflow's webhook action sends; the envelope's subject
// carries the action's own event name in "signal".
const (
	EventTicketWorkflow  = "ticket.workflow"
	EventProjectWorkflow = "project.workflow"
)

// Envelope is the JSON body of every delivery. It names what happened and
// the record by id; receivers read the record through the API with their
// own credentials, so no personal data leaves in a webhook.
type Envelope struct {
	// ID identifies the delivery; a retry carries the same id, so it is
	// the idempotency key receivers deduplicate on.
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	OccurredAt time.Time `json:"occurredAt"`
	TenantID   string    `json:"tenantId"`
	Data       Subject   `json:"data"`
}

// Subject is the record an event is about.
type Subject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	// ChangedFields names the fields an update changed (names only).
	ChangedFields []string `json:"changedFields,omitempty"`
	// Signal is, for ticket.workflow and project.workflow, the event name
	// the workflow's webhook action gives, such as "escalated".
	Signal string `json:"signal,omitempty"`
}

// EndpointInput creates or changes an endpoint; nil fields keep their value.
type EndpointInput struct {
	URL         *string
	Description *string
	Events      []string
	Enabled     *bool
}

// Service manages endpoints.
type Service struct {
	// AllowHTTP accepts http:// URLs (development and tests only);
	// otherwise endpoints must use https.
	AllowHTTP bool
}

// Created is an endpoint with its new secret, shown once.
type Created struct {
	Endpoint *ent.WebhookEndpoint
	Secret   string
}

// Create registers an endpoint and returns it with its signing secret.
func (s Service) Create(ctx context.Context, client *ent.Client, in EndpointInput) (*Created, error) {
	switch {
	case in.URL == nil:
		return nil, apierr.BadInput(apierr.Field("/input/url", "required"))
	case in.Events == nil:
		return nil, apierr.BadInput(apierr.Field("/input/events", "required"))
	}
	if err := s.check(in); err != nil {
		return nil, err
	}
	sec, err := newSecret()
	if err != nil {
		return nil, err
	}
	c := client.WebhookEndpoint.Create().SetURL(*in.URL).SetEvents(in.Events).
		SetSecret(secret.Plain(sec)).SetNillableDescription(in.Description).SetNillableEnabled(in.Enabled)
	if v := viewer.FromContext(ctx); v != nil && v.UserID != "" {
		c.SetCreatedBy(v.UserID)
	}
	e, err := c.Save(ctx)
	if err != nil {
		return nil, err
	}
	return &Created{Endpoint: e, Secret: sec}, nil
}

// Update changes an endpoint.
func (s Service) Update(ctx context.Context, client *ent.Client, id pulid.ID, in EndpointInput) (*ent.WebhookEndpoint, error) {
	if err := s.check(in); err != nil {
		return nil, err
	}
	u := client.WebhookEndpoint.UpdateOneID(id).SetNillableDescription(in.Description).SetNillableEnabled(in.Enabled)
	if in.URL != nil {
		u.SetURL(*in.URL)
	}
	if in.Events != nil {
		u.SetEvents(in.Events)
	}
	return u.Save(ctx)
}

// Rotate gives an endpoint a new secret. The old one keeps signing too
// until overlap has passed, so receivers can switch without losing
// deliveries.
func (s Service) Rotate(ctx context.Context, client *ent.Client, id pulid.ID, overlap time.Duration, now time.Time) (*Created, error) {
	if overlap < 0 || overlap > 7*24*time.Hour {
		return nil, apierr.BadInput(apierr.Field("/overlapHours", "out_of_range"))
	}
	e, err := client.WebhookEndpoint.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := openSecret(ctx, client.Vault, e, "secret", e.Secret)
	if err != nil {
		return nil, err
	}
	sec, err := newSecret()
	if err != nil {
		return nil, err
	}
	e, err = e.Update().SetSecret(secret.Plain(sec)).SetPreviousSecret(secret.Plain(old)).
		SetPreviousSecretExpiresAt(now.Add(overlap)).Save(ctx)
	if err != nil {
		return nil, err
	}
	return &Created{Endpoint: e, Secret: sec}, nil
}

// Secrets returns the secrets that sign a delivery at now: the current one
// and, until it expires, the previous one.
func Secrets(ctx context.Context, v *vault.Vault, e *ent.WebhookEndpoint, now time.Time) ([]string, error) {
	cur, err := openSecret(ctx, v, e, "secret", e.Secret)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if e.PreviousSecretExpiresAt != nil && now.Before(*e.PreviousSecretExpiresAt) && !e.PreviousSecret.IsZero() {
		prev, err := openSecret(ctx, v, e, "previous_secret", e.PreviousSecret)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

func openSecret(ctx context.Context, v *vault.Vault, e *ent.WebhookEndpoint, column string, t secret.Text) (string, error) {
	ref := vault.Ref{TenantID: string(e.TenantID), Table: "WebhookEndpoint", RowID: string(e.ID)}
	s, err := v.OpenString(ctx, ref, e.DataKey, column, t.Ciphertext())
	if err != nil {
		return "", fmt.Errorf("webhooks: opening %s: %w", column, err)
	}
	return s, nil
}

// check validates the URL and the events of in.
func (s Service) check(in EndpointInput) error {
	var fields []apierr.FieldError
	if in.URL != nil {
		u, err := url.Parse(*in.URL)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
			fields = append(fields, apierr.Field("/input/url", "invalid"))
		case u.User != nil:
			fields = append(fields, apierr.Field("/input/url", "invalid"))
		case u.Scheme == "https", u.Scheme == "http" && s.AllowHTTP:
		default:
			fields = append(fields, apierr.Field("/input/url", "https_required"))
		}
	}
	if in.Events != nil && len(in.Events) == 0 {
		fields = append(fields, apierr.Field("/input/events", "empty"))
	}
	known := Events()
	for i, e := range in.Events {
		if !slices.Contains(known, e) {
			fields = append(fields, apierr.Field("/input/events/"+strconv.Itoa(i), "unknown_event", "value", e))
		}
	}
	if len(fields) > 0 {
		return apierr.BadInput(fields...)
	}
	return nil
}

// newSecret returns a random signing secret.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhooks: random secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b), nil
}
