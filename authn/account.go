package authn

import (
	"context"
	"encoding/json"
	"entgo.io/ent/dialect"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/authn/totp"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/vault"
)

// current returns the signed-in user and tenant of r, read as the
// pre-authentication path does (restricted sessions included).
func (s *Service) current(ctx context.Context) (*ent.User, *ent.Tenant, error) {
	v := viewer.FromContext(ctx)
	pre := preAuth(ctx)
	u, err := s.client.User.Query().Where(user.ID(v.UserID)).WithTenant().Only(pre)
	if err != nil {
		return nil, nil, err
	}
	return u, u.Edges.Tenant, nil
}

type mfaRequest struct {
	Challenge    string `json:"challenge"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recoveryCode"`
}

// MFA handles POST /auth/mfa: the second step of a sign-in with a TOTP code
// or a recovery code. The challenge is single-use: a wrong code sends the
// user back to the password step.
func (s *Service) MFA() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req mfaRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := required("challenge", req.Challenge); err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.clock.Now()
		data, err := s.flows.Take(ctx, "mfa", req.Challenge, now)
		if errors.Is(err, ErrFlowNotFound) {
			s.fail(w, r, invalidCredentials())
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var ch mfaChallenge
		if err := json.Unmarshal(data, &ch); err != nil {
			s.fail(w, r, err)
			return
		}
		pre := preAuth(ctx)
		u, err := s.client.User.Query().Where(user.ID(ch.UserID)).WithTenant().Only(pre)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.throttleUser(ctx, u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		factor, ok, err := s.checkSecondFactor(pre, u, req.Code, req.RecoveryCode, now)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a := attempt{tenantID: u.TenantID, userID: u.ID, action: "login.mfa", factor: factor, result: "success", r: r}
		if !ok || u.Status != user.StatusActive {
			a.result = "wrong_code"
			if err := s.record(ctx, a, nil); err != nil {
				s.fail(w, r, err)
				return
			}
			s.fail(w, r, invalidCredentials())
			return
		}
		if err := s.record(ctx, a, nil); err != nil {
			s.fail(w, r, err)
			return
		}
		restriction := ""
		if u.MustChangePassword || passwordExpired(u.Edges.Tenant.Settings.WithDefaults().Auth.Password, u, now) {
			restriction = session.RestrictPasswordChange
		}
		resp, err := s.startSession(ctx, r, u.Edges.Tenant, u, "mfa", true, restriction)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		setSessionCookie(w, resp.Token, resp.ExpiresAt)
		writeJSON(w, resp)
	})
}

// checkSecondFactor checks a TOTP code (single-use: the step is claimed
// with a conditional update) or a recovery code (removed once used).
func (s *Service) checkSecondFactor(ctx context.Context, u *ent.User, code, recovery string, now time.Time) (string, bool, error) {
	if recovery != "" {
		used, err := s.useRecoveryCode(ctx, u.ID, recovery)
		return "recovery_code", used, err
	}
	secretText, err := s.openTOTPSecret(ctx, u)
	if err != nil || secretText == "" {
		return "totp", false, err
	}
	step, ok := totp.Verify(secretText, code, now, u.TotpLastStep)
	if !ok {
		return "totp", false, nil
	}
	n, err := s.client.User.Update().
		Where(user.ID(u.ID), user.TotpLastStepLT(step)).
		SetTotpLastStep(step).Save(ctx)
	return "totp", err == nil && n == 1, err
}

// useRecoveryCode removes a matching recovery code under a row lock, so a
// code works once even when two requests race.
func (s *Service) useRecoveryCode(ctx context.Context, id pulid.ID, code string) (bool, error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return false, err
	}
	q := tx.User.Query().Where(user.ID(id))
	if s.client.Dialect() == dialect.Postgres {
		q.ForUpdate() // SQLite transactions are exclusive already
	}
	u, err := q.Only(ctx)
	if err != nil {
		_ = tx.Rollback()
		return false, err
	}
	idx := totp.MatchRecoveryCode(u.RecoveryCodes, code)
	if idx < 0 {
		_ = tx.Rollback()
		return false, nil
	}
	left := append(append([][]byte{}, u.RecoveryCodes[:idx]...), u.RecoveryCodes[idx+1:]...)
	if err := tx.User.UpdateOneID(id).SetRecoveryCodes(left).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	return true, tx.Commit()
}

