package authn

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-crm/custos/authn/oidc"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/department"
	"github.com/custos-crm/custos/ent/externalidentity"
	"github.com/custos-crm/custos/ent/identityprovider"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/vault"
)

// ProviderLink is a sign-in button for the login page.
type ProviderLink struct {
	Name     string `json:"name"`
	LoginURL string `json:"loginURL"`
}

// Providers handles GET /auth/providers?tenant=SLUG: the enabled identity
// providers of a tenant, for the login page. An unknown tenant has none.
func (s *Service) Providers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := preAuth(r.Context())
		slug := r.URL.Query().Get("tenant")
		out := []ProviderLink{}
		t, err := s.client.Tenant.Query().Where(tenant.Slug(slug)).Only(ctx)
		if err == nil {
			ps, err := s.client.IdentityProvider.Query().
				Where(identityprovider.TenantID(t.ID), identityprovider.Enabled(true)).All(ctx)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, p := range ps {
				login, _ := s.ProviderURLs(t.Slug, p)
				out = append(out, ProviderLink{Name: p.Name, LoginURL: login})
			}
		}
		writeJSON(w, out)
	})
}

// ssoCookie binds an OpenID Connect login to the browser that started it.
const ssoCookie = "__Host-custos_sso"

// provider loads an enabled identity provider of a tenant with its secret,
// as the sign-in path reads it.
func (s *Service) provider(ctx context.Context, slug, id string) (*ent.Tenant, *ent.IdentityProvider, oidc.Provider, error) {
	pre := preAuth(ctx)
	t, err := s.client.Tenant.Query().Where(tenant.Slug(slug), tenant.StatusEQ(tenant.StatusActive)).Only(pre)
	if err != nil {
		return nil, nil, oidc.Provider{}, apierr.Wrap(apierr.NotFound, err)
	}
	p, err := s.client.IdentityProvider.Query().
		Where(identityprovider.ID(pulid.ID(id)), identityprovider.TenantID(t.ID), identityprovider.Enabled(true)).Only(pre)
	if err != nil {
		return nil, nil, oidc.Provider{}, apierr.Wrap(apierr.NotFound, err)
	}
	secretText, err := s.client.Vault.OpenString(ctx,
		vault.Ref{TenantID: string(t.ID), Table: "IdentityProvider", RowID: string(p.ID)}, p.DataKey, "client_secret", p.ClientSecret.Ciphertext())
	if err != nil {
		return nil, nil, oidc.Provider{}, fmt.Errorf("opening client secret: %w", err)
	}
	_, callback := s.ProviderURLs(t.Slug, p)
	return t, p, oidc.Provider{
		ID: string(p.ID), TenantSlug: t.Slug, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: secretText,
		Scopes: p.Scopes, RedirectURL: callback,
	}, nil
}

// SSOLogin handles GET /auth/oidc/{tenant}/{provider}/login: it sends the
// browser to the provider with PKCE, state and nonce. ?step_up=1 asks the
// provider for a fresh sign-in (max_age=0).
func (s *Service) SSOLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, _, p, err := s.provider(ctx, r.PathValue("tenant"), r.PathValue("provider"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if r.URL.Query().Get("step_up") == "1" {
			zero := 0
			p.MaxAge = &zero
		}
		binding := rand.Text()
		now := s.clock.Now()
		authURL, st, err := s.oidc.Begin(ctx, p, binding, now)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data, _ := json.Marshal(st)
		if err := s.flows.Put(ctx, "oidc", st.State, data, st.ExpiresAt); err != nil {
			s.fail(w, r, err)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name: ssoCookie, Value: binding, Path: "/", MaxAge: int(oidc.FlowLifetime.Seconds()),
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		})
		http.Redirect(w, r, authURL, http.StatusFound)
	})
}

// SSOCallback handles GET /auth/oidc/{tenant}/{provider}/callback: it
// verifies the provider's answer, finds or (for providers with
// just-in-time provisioning) creates the user, starts a session and sends
// the browser into the app. Failures go back to the login page.
func (s *Service) SSOCallback() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		q := r.URL.Query()
		t, idp, p, err := s.provider(ctx, r.PathValue("tenant"), r.PathValue("provider"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		now := s.clock.Now()
		refuse := func(reason string, err error) {
			s.logger.InfoContext(ctx, "single sign-on refused", "reason", reason, "error", fmt.Sprint(err))
			_ = s.record(ctx, attempt{tenantID: t.ID, action: "login.sso", factor: "sso", result: reason, r: r}, nil)
			s.fail(w, r, invalidCredentials())
		}
		data, err := s.flows.Take(ctx, "oidc", q.Get("state"), now)
		if err != nil {
			refuse("unknown_state", err)
			return
		}
		var st oidc.FlowState
		if err := json.Unmarshal(data, &st); err != nil {
			refuse("unknown_state", err)
			return
		}
		p.MaxAge = st.MaxAge
		binding := ""
		if c, err := r.Cookie(ssoCookie); err == nil {
			binding = c.Value
		}
		claims, err := s.oidc.Finish(ctx, p, oidc.ClaimMapping{Email: idp.EmailClaim, Name: idp.NameClaim, Groups: idp.GroupsClaim},
			st, q, binding, now)
		if err != nil {
			refuse("invalid_response", err)
			return
		}
		u, err := s.ssoUser(ctx, t, idp, claims)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if u == nil || u.Status != user.StatusActive {
			refuse("no_account", nil)
			return
		}
		if err := s.record(ctx, attempt{tenantID: t.ID, userID: u.ID, action: "login.sso", factor: "sso", result: "success", r: r}, nil); err != nil {
			s.fail(w, r, err)
			return
		}
		strong := idp.EnforcesMfa || st.MaxAge != nil
		// A tenant that requires a second factor accepts a provider's word
		// for it only when the provider enforces MFA.
		restriction := ""
		if need, err := s.mfaRequired(ctx, t.Settings.WithDefaults().Auth, u); err != nil {
			s.fail(w, r, err)
			return
		} else if need && !idp.EnforcesMfa && u.TotpEnabledAt == nil {
			restriction = session.RestrictMFAEnrolment
		}
		resp, err := s.startSession(ctx, r, t, u, "sso", strong, restriction)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		setSessionCookie(w, resp.Token, resp.ExpiresAt)
		http.Redirect(w, r, "/account", http.StatusFound)
	})
}

