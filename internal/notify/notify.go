// Package notify owns notifications: each user's in-app inbox, their
// preferences per kind, the e-mail copy sent through the outbox, and
// follow-up reminders. Notifications store a kind, a record id and
// non-personal parameters; their text is rendered from the mail templates
// in the reader's language when read or sent, from records loaded under
// the reader's own viewer.
package notify

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/followup"
	"github.com/custos-crm/custos/ent/notification"
	"github.com/custos-crm/custos/ent/notificationpreference"
	"github.com/custos-crm/custos/ent/outboxmessage"
	"github.com/custos-crm/custos/ent/picklist"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/vault"
	netmail "net/mail"
)

// Kinds users can set preferences for.
func Kinds() []string {
	return []string{
		mail.KindFollowupDue, mail.KindWebhookDead,
		mail.KindWorkItem, mail.KindApprovalRequested, mail.KindSLAWarning, mail.KindSLABreached,
	}
}

// Notice is a notification to one user.
type Notice struct {
	TenantID pulid.ID
	UserID   pulid.ID
	Kind     string
	// RecordID is the record the notice is about.
	RecordID string
	// Params are non-personal template values (a date, a count).
	Params map[string]string
	// Key makes the notice idempotent within the tenant.
	Key string
}

// Service sends and renders notifications.
type Service struct {
	outbox     *outbox.Service
	clock      clock.Clock
	publicURL  string
	loadViewer jobs.ViewerLoader
}

// Config configures the Service.
type Config struct {
	Outbox *outbox.Service
	Clock  clock.Clock
	// PublicURL starts the links in notifications.
	PublicURL string
	// LoadViewer loads a recipient's viewer when an e-mail is composed.
	LoadViewer jobs.ViewerLoader
}

// New returns the notification service.
func New(c Config) *Service {
	return &Service{outbox: c.Outbox, clock: c.Clock, publicURL: strings.TrimSuffix(c.PublicURL, "/"), loadViewer: c.LoadViewer}
}

// NotifyTx puts n in its user's inbox and, if e-mail is on and the user has
// not turned it off for the kind, records an e-mail in the outbox, all in
// tx. A notice whose key was seen before does nothing.
func (s *Service) NotifyTx(ctx context.Context, tx *ent.Tx, n Notice) error {
	wctx := rule.NewOutboxWriteContext(ctx)
	inbox, email := true, true
	pref, err := tx.NotificationPreference.Query().
		Where(notificationpreference.TenantID(n.TenantID), notificationpreference.UserID(n.UserID), notificationpreference.Kind(n.Kind)).
		Only(wctx)
	switch {
	case err == nil:
		inbox, email = pref.Inbox, pref.Email
	case !ent.IsNotFound(err):
		return fmt.Errorf("notify: preferences: %w", err)
	}
	if inbox {
		exists, err := tx.Notification.Query().
			Where(notification.TenantID(n.TenantID), notification.DedupeKey(n.Key)).Exist(wctx)
		if err != nil {
			return fmt.Errorf("notify: dedupe: %w", err)
		}
		if !exists {
			err = tx.Notification.Create().SetTenantID(n.TenantID).SetUserID(n.UserID).SetKind(n.Kind).
				SetRecordID(n.RecordID).SetParams(n.Params).SetDedupeKey(n.Key).Exec(wctx)
			if err != nil {
				return fmt.Errorf("notify: inbox: %w", err)
			}
		}
	}
	if email {
		return s.outbox.EmailTx(ctx, tx, outbox.Email{
			TenantID: n.TenantID, UserID: n.UserID, Kind: n.Kind, RecordID: n.RecordID, Params: n.Params, Key: n.Key,
		})
	}
	return nil
}

// Rendered is a notification's text in one language.
type Rendered struct {
	Title string
	Body  string
	Link  string
}

