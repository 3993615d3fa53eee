// Package passkey owns WebAuthn passkeys: registration for a signed-in user and
// sign-in without a username (discoverable credentials), with user verification
// required at ceremony start and checked on every response, single-use expiring
// ceremonies, and blocking of credentials whose sign counter goes backwards.
// Storage is behind interfaces the caller implements.
//
// A ceremony has two halves. Begin* creates a random ceremony id, stores the
// go-webauthn session data under it in the caller's Ceremonies store until
// now+CeremonyTTL, and returns the id together with the options JSON for the
// browser. Finish* takes the ceremony out of the store (so it can be finished
// at most once, successfully or not), checks its kind and expiry, and verifies
// the browser's response against it.
//
// User verification is enforced twice: the ceremony asks for it as "required"
// (go-webauthn's default is "preferred"), which also makes go-webauthn refuse a
// response whose UV flag is clear, and this package checks the UV flag of every
// response itself, before and independently of the library, and reports a clear
// flag as ErrUserNotVerified.
//
// The go-webauthn library only records a sign counter that did not increase as
// CloneWarning; FinishLogin turns it into ErrCloneDetected so the caller blocks
// the credential.
package passkey

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// DefaultCeremonyTTL is how long a ceremony may take when Config.CeremonyTTL is zero.
const DefaultCeremonyTTL = 5 * time.Minute

// maxResponseSize bounds the browser response read by the Finish methods.
const maxResponseSize = 64 << 10

// Ceremony kinds are stored with the session data so that a registration
// ceremony cannot be finished as a sign-in or the other way round.
const (
	kindRegistration = "registration"
	kindLogin        = "login"
)

var (
	// ErrCeremonyNotFound is returned when a ceremony id is unknown, already
	// used, expired, or of the wrong kind.
	ErrCeremonyNotFound = errors.New("passkey: ceremony not found")
	// ErrUserNotVerified is returned when a response does not carry the
	// authenticator's user-verified (UV) flag.
	ErrUserNotVerified = errors.New("passkey: user not verified")
	// ErrCloneDetected is returned by FinishLogin when the credential's sign
	// counter did not increase, a sign that the authenticator may be cloned.
	ErrCloneDetected = errors.New("passkey: sign counter went backwards, credential may be cloned")
	// ErrUnknownCredential is returned by FinishLogin when the credential is not
	// one of the stored credentials of the user its user handle names.
	ErrUnknownCredential = errors.New("passkey: unknown credential")
	// ErrCredentialExists is returned by FinishRegistration when the new
	// credential's id is already among the user's credentials.
	ErrCredentialExists = errors.New("passkey: credential already registered")
)

// Config configures the relying party.
type Config struct {
	// RPID is the relying party id, e.g. "localhost" or "crm.example.com".
	RPID string
	// RPDisplayName is the name shown to the user, e.g. "Custos".
	RPDisplayName string
	// Origins are the origins the browser may report, e.g. "http://localhost:8080".
	Origins []string
	// CeremonyTTL is how long a ceremony may take; zero means DefaultCeremonyTTL.
	CeremonyTTL time.Duration
}

// User is the person a ceremony is about.
type User struct {
	// ID is the stable opaque user handle (1 to 64 bytes), e.g. the user id bytes.
	ID []byte
	// Name is the account name shown by the authenticator, e.g. an email address.
	Name string
	// DisplayName is the person's name shown by the authenticator.
	DisplayName string
	// Credentials are the user's stored passkeys.
	Credentials []Credential
}

// Credential is what the caller stores per passkey.
type Credential struct {
	// ID is the credential id chosen by the authenticator.
	ID []byte
	// PublicKey is the COSE-encoded credential public key.
	PublicKey []byte
	// AttestationType is the attestation type reported at registration.
	AttestationType string
	// AAGUID identifies the authenticator model.
	AAGUID []byte
	// SignCount is the last sign counter seen; persist the value FinishLogin returns.
	SignCount uint32
	// Transports are the transports the browser reported, e.g. "internal" or "usb".
	Transports []string
	// BackupEligible reports whether the credential may be synced; it never changes.
	BackupEligible bool
	// BackupState reports whether the credential is currently backed up or synced.
	BackupState bool
	// UserVerified reports whether the user was verified when the credential was registered.
	UserVerified bool
	// Name is a user-chosen label ("MacBook"), not used by WebAuthn.
	Name string
}

