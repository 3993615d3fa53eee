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
	client   *ent.Client
	clock    clock.Clock
	lifetime time.Duration
}

// NewManager returns a Manager whose sessions last lifetime.
func NewManager(client *ent.Client, clk clock.Clock, lifetime time.Duration) *Manager {
	return &Manager{client: client, clock: clk, lifetime: lifetime}
}

// HashToken returns the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Create starts a session for a user and returns its token, which is shown
// to the client once and never stored.
func (m *Manager) Create(ctx context.Context, tenantID, userID pulid.ID) (string, time.Time, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("drawing session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := m.clock.Now()
	expires := now.Add(m.lifetime)
	_, err := m.client.Session.Create().
		SetTenantID(tenantID).
		SetUserID(userID).
		SetTokenHash(HashToken(token)).
		SetLastSeenAt(now).
		SetExpiresAt(expires).
		Save(rule.NewPreAuthContext(ctx))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("storing session: %w", err)
	}
	return token, expires, nil
}

// Lookup returns the live session for token, updating its last-seen time at
// most once a minute. It returns ErrInvalid for unknown, expired and revoked
// tokens.
func (m *Manager) Lookup(ctx context.Context, token string) (*ent.Session, error) {
	if token == "" {
		return nil, ErrInvalid
	}
	ctx = rule.NewPreAuthContext(ctx)
	s, err := m.client.Session.Query().Where(entsession.TokenHash(HashToken(token))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("looking up session: %w", err)
	}
	now := m.clock.Now()
	if s.RevokedAt != nil || !now.Before(s.ExpiresAt) {
		return nil, ErrInvalid
	}
	if now.Sub(s.LastSeenAt) >= touchInterval {
		err := m.client.Session.UpdateOneID(s.ID).SetLastSeenAt(now).Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("touching session: %w", err)
		}
		s.LastSeenAt = now
	}
	return s, nil
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
