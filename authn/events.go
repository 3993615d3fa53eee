package authn

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/audit"
)

// attempt describes one authentication attempt for the audit trail.
type attempt struct {
	tenantID pulid.ID
	userID   pulid.ID
	action   string // e.g. login.password, mfa.totp, password.change
	result   string // success, wrong_password, locked, disabled, unknown_user, ...
	factor   string // password, totp, recovery_code, passkey, sso
	r        *http.Request
}

func value(v string) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// record writes an auth event for a, together with whatever change fn makes
// (such as lock counters), in one transaction. Attempts against unknown
// tenants have no chain to join; they are logged instead.
func (s *Service) record(ctx context.Context, a attempt, fn func(ctx context.Context, tx *ent.Tx) error) error {
	if a.tenantID == "" {
		s.logger.InfoContext(ctx, "sign-in attempt for an unknown tenant", "action", a.action, "result", a.result)
		return nil
	}
	ctx = preAuth(ctx)
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	if fn != nil {
		if err := fn(ctx, tx); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	ua := ""
	if a.r != nil {
		ua = a.r.UserAgent()
		if len(ua) > 256 {
			ua = ua[:256]
		}
	}
	err = audit.Write(ctx, tx, audit.Event{
		TenantID: a.tenantID, Category: auditevent.CategoryAuth, Action: a.action,
		EntityType: entityOf(a.userID), EntityID: a.userID, ActorID: a.userID,
		Changes: []audit.Change{
			{Field: "result", After: value(a.result)},
			{Field: "factor", After: value(a.factor)},
			{Field: "userAgent", After: value(ua)},
		},
	})
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("recording sign-in: %w", err)
	}
	return tx.Commit()
}

func entityOf(userID pulid.ID) string {
	if userID == "" {
		return ""
	}
	return "User"
}

// securityEvent writes a security event (a lockout, a cloned passkey) in tx.
func securityEvent(ctx context.Context, tx *ent.Tx, tenantID, userID pulid.ID, action string, changes ...audit.Change) error {
	return audit.Write(ctx, tx, audit.Event{
		TenantID: tenantID, Category: auditevent.CategorySecurity, Action: action,
		EntityType: "User", EntityID: userID, ActorID: userID, Changes: changes,
	})
}