// ssoUser finds the user an identity belongs to: by (tenant, issuer,
// subject); else, for a provider trusted for email, by a verified email in
// an allowed domain; else, with just-in-time provisioning and a verified
// email in an allowed domain that no account uses yet, a new user. New
// links are stored, and roles mapped from the provider's groups are
// granted. It returns nil when no account may be used.
func (s *Service) ssoUser(ctx context.Context, t *ent.Tenant, idp *ent.IdentityProvider, c oidc.Claims) (*ent.User, error) {
	pre := preAuth(ctx)
	link, err := s.client.ExternalIdentity.Query().
		Where(externalidentity.TenantID(t.ID), externalidentity.Issuer(c.Issuer), externalidentity.Subject(c.Subject)).Only(pre)
	if err == nil {
		u, err := s.client.User.Get(pre, link.UserID)
		if err != nil {
			return nil, err
		}
		return u, s.grantGroupRoles(ctx, t, idp, u, c.Groups)
	}
	if !ent.IsNotFound(err) {
		return nil, err
	}
	// An account that already has this email is linked only by a provider
	// trusted for email, with a verified address in an allowed domain; it
	// is never shadowed by a new account.
	var u *ent.User
	trusted := c.EmailVerified && emailDomainAllowed(c.Email, idp.AllowedDomains)
	if c.Email != "" {
		_, found, err := s.findUser(ctx, t.Slug, c.Email)
		if err != nil {
			return nil, err
		}
		if found != nil && !(idp.TrustedForEmail && trusted) {
			return nil, nil
		}
		u = found
	}
	sys := viewer.NewSystemContext(ctx, t.ID, "single sign-on provisioning", s.clock.Now())
	tx, err := s.client.Tx(sys)
	if err != nil {
		return nil, err
	}
	if u == nil {
		if !idp.JitProvisioning || c.Email == "" || !trusted {
			_ = tx.Rollback()
			return nil, nil
		}
		root, err := tx.Department.Query().Where(department.TenantID(t.ID), department.ParentIDIsNil()).
			Order(ent.Asc(department.FieldCreatedAt)).First(sys)
		if err != nil {
			_ = tx.Rollback()
			return nil, err
		}
		name := c.Name
		if name == "" {
			// Names are stored in plain text; an email must not be.
			name = "SSO user"
		}
		u, err = tx.User.Create().SetEmail(secret.Plain(c.Email)).SetName(name).SetDepartmentID(root.ID).Save(sys)
		if err != nil {
			_ = tx.Rollback()
			return nil, err
		}
	}
	if _, err := tx.ExternalIdentity.Create().SetUserID(u.ID).SetProviderID(idp.ID).
		SetIssuer(c.Issuer).SetSubject(c.Subject).Save(sys); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return u, s.grantGroupRoles(ctx, t, idp, u, c.Groups)
}

// grantGroupRoles grants the roles the provider's group mapping names for
// the user's groups that the user does not hold yet.
func (s *Service) grantGroupRoles(ctx context.Context, t *ent.Tenant, idp *ent.IdentityProvider, u *ent.User, groups []string) error {
	var want []pulid.ID
	for _, gr := range idp.GroupRoles {
		if slices.Contains(groups, gr.Group) {
			want = append(want, gr.RoleID)
		}
	}
	if len(want) == 0 {
		return nil
	}
	sys := viewer.NewSystemContext(ctx, t.ID, "single sign-on group mapping", s.clock.Now())
	have, err := s.client.RoleGrant.Query().Where(rolegrant.UserID(u.ID)).All(sys)
	if err != nil {
		return err
	}
	tx, err := s.client.Tx(sys)
	if err != nil {
		return err
	}
	for _, roleID := range want {
		if slices.ContainsFunc(have, func(g *ent.RoleGrant) bool { return g.RoleID == roleID }) {
			continue
		}
		if _, err := tx.RoleGrant.Create().SetUserID(u.ID).SetRoleID(roleID).Save(sys); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func emailDomainAllowed(email string, domains []string) bool {
	at := strings.LastIndex(email, "@")
	if at < 0 {
		return false
	}
	if len(domains) == 0 {
		return true
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range domains {
		if strings.EqualFold(strings.TrimSpace(d), domain) {
			return true
		}
	}
	return false
}

// SSOLogout handles GET /auth/oidc/{tenant}/{provider}/logout: it ends the
// browser's session and, when the provider supports RP-initiated logout,
// sends the browser to the provider's end-session endpoint; otherwise to
// the login page.
func (s *Service) SSOLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token, method := credentials(r); token != "" && method == MethodCookie {
			if err := s.sessions.Revoke(ctx, token); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		clearSessionCookie(w)
		target := "/login"
		if _, _, p, err := s.provider(ctx, r.PathValue("tenant"), r.PathValue("provider")); err == nil {
			if u, err := s.oidc.LogoutURL(ctx, p, "", s.publicURL+"/login"); err == nil && u != "" {
				target = u
			}
		}
		http.Redirect(w, r, target, http.StatusFound)
	})
}
