package authn

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/sso"
	"github.com/custos-crm/custos/ent/schema/viewer"
	entsession "github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/internal/apierr"
)

// SessionInfo is a session as its user sees it.
type SessionInfo struct {
	ID         pulid.ID  `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Method     string    `json:"method"`
	IP         *string   `json:"ip"`
	UserAgent  *string   `json:"userAgent"`
	Current    bool      `json:"current"`
}

// MySessions lists the viewer's live sessions, newest first.
func MySessions(ctx context.Context, client *ent.Client, now time.Time) ([]*SessionInfo, error) {
	v := viewer.FromContext(ctx)
	list, err := client.Session.Query().
		Where(entsession.UserID(v.UserID), entsession.RevokedAtIsNil(), entsession.ExpiresAtGT(now)).
		Order(ent.Desc(entsession.FieldCreatedAt)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*SessionInfo, len(list))
	for i, s := range list {
		out[i] = &SessionInfo{
			ID: s.ID, CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt,
			Method: s.Method, IP: nonEmpty(s.IP), UserAgent: nonEmpty(s.UserAgent), Current: s.ID == v.SessionID,
		}
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RevokeSession ends one of the viewer's sessions (user managers may end
// anyone's in their tenant).
func RevokeSession(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time) error {
	return client.Session.UpdateOneID(id).Where(entsession.RevokedAtIsNil()).SetRevokedAt(now).Exec(ctx)
}

// RevokeOtherSessions ends every session of the viewer but the current one;
// it needs a session (an API token has none to keep).
func RevokeOtherSessions(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	v := viewer.FromContext(ctx)
	if v.SessionID == "" {
		return 0, apierr.New(apierr.Forbidden)
	}
	return client.Session.Update().
		Where(entsession.UserID(v.UserID), entsession.RevokedAtIsNil(), entsession.IDNEQ(v.SessionID)).
		SetRevokedAt(now).Save(ctx)
}

// NewAPIToken is the input for creating an API token.
type NewAPIToken struct {
	Name        string
	Permissions []string
	ExpiresAt   *time.Time
}

// CreatedAPIToken carries a new token, shown once.
type CreatedAPIToken struct {
	Token    string        `json:"token"`
	APIToken *ent.APIToken `json:"apiToken"`
}

// CreateAPIToken creates an API token for the viewer with permissions the
// viewer holds. It needs a recent strong sign-in (checked by the token's
// privacy policy).
func CreateAPIToken(ctx context.Context, client *ent.Client, in NewAPIToken, now time.Time) (*CreatedAPIToken, error) {
	v := viewer.FromContext(ctx)
	var bad []apierr.FieldError
	if len(in.Permissions) == 0 {
		bad = append(bad, apierr.Field("/input/permissions", "required"))
	}
	for i, p := range in.Permissions {
		if !v.Can(p) {
			bad = append(bad, apierr.Field(fmt.Sprintf("/input/permissions/%d", i), "unknown_permission", "value", p))
		}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		bad = append(bad, apierr.Field("/input/expiresAt", "expired"))
	}
	if len(bad) > 0 {
		return nil, apierr.BadInput(bad...)
	}
	raw, err := session.NewToken()
	if err != nil {
		return nil, err
	}
	token := APITokenPrefix + raw
	t, err := client.APIToken.Create().
		SetUserID(v.UserID).SetName(in.Name).SetPermissions(slices.Compact(slices.Sorted(slices.Values(in.Permissions)))).
		SetTokenHash(session.HashToken(token)).SetNillableExpiresAt(in.ExpiresAt).Save(ctx)
	if err != nil {
		return nil, err
	}
	return &CreatedAPIToken{Token: token, APIToken: t}, nil
}

// ProviderInput is what an administrator sets on an identity provider.
type ProviderInput struct {
	Name            string
	Issuer          string
	ClientID        string
	ClientSecret    *string
	Scopes          []string
	EmailClaim      *string
	NameClaim       *string
	GroupsClaim     *string
	GroupRoles      []*sso.GroupRole
	JitProvisioning *bool
	EnforcesMfa     *bool
	TrustedForEmail *bool
	AllowedDomains  []string
	Enabled         *bool
}

// SaveProvider creates (id nil) or updates an identity provider. The
// issuer must be an https URL, or http on loopback for development.
func SaveProvider(ctx context.Context, client *ent.Client, id *pulid.ID, in ProviderInput) (*ent.IdentityProvider, error) {
	var bad []apierr.FieldError
	if !issuerAllowed(in.Issuer) {
		bad = append(bad, apierr.Field("/input/issuer", "invalid_format"))
	}
	if id == nil && (in.ClientSecret == nil || *in.ClientSecret == "") {
		bad = append(bad, apierr.Field("/input/clientSecret", "required"))
	}
	roles := make([]sso.GroupRole, 0, len(in.GroupRoles))
	for i, gr := range in.GroupRoles {
		if _, err := client.Role.Get(ctx, gr.RoleID); err != nil {
			bad = append(bad, apierr.Field(fmt.Sprintf("/input/groupRoles/%d/roleID", i), "unknown_reference"))
			continue
		}
		roles = append(roles, *gr)
	}
	if len(bad) > 0 {
		return nil, apierr.BadInput(bad...)
	}
	if id == nil {
		c := client.IdentityProvider.Create()
		applyProvider(c.Mutation(), in, roles)
		return c.Save(ctx)
	}
	u := client.IdentityProvider.UpdateOneID(*id)
	applyProvider(u.Mutation(), in, roles)
	return u.Save(ctx)
}

func applyProvider(m *ent.IdentityProviderMutation, in ProviderInput, roles []sso.GroupRole) {
	m.SetName(in.Name)
	m.SetIssuer(strings.TrimSpace(in.Issuer))
	m.SetClientID(in.ClientID)
	if in.ClientSecret != nil && *in.ClientSecret != "" {
		m.SetClientSecret(secret.Plain(*in.ClientSecret))
	}
	if in.Scopes != nil {
		m.SetScopes(in.Scopes)
	}
	for _, c := range []struct {
		v   *string
		set func(string)
	}{{in.EmailClaim, m.SetEmailClaim}, {in.NameClaim, m.SetNameClaim}, {in.GroupsClaim, m.SetGroupsClaim}} {
		if c.v != nil && *c.v != "" {
			c.set(*c.v)
		}
	}
	if in.GroupRoles != nil {
		m.SetGroupRoles(roles)
	}
	for _, b := range []struct {
		v   *bool
		set func(bool)
	}{{in.JitProvisioning, m.SetJitProvisioning}, {in.EnforcesMfa, m.SetEnforcesMfa}, {in.TrustedForEmail, m.SetTrustedForEmail}, {in.Enabled, m.SetEnabled}} {
		if b.v != nil {
			b.set(*b.v)
		}
	}
	if in.AllowedDomains != nil {
		m.SetAllowedDomains(in.AllowedDomains)
	}
}

// ProviderURLs returns where users start signing in with a provider and the
// callback to register at it.
func (s *Service) ProviderURLs(tenantSlug string, p *ent.IdentityProvider) (login, callback string) {
	base := s.publicURL + "/auth/oidc/" + tenantSlug + "/" + string(p.ID)
	return base + "/login", base + "/callback"
}

// issuerAllowed accepts https issuers, and http ones only on loopback hosts
// (development and tests; the HTTP client refuses loopback unless allowed).
func issuerAllowed(issuer string) bool {
	u, err := url.Parse(strings.TrimSpace(issuer))
	if err != nil || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}