func (s *Service) openTOTPSecret(ctx context.Context, u *ent.User) (string, error) {
	if len(u.TotpSecret.Ciphertext()) == 0 {
		return "", nil
	}
	ref := vault.Ref{TenantID: string(u.TenantID), Table: "User", RowID: string(u.ID)}
	return s.client.Vault.OpenString(ctx, ref, u.DataKey, "totp_secret", u.TotpSecret.Ciphertext())
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// ChangePassword handles POST /auth/password for the signed-in user (also
// in a session restricted to this step). It needs the current password,
// checks the tenant's policy, ends the user's other sessions, and answers
// with a fresh session.
func (s *Service) ChangePassword() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req passwordChangeRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := required("currentPassword", req.CurrentPassword, "newPassword", req.NewPassword); err != nil {
			s.fail(w, r, err)
			return
		}
		u, t, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.throttleUser(ctx, u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		// One hashing slot for checking the current password and hashing
		// the new one.
		release, err := s.hashes.acquire(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		defer release()
		ok, err := s.checkPasswordAgain(ctx, u, t, req.CurrentPassword)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a := attempt{tenantID: t.ID, userID: u.ID, action: "password.change", factor: "password", result: "success", r: r}
		if !ok {
			release()
			a.result = "wrong_password"
			if err := s.record(ctx, a, nil); err != nil {
				s.fail(w, r, err)
				return
			}
			s.fail(w, r, apierr.BadInput(apierr.Field("/currentPassword", "wrong_password")))
			return
		}
		if err := s.CheckPassword(t, "/newPassword", req.NewPassword); err != nil {
			s.fail(w, r, err)
			return
		}
		hash, err := s.hasher.Hash(ctx, req.NewPassword)
		release()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.clock.Now()
		err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) error {
			return tx.User.UpdateOneID(u.ID).SetPasswordHash(hash).SetPasswordChangedAt(now).
				SetMustChangePassword(false).Exec(ctx)
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.sessions.RevokeUser(ctx, u.ID, ""); err != nil {
			s.fail(w, r, err)
			return
		}
		u.MustChangePassword = false
		restriction := ""
		need, err := s.mfaRequired(ctx, t.Settings.WithDefaults().Auth, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if need && u.TotpEnabledAt == nil {
			restriction = session.RestrictMFAEnrolment
		}
		// The password is a strong factor only for users who have no
		// second one.
		strong := !need && u.TotpEnabledAt == nil
		resp, err := s.startSession(ctx, r, t, u, "password", strong, restriction)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		setSessionCookie(w, resp.Token, resp.ExpiresAt)
		writeJSON(w, resp)
	})
}

// CheckPassword reports a password that breaks the tenant's policy as bad
// input at pointer.
func (s *Service) CheckPassword(t *ent.Tenant, pointer, pw string) error {
	policy := password.Policy{MinLength: t.Settings.WithDefaults().Auth.Password.MinLength}
	if p := policy.Check(pw, s.common); p != nil {
		return apierr.BadInput(apierr.Field(pointer, p.MessageKey, p.Params...))
	}
	return nil
}

// TOTPEnrolment is the answer to POST /auth/totp/enrol: the secret, shown
// once, and the otpauth URI for authenticator apps.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// totpEnrolTTL bounds the time between enrolment and its confirmation.
const totpEnrolTTL = 10 * time.Minute

// EnrolTOTP handles POST /auth/totp/enrol. Replacing an existing second
// factor needs a recent strong sign-in; a session restricted to enrolment
// may enrol the first one.
func (s *Service) EnrolTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := s.mayChangeFactors(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		u, t, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		email, err := s.client.Vault.OpenString(ctx, userRef(u), u.DataKey, "email", u.Email.Ciphertext())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		e, err := totp.NewEnrolment("Custos ("+t.Slug+")", email)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sealed, err := s.client.Vault.Seal(ctx, userRef(u), u.DataKey, "totp_pending", []byte(e.Secret))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// A new enrolment replaces an unconfirmed one.
		_, _ = s.flows.Take(ctx, "totp_enrol", string(u.ID), s.clock.Now())
		if err := s.flows.Put(ctx, "totp_enrol", string(u.ID), sealed, s.clock.Now().Add(totpEnrolTTL)); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, TOTPEnrolment{Secret: e.Secret, URI: e.URI})
	})
}

func userRef(u *ent.User) vault.Ref {
	return vault.Ref{TenantID: string(u.TenantID), Table: "User", RowID: string(u.ID)}
}

type codeRequest struct {
	Code string `json:"code"`
}

// TOTPConfirmation answers a confirmed enrolment: the recovery codes, shown
// once, and, for a session that was restricted to enrolment, a new session.
type TOTPConfirmation struct {
	RecoveryCodes []string       `json:"recoveryCodes"`
	Session       *LoginResponse `json:"session,omitempty"`
}

// ConfirmTOTP handles POST /auth/totp/confirm with a first code from the
// authenticator app; it turns the second factor on.
func (s *Service) ConfirmTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req codeRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.mayChangeFactors(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		u, t, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.clock.Now()
		sealed, err := s.flows.Take(ctx, "totp_enrol", string(u.ID), now)
		if errors.Is(err, ErrFlowNotFound) {
			s.fail(w, r, apierr.BadInput(apierr.Field("/code", "not_enrolled")))
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		secretText, err := s.client.Vault.OpenString(ctx, userRef(u), u.DataKey, "totp_pending", sealed)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		step, ok := totp.Verify(secretText, req.Code, now, 0)
		if !ok {
			s.fail(w, r, apierr.BadInput(apierr.Field("/code", "wrong_code")))
			return
		}
		codes, hashes, err := totp.NewRecoveryCodes()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a := attempt{tenantID: t.ID, userID: u.ID, action: "mfa.totp.enable", factor: "totp", result: "success", r: r}
		err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) error {
			return tx.User.UpdateOneID(u.ID).SetTotpSecret(secret.Plain(secretText)).SetTotpEnabledAt(now).
				SetTotpLastStep(step).SetRecoveryCodes(hashes).Exec(ctx)
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := TOTPConfirmation{RecoveryCodes: codes}
		if sess := SessionFrom(ctx); sess != nil {
			// A new authentication level gets a new token.
			restriction := ""
			if sess.Restriction == session.RestrictPasswordChange {
				restriction = sess.Restriction
			}
			if out.Session, err = s.rotate(w, r, t, u, "mfa", restriction); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		writeJSON(w, out)
	})
}

