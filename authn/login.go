package authn

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/role"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/settings"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/requestinfo"
)

type loginRequest struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// LoginResponse is what a successful first step of sign-in returns: a
// session, or a challenge for the second factor.
type LoginResponse struct {
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Restriction, when set, limits the session to one step:
	// password_change or mfa_enrolment.
	Restriction string `json:"restriction,omitempty"`
	// MFARequired means: send the challenge and a code to POST /auth/mfa.
	MFARequired bool   `json:"mfaRequired,omitempty"`
	Challenge   string `json:"challenge,omitempty"`
}

// mfaChallengeTTL bounds the time between password and second factor.
const mfaChallengeTTL = 5 * time.Minute

// Login handles POST /auth/login. Every failure — unknown tenant, unknown
// user, disabled user, wrong password, locked password — gets the same
// status and body apart from the request id, and costs one argon2id
// verification. Attempts are throttled by address, tenant and account.
func (s *Service) Login() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var req loginRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := required("tenant", req.Tenant, "email", req.Email, "password", req.Password); err != nil {
			s.fail(w, r, err)
			return
		}
		slug := strings.TrimSpace(req.Tenant)
		info := requestinfo.FromContext(ctx)
		now := s.clock.Now()
		// The account key is normalised exactly as the email's blind index
		// is, so spelling variants count as one account.
		norm, ok := normalize.Email(normalize.Text(req.Email))
		if !ok {
			norm = strings.ToLower(normalize.Text(req.Email))
		}
		wait, err := s.throttle.Attempt(ctx, info.ClientIP, slug, norm, now)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if wait > 0 {
			e := apierr.New(apierr.RateLimited)
			e.RetryAfterSeconds = int(wait.Seconds()) + 1
			s.fail(w, r, e)
			return
		}
		resp, err := s.passwordLogin(ctx, r, slug, req.Email, req.Password)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if resp.Token != "" {
			setSessionCookie(w, resp.Token, resp.ExpiresAt)
		}
		writeJSON(w, resp)
	})
}

// passwordLogin runs the password step and decides what comes next.
func (s *Service) passwordLogin(ctx context.Context, r *http.Request, slug, email, pw string) (*LoginResponse, error) {
	now := s.clock.Now()
	t, u, err := s.findUser(ctx, slug, email)
	if err != nil {
		return nil, err
	}
	// A slot for the hash first: an attempt refused for load costs no
	// argon2id work and is not counted against the account.
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	if u == nil || u.PasswordHash == "" {
		err := s.hasher.VerifyDummy(ctx, pw)
		release()
		if err != nil {
			return nil, err
		}
		a := attempt{action: "login.password", result: "unknown_user", factor: "password", r: r}
		if t != nil {
			a.tenantID = t.ID
		}
		if err := s.record(ctx, a, nil); err != nil {
			return nil, err
		}
		return nil, invalidCredentials()
	}
	// Claim the attempt before verifying, so that concurrent guesses cannot
	// outrun the lock: a locked password claims nothing.
	claimed, err := s.claimAttempt(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	release()
	if err != nil {
		return nil, fmt.Errorf("verifying password: %w", err)
	}
	cfg := t.Settings.WithDefaults().Auth
	a := attempt{tenantID: t.ID, userID: u.ID, action: "login.password", factor: "password", r: r}
	switch {
	case u.Status != user.StatusActive || t.Status != tenant.StatusActive:
		a.result = "disabled"
	case !claimed:
		a.result = "locked"
	case !ok:
		a.result = "wrong_password"
	case cfg.SSOOnly && !slices.Contains(cfg.BreakGlassUserIDs, u.ID):
		a.result = "sso_only"
	default:
		a.result = "success"
	}
	if a.result != "success" {
		var lock func(ctx context.Context, tx *ent.Tx) error
		if a.result == "wrong_password" {
			lock = func(ctx context.Context, tx *ent.Tx) error { return s.lockIfDue(ctx, tx, u.ID, cfg.Lockout, now) }
		}
		if err := s.record(ctx, a, lock); err != nil {
			return nil, err
		}
		return nil, invalidCredentials()
	}
	reset := func(ctx context.Context, tx *ent.Tx) error {
		return tx.User.UpdateOneID(u.ID).SetFailedLogins(0).SetLockCount(0).ClearLockedUntil().Exec(ctx)
	}
	if u.TotpEnabledAt != nil {
		a.result = "second_factor_required"
		if err := s.record(ctx, a, reset); err != nil {
			return nil, err
		}
		challenge := rand.Text()
		data, _ := json.Marshal(mfaChallenge{TenantID: t.ID, UserID: u.ID})
		expires := now.Add(mfaChallengeTTL)
		if err := s.flows.Put(ctx, "mfa", challenge, data, expires); err != nil {
			return nil, err
		}
		return &LoginResponse{MFARequired: true, Challenge: challenge, ExpiresAt: expires}, nil
	}
	if err := s.record(ctx, a, reset); err != nil {
		return nil, err
	}
	restriction := ""
	needsMFA, err := s.mfaRequired(ctx, cfg, u)
	if err != nil {
		return nil, err
	}
	switch {
	case u.MustChangePassword || passwordExpired(cfg.Password, u, now):
		restriction = session.RestrictPasswordChange
	case needsMFA:
		restriction = session.RestrictMFAEnrolment
	}
	// Without a second factor in a tenant that does not require one, the
	// password is the strongest factor the user has.
	return s.startSession(ctx, r, t, u, "password", !needsMFA, restriction)
}

type mfaChallenge struct {
	TenantID pulid.ID `json:"tenantID"`
	UserID   pulid.ID `json:"userID"`
}

// startSession opens a session and returns its login response.
func (s *Service) startSession(ctx context.Context, r *http.Request, t *ent.Tenant, u *ent.User, method string, strong bool, restriction string) (*LoginResponse, error) {
	cfg := t.Settings.WithDefaults().Auth
	info := requestinfo.FromContext(ctx)
	token, expires, err := s.sessions.Create(ctx, session.New{
		TenantID: t.ID, UserID: u.ID, Method: method, Strong: strong, Restriction: restriction,
		Lifetime: time.Duration(cfg.Sessions.AbsoluteHours) * time.Hour,
		IP:       info.ClientIP, UserAgent: r.UserAgent(),
	})
	if err != nil {
		return nil, err
	}
	return &LoginResponse{Token: token, ExpiresAt: expires.UTC(), Restriction: restriction}, nil
}

// claimAttempt counts a password attempt against the user unless the
// password is locked; it reports whether the attempt may proceed. The
// conditional update makes concurrent attempts count one by one.
func (s *Service) claimAttempt(ctx context.Context, id pulid.ID, now time.Time) (bool, error) {
	n, err := s.client.User.Update().
		Where(user.ID(id), user.Or(user.LockedUntilIsNil(), user.LockedUntilLTE(now))).
		AddFailedLogins(1).Save(preAuth(ctx))
	if err != nil {
		return false, fmt.Errorf("counting sign-in attempt: %w", err)
	}
	return n == 1, nil
}

// lockIfDue locks the password factor once the claimed failures reach the
// tenant's limit, for a time that doubles with each lock up to the cap.
func (s *Service) lockIfDue(ctx context.Context, tx *ent.Tx, id pulid.ID, lockout settings.Lockout, now time.Time) error {
	u, err := tx.User.Query().Where(user.ID(id)).Only(ctx)
	if err != nil {
		return err
	}
	if u.FailedLogins < lockout.MaxFailures || (u.LockedUntil != nil && now.Before(*u.LockedUntil)) {
		return nil
	}
	d := time.Duration(lockout.LockMinutes) * time.Minute
	for i := 0; i < u.LockCount && d < time.Duration(lockout.MaxLockHours)*time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Duration(lockout.MaxLockHours)*time.Hour)
	until := now.Add(d)
	if err := tx.User.UpdateOneID(id).SetFailedLogins(0).AddLockCount(1).SetLockedUntil(until).Exec(ctx); err != nil {
		return fmt.Errorf("locking password: %w", err)
	}
	return securityEvent(ctx, tx, u.TenantID, u.ID, "lockout",
		audit.Change{Field: "lockedUntil", After: value(until.UTC().Format(time.RFC3339))},
		audit.Change{Field: "lockMinutes", After: value(strconv.Itoa(int(d.Minutes())))})
}