// Ceremonies keeps ceremony state server-side between begin and finish.
type Ceremonies interface {
	// Put stores data under a random id until expires.
	Put(ctx context.Context, id string, data []byte, expires time.Time) error
	// Take returns and deletes the data (single use); ErrCeremonyNotFound when
	// absent or expired (the implementation checks expiry against the now it is
	// given).
	Take(ctx context.Context, id string, now time.Time) ([]byte, error)
}

// UserLookup finds the owner of a discoverable credential by its user handle
// (from the authenticator) for username-less sign-in. It should return an
// error wrapping ErrUnknownCredential when no user has that handle.
type UserLookup func(ctx context.Context, userHandle []byte) (User, error)

// Service runs passkey ceremonies; it is safe for concurrent use.
type Service struct {
	wa         *webauthn.WebAuthn
	ceremonies Ceremonies
	ttl        time.Duration
}

// ceremony is what is stored in Ceremonies between begin and finish.
type ceremony struct {
	Kind    string               `json:"kind"`
	Session webauthn.SessionData `json:"session"`
}

// New returns a Service for cfg that keeps ceremonies in ceremonies.
func New(cfg Config, ceremonies Ceremonies) (*Service, error) {
	if ceremonies == nil {
		return nil, errors.New("passkey: nil ceremony store")
	}
	if cfg.RPID == "" {
		return nil, errors.New("passkey: empty relying party id")
	}
	if cfg.RPDisplayName == "" {
		return nil, errors.New("passkey: empty relying party display name")
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("passkey: no origins")
	}
	if cfg.CeremonyTTL < 0 {
		return nil, fmt.Errorf("passkey: negative ceremony TTL %v", cfg.CeremonyTTL)
	}
	ttl := cfg.CeremonyTTL
	if ttl == 0 {
		ttl = DefaultCeremonyTTL
	}
	timeout := webauthn.TimeoutConfig{Timeout: ttl, TimeoutUVD: ttl}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.RPDisplayName,
		RPOrigins:             append([]string(nil), cfg.Origins...),
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		// The timeouts are what the browser is told; expiry is enforced by
		// this package against the ceremony's Expires.
		Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: configure webauthn: %w", err)
	}
	return &Service{wa: wa, ceremonies: ceremonies, ttl: ttl}, nil
}

// BeginRegistration starts registering a new passkey for u (excluding his
// existing credentials), requiring a resident key and user verification. It
// returns the ceremony id (the caller hands it to the browser, e.g. in a cookie
// or JSON) and the PublicKeyCredentialCreationOptions JSON to pass to
// navigator.credentials.create. The options are in the JSON form with binary
// members in base64url, as read by PublicKeyCredential.parseCreationOptionsFromJSON.
func (s *Service) BeginRegistration(ctx context.Context, u User, now time.Time) (ceremonyID string, options json.RawMessage, err error) {
	creation, session, err := s.wa.BeginRegistration(
		webauthnUser{u},
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(descriptors(u.Credentials)),
	)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin registration: %w", libError(err))
	}
	if creation.Response.AuthenticatorSelection.UserVerification != protocol.VerificationRequired ||
		session.UserVerification != protocol.VerificationRequired {
		return "", nil, errors.New("passkey: begin registration: user verification is not required")
	}
	options, err = json.Marshal(creation.Response)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: encode creation options: %w", err)
	}
	ceremonyID, err = s.put(ctx, kindRegistration, session, now)
	if err != nil {
		return "", nil, err
	}
	return ceremonyID, options, nil
}

// FinishRegistration verifies the browser's response (the raw JSON body of the
// PublicKeyCredential) for the ceremony and returns the new credential. It
// fails with ErrUserNotVerified when the UV flag is not set, with
// ErrCeremonyNotFound when the ceremony is unknown, used or expired, and with
// ErrCredentialExists when u already has the credential. u must be the user
// the ceremony was begun for. The caller must still make sure no other user
// holds a credential with the same id before storing it.
func (s *Service) FinishRegistration(ctx context.Context, u User, ceremonyID string, response []byte, now time.Time) (Credential, error) {
	session, err := s.take(ctx, kindRegistration, ceremonyID, now)
	if err != nil {
		return Credential{}, err
	}
	if len(response) > maxResponseSize {
		return Credential{}, fmt.Errorf("passkey: registration response of %d bytes is too large", len(response))
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(response))
	if err != nil {
		return Credential{}, fmt.Errorf("passkey: parse registration response: %w", libError(err))
	}
	if !parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
		return Credential{}, fmt.Errorf("%w: registration response has no UV flag", ErrUserNotVerified)
	}
	created, err := s.wa.CreateCredential(webauthnUser{u}, session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("passkey: verify registration: %w", libError(err))
	}
	if !created.Flags.UserVerified {
		return Credential{}, fmt.Errorf("%w: registered credential has no UV flag", ErrUserNotVerified)
	}
	for _, c := range u.Credentials {
		if bytes.Equal(c.ID, created.ID) {
			return Credential{}, ErrCredentialExists
		}
	}
	return fromWebauthn(*created, ""), nil
}