// DisableTOTP handles POST /auth/totp/disable; it needs a recent strong
// sign-in and is refused where the tenant requires a second factor.
func (s *Service) DisableTOTP() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := rule.RecentAuth(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		u, t, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if need, err := s.mfaRequired(ctx, t.Settings.WithDefaults().Auth, u); err != nil || need {
			if err == nil {
				err = apierr.BadInput(apierr.Field("", "mfa_required"))
			}
			s.fail(w, r, err)
			return
		}
		a := attempt{tenantID: t.ID, userID: u.ID, action: "mfa.totp.disable", factor: "totp", result: "success", r: r}
		err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) error {
			return tx.User.UpdateOneID(u.ID).ClearTotpSecret().ClearTotpEnabledAt().ClearRecoveryCodes().Exec(ctx)
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type stepUpRequest struct {
	Password     string `json:"password"`
	Code         string `json:"code"`
	RecoveryCode string `json:"recoveryCode"`
}

// StepUp handles POST /auth/step-up: the signed-in user proves a second
// factor again (or the password, when they have none and the tenant does
// not require one) and gets a new session token marked as freshly
// authenticated.
func (s *Service) StepUp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req stepUpRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		sess := SessionFrom(ctx)
		if sess == nil {
			s.fail(w, r, apierr.New(apierr.Forbidden))
			return
		}
		u, t, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.throttleUser(ctx, u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.clock.Now()
		var (
			factor string
			ok     bool
		)
		if u.TotpEnabledAt != nil {
			factor, ok, err = s.checkSecondFactor(preAuth(ctx), u, req.Code, req.RecoveryCode, now)
		} else {
			needs, merr := s.mfaRequired(ctx, t.Settings.WithDefaults().Auth, u)
			if merr != nil || needs {
				s.fail(w, r, apierr.New(apierr.ReauthRequired))
				return
			}
			factor = "password"
			var release func()
			if release, err = s.hashes.acquire(ctx); err != nil {
				s.fail(w, r, err)
				return
			}
			ok, err = s.checkPasswordAgain(ctx, u, t, req.Password)
			release()
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		a := attempt{tenantID: t.ID, userID: u.ID, action: "step_up", factor: factor, result: "success", r: r}
		if !ok {
			a.result = "failed"
		}
		if err := s.record(ctx, a, nil); err != nil {
			s.fail(w, r, err)
			return
		}
		if !ok {
			s.fail(w, r, apierr.New(apierr.ReauthRequired))
			return
		}
		resp, err := s.rotate(w, r, t, u, sess.Method, sess.Restriction)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, resp)
	})
}

// Unlock clears the lockout of a user: by time it clears itself, and user
// managers (GraphQL unlockUser) and the command line call this.
func Unlock(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.User, error) {
	u, err := client.User.UpdateOneID(id).SetFailedLogins(0).SetLockCount(0).ClearLockedUntil().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("unlocking user: %w", err)
	}
	return u, nil
}

// rotate replaces the request's session by a new one proven strongly just
// now: a session whose authentication level changes gets a new token.
func (s *Service) rotate(w http.ResponseWriter, r *http.Request, t *ent.Tenant, u *ent.User, method, restriction string) (*LoginResponse, error) {
	token, _ := credentials(r)
	if err := s.sessions.Revoke(r.Context(), token); err != nil {
		return nil, err
	}
	resp, err := s.startSession(r.Context(), r, t, u, method, true, restriction)
	if err != nil {
		return nil, err
	}
	setSessionCookie(w, resp.Token, resp.ExpiresAt)
	return resp, nil
}

// mayChangeFactors allows changes to second factors from a session (never an
// API token) that either is restricted to enrolling the first one or
// authenticated strongly within the step-up window.
func (s *Service) mayChangeFactors(ctx context.Context) error {
	sess := SessionFrom(ctx)
	if sess == nil {
		return apierr.New(apierr.Forbidden)
	}
	if sess.Restriction == session.RestrictMFAEnrolment {
		return nil
	}
	return rule.RecentAuth(ctx)
}

// throttleUser bounds second-factor and re-authentication attempts per user
// (the account limit per minute), answering RATE_LIMITED past it.
func (s *Service) throttleUser(ctx context.Context, id pulid.ID) error {
	wait, err := s.throttle.AttemptKey(ctx, "throttle:user", string(id), s.clock.Now())
	if err != nil {
		return err
	}
	if wait > 0 {
		e := apierr.New(apierr.RateLimited)
		e.RetryAfterSeconds = int(wait.Seconds()) + 1
		return e
	}
	return nil
}
