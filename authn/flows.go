package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/custos-crm/custos/authn/passkey"
	"github.com/custos-crm/custos/ent"
)

// ErrFlowNotFound is returned for a sign-in step that is unknown, already
// used or expired.
var ErrFlowNotFound = errors.New("authn: sign-in step not found or expired")

// Flows keeps the short-lived, single-use state of sign-in steps (MFA
// challenges, passkey ceremonies, OpenID Connect logins, pending TOTP
// enrolments) in the auth_flows table, keyed by a hash of the token the
// browser holds.
type Flows struct {
	client *ent.Client
}

// NewFlows returns a Flows on client.
func NewFlows(client *ent.Client) *Flows { return &Flows{client: client} }

func flowKey(kind, token string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + token))
	return hex.EncodeToString(sum[:])
}

// Put stores data for the step kind under token until expires.
func (f *Flows) Put(ctx context.Context, kind, token string, data []byte, expires time.Time) error {
	_, err := f.client.ExecContext(ctx,
		`INSERT INTO auth_flows (id, kind, data, expires_at) VALUES ($1, $2, $3, $4)`,
		flowKey(kind, token), kind, data, expires.UTC())
	if err != nil {
		return fmt.Errorf("storing sign-in step: %w", err)
	}
	return nil
}

// Take returns and deletes the data of a step; a step can be taken once.
// Expired rows are swept as a side effect.
func (f *Flows) Take(ctx context.Context, kind, token string, now time.Time) ([]byte, error) {
	rows, err := f.client.QueryContext(ctx,
		`DELETE FROM auth_flows WHERE id = $1 RETURNING data, expires_at`, flowKey(kind, token))
	if err != nil {
		return nil, fmt.Errorf("taking sign-in step: %w", err)
	}
	var (
		data    []byte
		expires time.Time
		found   bool
	)
	if rows.Next() {
		found = true
		if err := rows.Scan(&data, &expires); err != nil {
			rows.Close()
			return nil, err
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if _, err := f.client.ExecContext(ctx, `DELETE FROM auth_flows WHERE expires_at < $1`, now.UTC()); err != nil {
		return nil, fmt.Errorf("sweeping sign-in steps: %w", err)
	}
	if !found || !now.Before(expires) {
		return nil, ErrFlowNotFound
	}
	return data, nil
}

// ceremonies adapts Flows to the passkey package.
type ceremonies struct{ flows *Flows }

var _ passkey.Ceremonies = ceremonies{}

func (c ceremonies) Put(ctx context.Context, id string, data []byte, expires time.Time) error {
	return c.flows.Put(ctx, "passkey", id, data, expires)
}

func (c ceremonies) Take(ctx context.Context, id string, now time.Time) ([]byte, error) {
	data, err := c.flows.Take(ctx, "passkey", id, now)
	if errors.Is(err, ErrFlowNotFound) {
		return nil, passkey.ErrCeremonyNotFound
	}
	return data, err
}
