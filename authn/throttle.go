package authn

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/internal/vault"
)

// ThrottleLimits are the sign-in attempts allowed per minute. The defaults
// never throttle ten attempts a minute from one address; guessing against
// one account is handled by the lockout.
type ThrottleLimits struct {
	PerIP      int
	PerTenant  int
	PerAccount int
}

// DefaultThrottleLimits returns the documented defaults.
func DefaultThrottleLimits() ThrottleLimits {
	return ThrottleLimits{PerIP: 20, PerTenant: 300, PerAccount: 10}
}

// throttleWindow is the length of one counting window.
const throttleWindow = time.Minute

// Throttle counts sign-in attempts in the database, so every server behind a
// load balancer sees the same counts. Keys are fingerprints (keyed hashes),
// never addresses or emails.
type Throttle struct {
	client *ent.Client
	vault  *vault.Vault
	limits ThrottleLimits
}

// NewThrottle returns a Throttle.
func NewThrottle(client *ent.Client, v *vault.Vault, limits ThrottleLimits) *Throttle {
	return &Throttle{client: client, vault: v, limits: limits}
}

// AttemptKey counts one attempt under a single key (such as a user's second
// factor) with the per-account limit.
func (t *Throttle) AttemptKey(ctx context.Context, purpose, value string, now time.Time) (time.Duration, error) {
	return t.count(ctx, now, []check{{purpose, value, t.limits.PerAccount}})
}

type check struct {
	purpose, value string
	limit          int
}

// Attempt counts one attempt for the address, the tenant and the account
// (tenant and normalised email, known or not) and reports how long to wait
// when any limit is exceeded.
func (t *Throttle) Attempt(ctx context.Context, ip, tenantSlug, email string, now time.Time) (time.Duration, error) {
	return t.count(ctx, now, []check{
		{"throttle:ip", ip, t.limits.PerIP},
		{"throttle:tenant", tenantSlug, t.limits.PerTenant},
		{"throttle:account", tenantSlug + "\x00" + email, t.limits.PerAccount},
	})
}

// count adds one to each key's counter in the current window and reports
// how long to wait when any is past its limit.
func (t *Throttle) count(ctx context.Context, now time.Time, checks []check) (time.Duration, error) {
	window := now.Unix() / int64(throttleWindow/time.Second)
	retry := time.Unix((window+1)*int64(throttleWindow/time.Second), 0).Sub(now)
	var limited bool
	for i, c := range checks {
		if c.limit <= 0 {
			continue
		}
		rows, err := t.client.QueryContext(ctx,
			`INSERT INTO login_throttles (key, window_start, count) VALUES ($1, $2, 1)
			 ON CONFLICT (key, window_start) DO UPDATE SET count = login_throttles.count + 1 RETURNING count`,
			t.vault.Fingerprint(c.purpose, c.value), window)
		if err != nil {
			return 0, fmt.Errorf("counting sign-in attempts: %w", err)
		}
		var n int
		if rows.Next() {
			err = rows.Scan(&n)
		}
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return 0, fmt.Errorf("counting sign-in attempts: %w", err)
		}
		if i == 0 && n == 1 {
			// A new window for this address: sweep windows long gone.
			if _, err := t.client.ExecContext(ctx, `DELETE FROM login_throttles WHERE window_start < $1`, window-60); err != nil {
				return 0, fmt.Errorf("sweeping sign-in counts: %w", err)
			}
		}
		limited = limited || n > c.limit
	}
	if limited {
		return retry, nil
	}
	return 0, nil
}
