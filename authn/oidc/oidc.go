// Package oidc owns the OpenID Connect authorization-code flow with PKCE for
// per-tenant identity providers: building the authorization request with
// state, nonce and a PKCE verifier, and verifying the callback (state
// single-use and bound to provider and browser, the iss response parameter,
// the ID token's signature, issuer, audience, expiry and nonce). Storage of
// flow state and providers is the caller's; all outbound requests go through
// the client it is given (safehttp).
//
// The sign-in handlers call Begin when a person chooses a provider and Finish
// on the provider's callback; mapping the verified Claims to a user (keyed by
// tenant, issuer and subject) is theirs too.
package oidc

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// FlowLifetime is how long a sign-in attempt may take from Begin to Finish.
const FlowLifetime = 10 * time.Minute

const (
	// authTimeSkew is the clock difference tolerated between this server and
	// an identity provider when judging auth_time.
	authTimeSkew = time.Minute
	// providerCacheTTL is how long discovered provider metadata is reused;
	// keys are refreshed independently whenever an unknown key id appears.
	providerCacheTTL = time.Hour
	// maxCachedProviders bounds the discovery cache.
	maxCachedProviders = 256
)

// Errors returned by Begin, Finish and LogoutURL; they are wrapped, so test
// with errors.Is. All of them except ErrInvalidProvider describe a failed
// sign-in attempt rather than a fault of the server.
var (
	ErrStateExpired     = errors.New("oidc: sign-in attempt expired")
	ErrStateMismatch    = errors.New("oidc: callback does not belong to this sign-in attempt")
	ErrProviderMismatch = errors.New("oidc: sign-in attempt was started with another provider")
	ErrIssuerMismatch   = errors.New("oidc: issuer does not match the provider")
	ErrNonceMismatch    = errors.New("oidc: ID token nonce does not match the sign-in attempt")
	ErrDenied           = errors.New("oidc: identity provider denied the sign-in")
	ErrAuthTooOld       = errors.New("oidc: authentication is older than max_age allows")
	ErrBadCallback      = errors.New("oidc: malformed callback")
	ErrInvalidToken     = errors.New("oidc: invalid ID token")
	ErrInvalidProvider  = errors.New("oidc: invalid provider configuration")
)

// Provider is a tenant's identity provider as the caller stores it.
type Provider struct {
	// ID is the caller's provider id; flow state is bound to it.
	ID string
	// TenantSlug names the tenant the provider belongs to.
	TenantSlug string
	// Issuer is the issuer URL exactly as configured: it must equal the
	// discovery document's issuer and the ID token's iss claim byte for
	// byte, trailing slash included.
	Issuer string
	// ClientID and ClientSecret are this server's credentials at the
	// provider. An empty secret makes a public client that relies on PKCE.
	ClientID     string
	ClientSecret string
	// Scopes requested; empty means openid, email and profile. openid is
	// added when missing.
	Scopes []string
	// RedirectURL is this provider's own callback URL.
	RedirectURL string
	// MaxAge, when set (for example to 0 for step-up), is sent as max_age
	// and Finish then requires an auth_time no older than it allows.
	MaxAge *int
}

// FlowState is what the caller stores between login and callback, keyed by
// State; it must be single-use (deleted when looked up) and expire after
// FlowLifetime.
type FlowState struct {
	State          string
	Nonce          string
	CodeVerifier   string
	ProviderID     string
	BrowserBinding string
	ExpiresAt      time.Time
	MaxAge         *int
	RequestedAt    time.Time
}

// Claims are what the caller needs from a verified ID token.
type Claims struct {
	Issuer  string
	Subject string
	Email   string
	// EmailVerified reports the email_verified claim; it is only set when
	// the email comes from the standard "email" claim, which is the one the
	// flag speaks for.
	EmailVerified bool
	Name          string
	Groups        []string
	// AuthTime is when the person last authenticated at the provider; zero
	// when the token has no auth_time.
	AuthTime time.Time
	// Raw holds every claim of the ID token.
	Raw map[string]any
}

// ClaimMapping says which ID token claims hold the email address, the name
// and the groups; empty fields mean "email", "name" and "groups".
type ClaimMapping struct {
	Email, Name, Groups string
}

// Client runs sign-in flows against any number of providers. It caches
// discovered provider metadata per issuer and sends every request (discovery,
// keys, token exchange) through the HTTP client it was built with. It is safe
// for concurrent use.
type Client struct {
	http *http.Client

	mu        sync.Mutex
	providers map[string]*discovered // by issuer
}