// BeginLogin starts a username-less sign-in (discoverable credentials, user
// verification required). It returns the ceremony id and the
// PublicKeyCredentialRequestOptions JSON to pass to navigator.credentials.get,
// in the form read by PublicKeyCredential.parseRequestOptionsFromJSON.
func (s *Service) BeginLogin(ctx context.Context, now time.Time) (ceremonyID string, options json.RawMessage, err error) {
	assertion, session, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin login: %w", libError(err))
	}
	if assertion.Response.UserVerification != protocol.VerificationRequired ||
		session.UserVerification != protocol.VerificationRequired {
		return "", nil, errors.New("passkey: begin login: user verification is not required")
	}
	options, err = json.Marshal(assertion.Response)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: encode request options: %w", err)
	}
	ceremonyID, err = s.put(ctx, kindLogin, session, now)
	if err != nil {
		return "", nil, err
	}
	return ceremonyID, options, nil
}

// FinishLogin verifies the assertion, finds the user through lookup, and
// returns the user and the credential with its updated sign count. UV flag not
// set → ErrUserNotVerified. Sign count going backwards (CloneWarning) →
// ErrCloneDetected, returning the user and the credential too (the caller
// blocks it and raises a security event); the returned credential then keeps
// its stored sign count. Unknown credential → ErrUnknownCredential. Unknown,
// used or expired ceremony → ErrCeremonyNotFound.
func (s *Service) FinishLogin(ctx context.Context, ceremonyID string, response []byte, lookup UserLookup, now time.Time) (User, Credential, error) {
	if lookup == nil {
		return User{}, Credential{}, errors.New("passkey: nil user lookup")
	}
	session, err := s.take(ctx, kindLogin, ceremonyID, now)
	if err != nil {
		return User{}, Credential{}, err
	}
	if len(response) > maxResponseSize {
		return User{}, Credential{}, fmt.Errorf("passkey: assertion of %d bytes is too large", len(response))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(response))
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("passkey: parse assertion: %w", libError(err))
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return User{}, Credential{}, fmt.Errorf("%w: assertion has no UV flag", ErrUserNotVerified)
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		return User{}, Credential{}, fmt.Errorf("%w: assertion has no user handle", ErrUnknownCredential)
	}
	u, err := lookup(ctx, handle)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("passkey: look up user handle: %w", err)
	}
	if !bytes.Equal(u.ID, handle) {
		return User{}, Credential{}, fmt.Errorf("%w: looked-up user has another user handle", ErrUnknownCredential)
	}
	stored, ok := findCredential(u.Credentials, parsed.RawID)
	if !ok {
		return User{}, Credential{}, fmt.Errorf("%w: credential is not among the user's credentials", ErrUnknownCredential)
	}
	wu := webauthnUser{u}
	_, verified, err := s.wa.ValidatePasskeyLogin(
		func(rawID, userHandle []byte) (webauthn.User, error) { return wu, nil },
		session, parsed)
	if err != nil {
		return User{}, Credential{}, fmt.Errorf("passkey: verify assertion: %w", libError(err))
	}
	updated := fromWebauthn(*verified, stored.Name)
	if verified.Authenticator.CloneWarning {
		updated.SignCount = stored.SignCount
		return u, updated, fmt.Errorf("%w: stored %d, received %d", ErrCloneDetected,
			stored.SignCount, parsed.Response.AuthenticatorData.Counter)
	}
	return u, updated, nil
}