// checkPasswordAgain verifies the password of a signed-in user (step-up,
// password change) under the same lockout as sign-in. The caller holds a
// hashing slot.
func (s *Service) checkPasswordAgain(ctx context.Context, u *ent.User, t *ent.Tenant, pw string) (bool, error) {
	now := s.clock.Now()
	claimed, err := s.claimAttempt(ctx, u.ID, now)
	if err != nil {
		return false, err
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, pw)
	if err != nil || !claimed {
		return false, err
	}
	if ok {
		return true, s.client.User.UpdateOneID(u.ID).SetFailedLogins(0).Exec(preAuth(ctx))
	}
	tx, err := s.client.Tx(preAuth(ctx))
	if err != nil {
		return false, err
	}
	if err := s.lockIfDue(preAuth(ctx), tx, u.ID, t.Settings.WithDefaults().Auth.Lockout, now); err != nil {
		_ = tx.Rollback()
		return false, err
	}
	return false, tx.Commit()
}

// mfaRequired reports whether the tenant requires u to have a second
// factor.
func (s *Service) mfaRequired(ctx context.Context, cfg settings.Auth, u *ent.User) (bool, error) {
	switch cfg.MFA {
	case settings.MFAEveryone:
		return true, nil
	case settings.MFAAdmins:
		return s.client.RoleGrant.Query().
			Where(rolegrant.UserID(u.ID), rolegrant.HasRoleWith(role.Builtin("admin"))).
			Exist(preAuth(ctx))
	}
	return false, nil
}

func passwordExpired(p settings.PasswordPolicy, u *ent.User, now time.Time) bool {
	if p.MaxAgeDays <= 0 || u.PasswordChangedAt == nil {
		return false
	}
	return now.Sub(*u.PasswordChangedAt) > time.Duration(p.MaxAgeDays)*24*time.Hour
}

// findUser returns the tenant of slug and its user with email; either is
// nil when unknown. Emails are found through their blind index, which
// needs the tenant first.
func (s *Service) findUser(ctx context.Context, slug, email string) (*ent.Tenant, *ent.User, error) {
	ctx = preAuth(ctx)
	t, err := s.client.Tenant.Query().Where(tenant.Slug(slug)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("looking up tenant: %w", err)
	}
	idx, ok, err := personal.QueryIndex(ctx, s.client, s.client.Vault, t.ID, personal.Email, email)
	if err != nil || !ok {
		return t, nil, err
	}
	u, err := s.client.User.Query().Where(user.TenantID(t.ID), user.EmailBidx(idx)).Only(ctx)
	if ent.IsNotFound(err) {
		return t, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("looking up user: %w", err)
	}
	return t, u, nil
}