// discovered is a provider's metadata as fetched by discovery.
type discovered struct {
	provider  *gooidc.Provider
	meta      metadata
	fetchedAt time.Time
}

// metadata holds the discovery fields go-oidc does not expose.
type metadata struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	EndSessionEndpoint    string `json:"end_session_endpoint"`
	IssParameterSupported bool   `json:"authorization_response_iss_parameter_supported"`
}

// NewClient returns a Client that sends all requests through httpClient,
// which should come from safehttp.NewClient.
func NewClient(httpClient *http.Client) *Client {
	return &Client{http: httpClient, providers: make(map[string]*discovered)}
}

// Begin returns the authorization URL (code flow, S256 PKCE, state, nonce,
// max_age when set) and the FlowState to store. browserBinding is an opaque
// value the caller also puts in a cookie (for example a random value), so the
// callback must come from the same browser.
func (c *Client) Begin(ctx context.Context, p Provider, browserBinding string, now time.Time) (authURL string, st FlowState, err error) {
	if err := p.validate(); err != nil {
		return "", FlowState{}, err
	}
	if browserBinding == "" {
		return "", FlowState{}, errors.New("oidc: begin: empty browser binding")
	}
	if p.MaxAge != nil && *p.MaxAge < 0 {
		return "", FlowState{}, fmt.Errorf("%w: negative max_age", ErrInvalidProvider)
	}
	d, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return "", FlowState{}, err
	}
	st = FlowState{
		State:          rand.Text(),
		Nonce:          rand.Text(),
		CodeVerifier:   oauth2.GenerateVerifier(),
		ProviderID:     p.ID,
		BrowserBinding: browserBinding,
		RequestedAt:    now,
		ExpiresAt:      now.Add(FlowLifetime),
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(st.CodeVerifier),
		gooidc.Nonce(st.Nonce),
	}
	if p.MaxAge != nil {
		maxAge := *p.MaxAge
		st.MaxAge = &maxAge
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(maxAge)))
	}
	return p.oauth2Config(d).AuthCodeURL(st.State, opts...), st, nil
}

// Finish verifies a callback and returns the signed-in person's claims.
// params is the callback's query (state, code, iss, error...); st is the
// stored state the caller looked up by params.Get("state") and deleted; p is
// the provider named in the callback URL; browserBinding is the value from
// the browser's cookie.
//
// It refuses an expired state, a state issued for another provider or
// another browser, an iss parameter that differs from p.Issuer (or is missing
// when the provider promises it), and a provider error response (ErrDenied);
// then it exchanges the code with the PKCE verifier, verifies the ID token's
// signature, issuer, audience, authorized party and expiry, compares its
// nonce, and when st.MaxAge is set requires an auth_time no earlier than
// max_age seconds before the sign-in began (RequestedAt), within a minute of
// clock skew.
func (c *Client) Finish(ctx context.Context, p Provider, m ClaimMapping, st FlowState, params url.Values, browserBinding string, now time.Time) (Claims, error) {
	state, err := single(params, "state")
	if err != nil {
		return Claims{}, err
	}
	if st.State == "" || !equal(state, st.State) {
		return Claims{}, ErrStateMismatch
	}
	if !now.Before(st.ExpiresAt) {
		return Claims{}, ErrStateExpired
	}
	if st.ProviderID != p.ID {
		return Claims{}, ErrProviderMismatch
	}
	if st.BrowserBinding == "" || !equal(browserBinding, st.BrowserBinding) {
		return Claims{}, fmt.Errorf("%w: browser binding differs", ErrStateMismatch)
	}
	if err := p.validate(); err != nil {
		return Claims{}, err
	}
	d, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return Claims{}, err
	}

	// RFC 9207: check iss before acting on the response, errors included.
	iss, err := single(params, "iss")
	if err != nil {
		return Claims{}, err
	}
	switch {
	case iss != "" && iss != p.Issuer:
		return Claims{}, fmt.Errorf("%w: callback iss %q", ErrIssuerMismatch, iss)
	case iss == "" && d.meta.IssParameterSupported:
		return Claims{}, fmt.Errorf("%w: callback lacks the iss parameter the provider promises", ErrIssuerMismatch)
	}
	denied, err := single(params, "error")
	if err != nil {
		return Claims{}, err
	}
	if denied != "" {
		return Claims{}, fmt.Errorf("%w: %s", ErrDenied, errorCode(denied))
	}
	code, err := single(params, "code")
	if err != nil {
		return Claims{}, err
	}
	if code == "" {
		return Claims{}, fmt.Errorf("%w: no code", ErrBadCallback)
	}

	tok, err := p.oauth2Config(d).Exchange(c.context(ctx), code, oauth2.VerifierOption(st.CodeVerifier))
	if err != nil {
		return Claims{}, fmt.Errorf("oidc: exchanging the code: %w", err)
	}
	rawIDToken, ok := tok.Extra("id_token").(string)
	if !ok || rawIDToken == "" {
		return Claims{}, fmt.Errorf("%w: token response has no id_token", ErrInvalidToken)
	}
	// Verifier shares the provider's cached key set, which fetches keys
	// through the client given to discovery.
	verifier := d.provider.Verifier(&gooidc.Config{
		ClientID: p.ClientID,
		Now:      func() time.Time { return now },
	})
	idToken, err := verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if st.Nonce == "" || !equal(idToken.Nonce, st.Nonce) {
		return Claims{}, ErrNonceMismatch
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
			return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
		}
	}
	cl, err := claimsFrom(idToken, m)
	if err != nil {
		return Claims{}, err
	}
	if azp, _ := cl.Raw["azp"].(string); (azp != "" || len(idToken.Audience) > 1) && azp != p.ClientID {
		return Claims{}, fmt.Errorf("%w: authorized party %q is not this client", ErrInvalidToken, azp)
	}
	if cl.Subject == "" {
		return Claims{}, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	if st.MaxAge != nil {
		if err := checkAuthTime(cl.AuthTime, *st.MaxAge, st.RequestedAt, now); err != nil {
			return Claims{}, err
		}
	}
	return cl, nil
}