// put stores session as a ceremony of kind until now+TTL and returns its new id.
func (s *Service) put(ctx context.Context, kind string, session *webauthn.SessionData, now time.Time) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("passkey: ceremony id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	expires := now.Add(s.ttl)
	session.Expires = expires
	data, err := json.Marshal(ceremony{Kind: kind, Session: *session})
	if err != nil {
		return "", fmt.Errorf("passkey: encode ceremony: %w", err)
	}
	if err := s.ceremonies.Put(ctx, id, data, expires); err != nil {
		return "", fmt.Errorf("passkey: store ceremony: %w", err)
	}
	return id, nil
}

// take removes the ceremony id from the store and returns its session data if
// it is of kind, unexpired at now, and requires user verification. go-webauthn
// checks session.Expires once more against the wall clock.
func (s *Service) take(ctx context.Context, kind, id string, now time.Time) (webauthn.SessionData, error) {
	if id == "" {
		return webauthn.SessionData{}, fmt.Errorf("%w: empty ceremony id", ErrCeremonyNotFound)
	}
	data, err := s.ceremonies.Take(ctx, id, now)
	if err != nil {
		return webauthn.SessionData{}, fmt.Errorf("passkey: take ceremony: %w", err)
	}
	var c ceremony
	if err := json.Unmarshal(data, &c); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("passkey: decode ceremony: %w", err)
	}
	if c.Kind != kind {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony is a %s, not a %s", ErrCeremonyNotFound, c.Kind, kind)
	}
	if c.Session.Expires.IsZero() || !now.Before(c.Session.Expires) {
		return webauthn.SessionData{}, fmt.Errorf("%w: ceremony expired", ErrCeremonyNotFound)
	}
	if c.Session.UserVerification != protocol.VerificationRequired {
		return webauthn.SessionData{}, errors.New("passkey: ceremony does not require user verification")
	}
	return c.Session, nil
}

// libError adds go-webauthn's debugging detail, which its Error method leaves
// out, to err while keeping err in the chain.
func libError(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.DevInfo != "" {
		return fmt.Errorf("%w (%s)", err, pe.DevInfo)
	}
	return err
}

// findCredential returns the credential in creds whose id is id.
func findCredential(creds []Credential, id []byte) (Credential, bool) {
	for _, c := range creds {
		if bytes.Equal(c.ID, id) {
			return c, true
		}
	}
	return Credential{}, false
}

// descriptors returns the credential descriptors of creds, for exclusion.
func descriptors(creds []Credential) []protocol.CredentialDescriptor {
	if len(creds) == 0 {
		return nil
	}
	out := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, c := range creds {
		wc := toWebauthn(c)
		out = append(out, wc.Descriptor())
	}
	return out
}

// toWebauthn converts a stored credential to go-webauthn's form.
func toWebauthn(c Credential) webauthn.Credential {
	flags := protocol.FlagUserPresent
	if c.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if c.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if c.BackupState {
		flags |= protocol.FlagBackupState
	}
	var transports []protocol.AuthenticatorTransport
	for _, t := range c.Transports {
		transports = append(transports, protocol.AuthenticatorTransport(t))
	}
	return webauthn.Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		Transport:       transports,
		Flags:           webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{
			AAGUID:    c.AAGUID,
			SignCount: c.SignCount,
		},
	}
}

// fromWebauthn converts go-webauthn's credential to the stored form, labelled name.
func fromWebauthn(c webauthn.Credential, name string) Credential {
	var transports []string
	for _, t := range c.Transport {
		transports = append(transports, string(t))
	}
	return Credential{
		ID:              c.ID,
		PublicKey:       c.PublicKey,
		AttestationType: c.AttestationType,
		AAGUID:          c.Authenticator.AAGUID,
		SignCount:       c.Authenticator.SignCount,
		Transports:      transports,
		BackupEligible:  c.Flags.BackupEligible,
		BackupState:     c.Flags.BackupState,
		UserVerified:    c.Flags.UserVerified,
		Name:            name,
	}
}

// webauthnUser adapts User to go-webauthn's User interface.
type webauthnUser struct{ u User }

// WebAuthnID returns the user handle.
func (w webauthnUser) WebAuthnID() []byte { return w.u.ID }

// WebAuthnName returns the account name.
func (w webauthnUser) WebAuthnName() string { return w.u.Name }

// WebAuthnDisplayName returns the display name.
func (w webauthnUser) WebAuthnDisplayName() string { return w.u.DisplayName }

// WebAuthnCredentials returns the user's credentials in go-webauthn's form.
func (w webauthnUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(w.u.Credentials))
	for _, c := range w.u.Credentials {
		out = append(out, toWebauthn(c))
	}
	return out
}
