package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/custos-crm/custos/authn/passkey"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	entpasskey "github.com/custos-crm/custos/ent/passkey"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/audit"
)

// passkeyUser returns the WebAuthn view of a user with their usable
// passkeys.
func (s *Service) passkeyUser(ctx context.Context, u *ent.User) (passkey.User, error) {
	pre := preAuth(ctx)
	keys, err := s.client.Passkey.Query().Where(entpasskey.UserID(u.ID), entpasskey.BlockedAtIsNil()).All(pre)
	if err != nil {
		return passkey.User{}, err
	}
	name := string(u.ID)
	if email, err := s.client.Vault.OpenString(ctx, userRef(u), u.DataKey, "email", u.Email.Ciphertext()); err == nil {
		name = email
	}
	pu := passkey.User{ID: []byte(u.ID), Name: name, DisplayName: u.Name}
	for _, k := range keys {
		pu.Credentials = append(pu.Credentials, passkey.Credential{
			ID: k.CredentialID, PublicKey: k.PublicKey, AttestationType: k.AttestationType, AAGUID: k.Aaguid,
			SignCount: k.SignCount, Transports: k.Transports, BackupEligible: k.BackupEligible,
			BackupState: k.BackupState, UserVerified: true, Name: k.Name,
		})
	}
	return pu, nil
}

func (s *Service) passkeysOn(w http.ResponseWriter, r *http.Request) bool {
	if s.passkeys == nil {
		s.fail(w, r, apierr.New(apierr.NotFound))
		return false
	}
	return true
}

// CeremonyStart is what a ceremony's first step returns: pass options to
// navigator.credentials (after PublicKeyCredential.parse…OptionsFromJSON)
// and send the ceremony id back with the result.
type CeremonyStart struct {
	Ceremony string          `json:"ceremony"`
	Options  json.RawMessage `json:"options"`
}

// BeginPasskeyRegistration handles POST /auth/webauthn/register/begin for
// the signed-in user. Adding a passkey needs a recent strong sign-in, except
// in a session restricted to enrolling a second factor.
func (s *Service) BeginPasskeyRegistration() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.passkeysOn(w, r) {
			return
		}
		ctx := r.Context()
		if err := s.mayChangeFactors(ctx); err != nil {
			s.fail(w, r, err)
			return
		}
		u, _, err := s.current(ctx)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		pu, err := s.passkeyUser(ctx, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		id, options, err := s.passkeys.BeginRegistration(ctx, pu, s.clock.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, CeremonyStart{Ceremony: id, Options: options})
	})
}

