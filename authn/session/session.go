// Package session owns sign-in sessions: opaque tokens drawn from crypto/rand
// of which only a SHA-256 hash is stored, their lifetime, the throttled
// last-seen time, and revocation. It is the only user of the
// pre-authentication context, which it needs to find a session before any
// viewer exists.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	entsession "github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/internal/clock"
)

// CookieName is the name of the session cookie. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const CookieName = "__Host-custos_session"

// DefaultLifetime is how long a session lasts after sign-in.
const DefaultLifetime = 12 * time.Hour

// touchInterval is how stale last_seen_at may get before a request updates
// it; it keeps most requests free of writes.
const touchInterval = time.Minute

// ErrInvalid is returned for a token that is unknown, expired or revoked.
var ErrInvalid = errors.New("session: invalid or expired token")

// Manager creates, finds and ends sessions.
type Manager struct {
	client *ent.Client
	clock  clock.Clock
}

// NewManager returns a Manager.
func NewManager(client *ent.Client, clk clock.Clock) *Manager {
	return &Manager{client: client, clock: clk}
}

// HashToken returns the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewToken returns a fresh opaque token: 256 random bits, base64url.
func NewToken() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("drawing token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// Restrictions a session can carry.
const (
	RestrictPasswordChange = "password_change"
	RestrictMFAEnrolment   = "mfa_enrolment"
)

// New describes a session to start.
type New struct {
	TenantID, UserID pulid.ID
	// Lifetime is the absolute lifetime (the tenant's setting).
	Lifetime time.Duration
	// Method says how the user signed in: password, mfa, passkey, sso.
	Method string
	// Strong marks a sign-in that proved a strong factor, for step-up.
	Strong bool
	// Restriction, when set, limits the session to one step.
	Restriction   string
	IP, UserAgent string
}

// Create starts a session and returns its token, which is shown to the
// client once and never stored.
func (m *Manager) Create(ctx context.Context, n New) (string, time.Time, error) {
	token, err := NewToken()
	if err != nil {
		return "", time.Time{}, err
	}
	now := m.clock.Now()
	if n.Lifetime <= 0 {
		n.Lifetime = DefaultLifetime
	}
	expires := now.Add(n.Lifetime)
	ua := n.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	c := m.client.Session.Create().
		SetTenantID(n.TenantID).
		SetUserID(n.UserID).
		SetTokenHash(HashToken(token)).
		SetLastSeenAt(now).
		SetExpiresAt(expires).
		SetMethod(n.Method).
		SetIP(n.IP).
		SetUserAgent(ua)
	if n.Strong {
		c.SetStrongAuthAt(now)
	}
	if n.Restriction != "" {
		c.SetRestriction(n.Restriction)
	}
	if _, err := c.Save(rule.NewPreAuthContext(ctx)); err != nil {
		return "", time.Time{}, fmt.Errorf("storing session: %w", err)
	}
	return token, expires, nil
}

// Lookup returns the live session for token, or ErrInvalid for unknown,
// expired, idle and revoked tokens. idle is the tenant's idle timeout (0:
// none); it is checked against the last-seen time, which Touch keeps.
func (m *Manager) Lookup(ctx context.Context, token string) (*ent.Session, error) {
	if token == "" {
		return nil, ErrInvalid
	}
	s, err := m.client.Session.Query().Where(entsession.TokenHash(HashToken(token))).Only(rule.NewPreAuthContext(ctx))
	if ent.IsNotFound(err) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("looking up session: %w", err)
	}
	if s.RevokedAt != nil || !m.clock.Now().Before(s.ExpiresAt) {
		return nil, ErrInvalid
	}
	return s, nil
}

// Idle reports whether s has been unused for longer than idle.
func (m *Manager) Idle(s *ent.Session, idle time.Duration) bool {
	return idle > 0 && m.clock.Now().Sub(s.LastSeenAt) > idle
}

// Touch records that s was used, at most once a minute.
func (m *Manager) Touch(ctx context.Context, s *ent.Session) error {
	now := m.clock.Now()
	if now.Sub(s.LastSeenAt) < touchInterval {
		return nil
	}
	if err := m.client.Session.UpdateOneID(s.ID).SetLastSeenAt(now).Exec(rule.NewPreAuthContext(ctx)); err != nil {
		return fmt.Errorf("touching session: %w", err)
	}
	s.LastSeenAt = now
	return nil
}

// Revoke ends the session for token. Ending an unknown session is not an
// error.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	_, err := m.client.Session.Update().
		Where(entsession.TokenHash(HashToken(token)), entsession.RevokedAtIsNil()).
		SetRevokedAt(m.clock.Now()).
		Save(rule.NewPreAuthContext(ctx))
	if err != nil {
		return fmt.Errorf("revoking session: %w", err)
	}
	return nil
}

// RevokeUser ends every session of a user except keep (which may be empty).
func (m *Manager) RevokeUser(ctx context.Context, userID, keep pulid.ID) error {
	q := m.client.Session.Update().Where(entsession.UserID(userID), entsession.RevokedAtIsNil())
	if keep != "" {
		q.Where(entsession.IDNEQ(keep))
	}
	if _, err := q.SetRevokedAt(m.clock.Now()).Save(rule.NewPreAuthContext(ctx)); err != nil {
		return fmt.Errorf("revoking sessions: %w", err)
	}
	return nil
}