// Render renders a notification for the viewer in ctx, in their locale,
// from records they can see; what they cannot see shows as "—".
func (s *Service) Render(ctx context.Context, client *ent.Client, kind, recordID string, params map[string]string) (Rendered, error) {
	locale := "en"
	if v := viewer.FromContext(ctx); v != nil && v.Locale != "" {
		locale = v.Locale
	}
	data := s.data(ctx, client, locale, kind, recordID, params)
	r, err := mail.Render(kind, locale, data)
	if err != nil {
		return Rendered{}, fmt.Errorf("notify: rendering %s: %w", kind, err)
	}
	return Rendered{Title: r.Subject, Body: r.Body, Link: data["Link"]}, nil
}

// unknown stands for what the reader cannot see.
const unknown = "—"

// data gathers the template values of a notification.
func (s *Service) data(ctx context.Context, client *ent.Client, locale, kind, recordID string, params map[string]string) map[string]string {
	data := map[string]string{}
	for _, k := range mail.RequiredKeys(kind) {
		data[k] = unknown
	}
	for k, v := range params {
		data[k] = v
	}
	switch kind {
	case mail.KindFollowupDue:
		data["Link"] = s.publicURL + "/"
		if f, err := client.FollowUp.Query().Where(followup.ID(pulid.ID(recordID))).WithCustomer().Only(ctx); err == nil {
			data["Subject"] = typeLabel(ctx, client, locale, f.Type)
			if c := f.Edges.Customer; c != nil {
				data["Customer"] = c.Name
				data["Link"] = s.publicURL + "/customers/" + string(c.ID)
			}
			if f.NextFollowUpOn != nil {
				data["Date"] = f.NextFollowUpOn.String()
			}
		}
	case mail.KindWebhookDead:
		data["Link"] = s.publicURL + "/"
		if m, err := client.OutboxMessage.Query().Where(outboxmessage.ID(pulid.ID(recordID))).WithEndpoint().Only(ctx); err == nil {
			data["Event"] = m.Event
			data["Attempts"] = strconv.Itoa(m.Attempts)
			if e := m.Edges.Endpoint; e != nil {
				data["Endpoint"] = e.URL
			}
		}
	case mail.KindWorkItem, mail.KindApprovalRequested, mail.KindSLAWarning, mail.KindSLABreached:
		data["Link"] = s.publicURL + "/"
		id := pulid.ID(recordID)
		switch {
		case strings.HasPrefix(recordID, "tkt"):
			if t, err := client.Ticket.Get(ctx, id); err == nil {
				data["Title"], data["State"], data["Link"] = t.Title, t.State, s.publicURL+"/tickets/"+recordID
			}
		case strings.HasPrefix(recordID, "prj"):
			if p, err := client.Project.Get(ctx, id); err == nil {
				data["Title"], data["State"], data["Link"] = p.Title, p.State, s.publicURL+"/projects/"+recordID
			}
		}
	case mail.KindTest:
		if v := viewer.FromContext(ctx); v != nil {
			if t, err := client.Tenant.Get(ctx, v.TenantID); err == nil {
				data["Tenant"] = t.Name
			}
		}
	}
	return data
}

// typeLabel returns the label of a follow-up type in locale, or the key
// when the picklist does not have it.
func typeLabel(ctx context.Context, client *ent.Client, locale, key string) string {
	pl, err := client.Picklist.Query().Where(picklist.KindEQ(choices.FollowUpType)).Only(ctx)
	if err != nil {
		return key
	}
	for _, o := range pl.Options {
		if o.Key == key {
			if strings.HasPrefix(locale, "zh") && o.LabelZh != "" {
				return o.LabelZh
			}
			if o.LabelEn != "" {
				return o.LabelEn
			}
		}
	}
	return key
}