type ceremonyFinish struct {
	Ceremony   string          `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
	Name       string          `json:"name"`
}

// PasskeyRegistered answers a finished registration.
type PasskeyRegistered struct {
	ID      pulid.ID       `json:"id"`
	Name    string         `json:"name"`
	Session *LoginResponse `json:"session,omitempty"`
}

// FinishPasskeyRegistration handles POST /auth/webauthn/register/finish.
// User verification is required.
func (s *Service) FinishPasskeyRegistration() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.passkeysOn(w, r) {
			return
		}
		ctx := r.Context()
		var req ceremonyFinish
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := required("ceremony", req.Ceremony); err != nil {
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
		pu, err := s.passkeyUser(ctx, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		cred, err := s.passkeys.FinishRegistration(ctx, pu, req.Ceremony, req.Credential, s.clock.Now())
		if err != nil {
			s.logger.InfoContext(ctx, "passkey registration refused", "error", err.Error())
			s.fail(w, r, ceremonyError(err))
			return
		}
		name := req.Name
		if name == "" {
			name = "Passkey"
		}
		var saved *ent.Passkey
		a := attempt{tenantID: t.ID, userID: u.ID, action: "passkey.register", factor: "passkey", result: "success", r: r}
		err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) (err error) {
			saved, err = tx.Passkey.Create().SetTenantID(u.TenantID).SetUserID(u.ID).SetName(name).
				SetCredentialID(cred.ID).SetPublicKey(cred.PublicKey).SetAttestationType(cred.AttestationType).
				SetAaguid(cred.AAGUID).SetSignCount(cred.SignCount).SetTransports(cred.Transports).
				SetBackupEligible(cred.BackupEligible).SetBackupState(cred.BackupState).Save(ctx)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out := PasskeyRegistered{ID: saved.ID, Name: saved.Name}
		if sess := SessionFrom(ctx); sess != nil && sess.Restriction == session.RestrictMFAEnrolment {
			if out.Session, err = s.rotate(w, r, t, u, "passkey", ""); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		writeJSON(w, out)
	})
}

// ceremonyError turns ceremony failures into client errors.
func ceremonyError(err error) error {
	switch {
	case errors.Is(err, passkey.ErrUserNotVerified):
		return apierr.BadInput(apierr.Field("/credential", "user_verification_required"))
	case errors.Is(err, passkey.ErrCeremonyNotFound):
		return apierr.BadInput(apierr.Field("/ceremony", "expired"))
	case errors.Is(err, passkey.ErrCredentialExists):
		return apierr.BadInput(apierr.Field("/credential", "taken"))
	}
	return apierr.Wrap(apierr.BadUserInput, err)
}

// BeginPasskeyLogin handles POST /auth/webauthn/login/begin: a username-less
// sign-in with a discoverable credential and user verification.
func (s *Service) BeginPasskeyLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.passkeysOn(w, r) {
			return
		}
		id, options, err := s.passkeys.BeginLogin(r.Context(), s.clock.Now())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, CeremonyStart{Ceremony: id, Options: options})
	})
}

// FinishPasskeyLogin handles POST /auth/webauthn/login/finish. Every failure
// answers like a wrong password; a sign counter that went backwards blocks
// the passkey and raises a security event.
func (s *Service) FinishPasskeyLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.passkeysOn(w, r) {
			return
		}
		ctx := r.Context()
		var req ceremonyFinish
		if err := DecodeJSON(r.Body, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		pre := preAuth(ctx)
		var found *ent.User
		lookup := func(ctx context.Context, handle []byte) (passkey.User, error) {
			u, err := s.client.User.Query().Where(user.ID(pulid.ID(handle))).WithTenant().Only(pre)
			if ent.IsNotFound(err) {
				return passkey.User{}, passkey.ErrUnknownCredential
			}
			if err != nil {
				return passkey.User{}, err
			}
			found = u
			return s.passkeyUser(ctx, u)
		}
		now := s.clock.Now()
		_, cred, err := s.passkeys.FinishLogin(ctx, req.Ceremony, req.Credential, lookup, now)
		if found == nil {
			if err == nil {
				err = passkey.ErrUnknownCredential
			}
			s.logger.InfoContext(ctx, "passkey sign-in failed", "error", err.Error())
			s.fail(w, r, invalidCredentials())
			return
		}
		a := attempt{tenantID: found.TenantID, userID: found.ID, action: "login.passkey", factor: "passkey", result: "success", r: r}
		t := found.Edges.Tenant
		switch {
		case errors.Is(err, passkey.ErrCloneDetected):
			a.result = "cloned_authenticator"
			err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) error {
				pk, err := tx.Passkey.Query().Where(entpasskey.CredentialID(cred.ID)).Only(ctx)
				if err != nil {
					return err
				}
				if err := tx.Passkey.UpdateOne(pk).SetBlockedAt(now).Exec(ctx); err != nil {
					return err
				}
				return securityEvent(ctx, tx, found.TenantID, found.ID, "passkey.clone_detected",
					audit.Change{Field: "signCount", After: value(fmt.Sprint(cred.SignCount))})
			})
			if err != nil {
				s.fail(w, r, err)
				return
			}
			s.fail(w, r, invalidCredentials())
			return
		case err != nil:
			a.result = "failed"
		case found.Status != user.StatusActive || t == nil || t.Status != tenant.StatusActive:
			a.result = "disabled"
		}
		if a.result != "success" {
			if rerr := s.record(ctx, a, nil); rerr != nil {
				s.fail(w, r, rerr)
				return
			}
			s.fail(w, r, invalidCredentials())
			return
		}
		err = s.record(ctx, a, func(ctx context.Context, tx *ent.Tx) error {
			_, err := tx.Passkey.Update().Where(entpasskey.CredentialID(cred.ID)).
				SetSignCount(cred.SignCount).SetBackupState(cred.BackupState).SetLastUsedAt(now).Save(ctx)
			return err
		})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		restriction := ""
		if found.MustChangePassword {
			restriction = session.RestrictPasswordChange
		}
		resp, err := s.startSession(ctx, r, t, found, "passkey", true, restriction)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		setSessionCookie(w, resp.Token, resp.ExpiresAt)
		writeJSON(w, resp)
	})
}