// LogoutURL returns the provider's end_session_endpoint URL for RP-initiated
// logout (with id_token_hint, post_logout_redirect_uri and client_id), or ""
// when the provider has none.
func (c *Client) LogoutURL(ctx context.Context, p Provider, idTokenHint, postLogoutRedirect string) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	d, err := c.discover(ctx, p.Issuer)
	if err != nil {
		return "", err
	}
	if d.meta.EndSessionEndpoint == "" {
		return "", nil
	}
	u, err := webURL(d.meta.EndSessionEndpoint)
	if err != nil {
		return "", fmt.Errorf("oidc: end_session_endpoint: %w", err)
	}
	q := u.Query()
	q.Set("client_id", p.ClientID)
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	if postLogoutRedirect != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirect)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// context returns ctx carrying the client's HTTP client for go-oidc and
// oauth2.
func (c *Client) context(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, c.http)
}

// discover returns the provider metadata for issuer, from the cache when it
// is fresh. Discovery requires the document's issuer to equal issuer exactly.
func (c *Client) discover(ctx context.Context, issuer string) (*discovered, error) {
	fetchedAt := time.Now()
	c.mu.Lock()
	d, ok := c.providers[issuer]
	c.mu.Unlock()
	if ok && fetchedAt.Sub(d.fetchedAt) < providerCacheTTL {
		return d, nil
	}

	prov, err := gooidc.NewProvider(c.context(ctx), issuer)
	if err != nil {
		if mismatch, ok := errors.AsType[*gooidc.IssuerMismatchError](err); ok {
			return nil, fmt.Errorf("%w: discovery document names %q", ErrIssuerMismatch, mismatch.Discovered)
		}
		return nil, fmt.Errorf("oidc: discovering %s: %w", issuer, err)
	}
	d = &discovered{provider: prov, fetchedAt: fetchedAt}
	if err := prov.Claims(&d.meta); err != nil {
		return nil, fmt.Errorf("oidc: discovering %s: %w", issuer, err)
	}
	// The authorization endpoint is where browsers are sent: it must be a
	// web URL, never javascript: or similar.
	if _, err := webURL(d.meta.AuthorizationEndpoint); err != nil {
		return nil, fmt.Errorf("oidc: discovering %s: authorization_endpoint: %w", issuer, err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.providers) >= maxCachedProviders {
		c.evictLocked(fetchedAt)
	}
	c.providers[issuer] = d
	return d, nil
}

// evictLocked drops stale cache entries, and the oldest one when none is
// stale. c.mu must be held.
func (c *Client) evictLocked(now time.Time) {
	var oldest string
	for iss, d := range c.providers {
		if now.Sub(d.fetchedAt) >= providerCacheTTL {
			delete(c.providers, iss)
			continue
		}
		if oldest == "" || d.fetchedAt.Before(c.providers[oldest].fetchedAt) {
			oldest = iss
		}
	}
	if len(c.providers) >= maxCachedProviders {
		delete(c.providers, oldest)
	}
}

// validate reports configuration errors that would make a flow unsafe or
// impossible.
func (p Provider) validate() error {
	switch {
	case p.ID == "":
		return fmt.Errorf("%w: no id", ErrInvalidProvider)
	case p.ClientID == "":
		return fmt.Errorf("%w: no client id", ErrInvalidProvider)
	}
	u, err := webURL(p.Issuer)
	if err != nil {
		return fmt.Errorf("%w: issuer: %w", ErrInvalidProvider, err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: issuer has a query or fragment", ErrInvalidProvider)
	}
	if _, err := webURL(p.RedirectURL); err != nil {
		return fmt.Errorf("%w: redirect URL: %w", ErrInvalidProvider, err)
	}
	return nil
}

// oauth2Config returns the OAuth 2.0 client configuration for p at the
// discovered provider d.
func (p Provider) oauth2Config(d *discovered) *oauth2.Config {
	scopes := p.Scopes
	if len(scopes) == 0 {
		scopes = []string{gooidc.ScopeOpenID, gooidc.ScopeEmail, gooidc.ScopeProfile}
	} else if !slices.Contains(scopes, gooidc.ScopeOpenID) {
		scopes = append([]string{gooidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint:     d.provider.Endpoint(),
		RedirectURL:  p.RedirectURL,
		Scopes:       scopes,
	}
}

// claimsFrom extracts the caller's claims from a verified ID token.
func claimsFrom(t *gooidc.IDToken, m ClaimMapping) (Claims, error) {
	var raw map[string]any
	if err := t.Claims(&raw); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	emailClaim := cmp.Or(m.Email, "email")
	cl := Claims{
		Issuer:  t.Issuer,
		Subject: t.Subject,
		Raw:     raw,
	}
	cl.Email, _ = raw[emailClaim].(string)
	cl.Name, _ = raw[cmp.Or(m.Name, "name")].(string)
	cl.Groups = stringList(raw[cmp.Or(m.Groups, "groups")])
	if emailClaim == "email" {
		switch v := raw["email_verified"].(type) {
		case bool:
			cl.EmailVerified = v
		case string: // some providers send "true"
			cl.EmailVerified = v == "true"
		}
	}
	if v, ok := raw["auth_time"]; ok {
		f, ok := v.(float64)
		if !ok || f <= 0 {
			return Claims{}, fmt.Errorf("%w: auth_time is not a positive number", ErrInvalidToken)
		}
		cl.AuthTime = time.Unix(int64(f), 0)
	}
	return cl, nil
}

// checkAuthTime requires authTime to be no earlier than maxAge seconds
// before the sign-in began, so that max_age=0 means "authenticated after we
// asked", and not in the future.
func checkAuthTime(authTime time.Time, maxAge int, requestedAt, now time.Time) error {
	if authTime.IsZero() {
		return fmt.Errorf("%w: the ID token has no auth_time", ErrAuthTooOld)
	}
	if requestedAt.IsZero() {
		requestedAt = now
	}
	earliest := requestedAt.Add(-time.Duration(maxAge)*time.Second - authTimeSkew)
	if authTime.Before(earliest) {
		return fmt.Errorf("%w: authenticated at %s, max_age %ds", ErrAuthTooOld, authTime.UTC().Format(time.RFC3339), maxAge)
	}
	if authTime.After(now.Add(authTimeSkew)) {
		return fmt.Errorf("%w: auth_time is in the future", ErrInvalidToken)
	}
	return nil
}

// single returns the only value of the callback parameter name, or "" when
// it is absent; a repeated parameter is refused (RFC 6749 section 3.1).
func single(params url.Values, name string) (string, error) {
	switch vs := params[name]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	default:
		return "", fmt.Errorf("%w: repeated %s parameter", ErrBadCallback, name)
	}
}

// errorCode returns the provider's error code fit for logs: RFC 6749 limits
// it to printable ASCII without quotes or backslashes; anything else, or
// anything long, is replaced.
func errorCode(s string) string {
	if len(s) > 64 {
		return "(invalid error code)"
	}
	for i := range len(s) {
		if b := s[i]; b < 0x20 || b > 0x7e || b == '"' || b == '\\' {
			return "(invalid error code)"
		}
	}
	return s
}

// webURL parses s as an absolute http or https URL with a host.
func webURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q is not an http or https URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries user information", s)
	}
	return u, nil
}

// stringList returns v as a list of strings: a JSON array of strings or a
// single string; anything else gives nil.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// equal compares secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