// Compose builds the e-mail of an outbox message under its recipient's
// viewer: a recipient who is no longer active gets nothing.
func (s *Service) Compose(ctx context.Context, client *ent.Client, m *ent.OutboxMessage) (mail.Message, error) {
	v, err := s.loadViewer(ctx, m.TenantID, m.UserID, s.clock.Now())
	if err != nil {
		return mail.Message{}, fmt.Errorf("notify: recipient: %w", err)
	}
	rctx := viewer.NewContext(ctx, v)
	u, err := client.User.Get(rctx, m.UserID)
	if err != nil {
		return mail.Message{}, fmt.Errorf("notify: recipient: %w", err)
	}
	ref := vault.Ref{TenantID: string(u.TenantID), Table: "User", RowID: string(u.ID)}
	addr, err := client.Vault.OpenString(ctx, ref, u.DataKey, "email", u.Email.Ciphertext())
	if err != nil {
		return mail.Message{}, fmt.Errorf("notify: recipient address: %w", err)
	}
	if addr == "" {
		return mail.Message{}, outbox.ErrNoAddress
	}
	var params map[string]string
	if p, ok := m.Payload["params"].(map[string]any); ok {
		params = map[string]string{}
		for k, v := range p {
			if s, ok := v.(string); ok {
				params[k] = s
			}
		}
	}
	kind, _ := m.Payload["kind"].(string)
	recordID, _ := m.Payload["recordId"].(string)
	r, err := mail.Render(kind, v.Locale, s.data(rctx, client, v.Locale, kind, recordID, params))
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{To: netmail.Address{Name: u.Name, Address: addr}, Subject: r.Subject, Text: r.Body, Locale: r.Locale}, nil
}

// OnDead tells the creator of a webhook endpoint that a delivery was given
// up; outbox calls it in the transaction that dead-letters the message.
func (s *Service) OnDead(ctx context.Context, tx *ent.Tx, m *ent.OutboxMessage) error {
	if m.Kind != outboxmessage.KindWebhook {
		return nil
	}
	e, err := tx.WebhookEndpoint.Get(ctx, m.EndpointID)
	if err != nil || e.CreatedBy == "" {
		return nil //nolint:nilerr // a deleted endpoint or one made by the system has nobody to tell
	}
	return s.NotifyTx(ctx, tx, Notice{
		TenantID: m.TenantID, UserID: e.CreatedBy, Kind: mail.KindWebhookDead, RecordID: string(m.ID),
		Params: map[string]string{"Attempts": strconv.Itoa(m.Attempts), "Event": m.Event},
		Key:    "webhook.dead:" + string(m.ID),
	})
}

// Preference is a user's channels for one kind.
type Preference struct {
	Kind  string
	Inbox bool
	Email bool
}

// Preferences returns the viewer's preferences for every kind.
func Preferences(ctx context.Context, client *ent.Client) ([]Preference, error) {
	v := viewer.FromContext(ctx)
	if v == nil || !v.Authenticated() {
		return nil, apierr.New(apierr.Unauthenticated)
	}
	rows, err := client.NotificationPreference.Query().Where(notificationpreference.UserID(v.UserID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Preference, 0, len(Kinds()))
	for _, k := range Kinds() {
		p := Preference{Kind: k, Inbox: true, Email: true}
		for _, r := range rows {
			if r.Kind == k {
				p.Inbox, p.Email = r.Inbox, r.Email
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// SetPreference sets the viewer's channels for one kind.
func SetPreference(ctx context.Context, client *ent.Client, p Preference) ([]Preference, error) {
	v := viewer.FromContext(ctx)
	if v == nil || !v.Authenticated() {
		return nil, apierr.New(apierr.Unauthenticated)
	}
	known := false
	for _, k := range Kinds() {
		known = known || k == p.Kind
	}
	if !known {
		return nil, apierr.BadInput(apierr.Field("/input/kind", "invalid"))
	}
	n, err := client.NotificationPreference.Update().
		Where(notificationpreference.UserID(v.UserID), notificationpreference.Kind(p.Kind)).
		SetInbox(p.Inbox).SetEmail(p.Email).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		err = client.NotificationPreference.Create().SetUserID(v.UserID).SetKind(p.Kind).
			SetInbox(p.Inbox).SetEmail(p.Email).Exec(ctx)
		if err != nil {
			return nil, err
		}
	}
	return Preferences(ctx, client)
}
