// Package directory owns the people of a tenant as whole operations: creating
// a user with a password and roles, and disabling one. GraphQL, the command
// line and later imports call it, so the same checks apply everywhere.
package directory

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// MaxPasswordLength is the longest password accepted; argon2id hashes
// anything, but nobody needs more and it bounds the work.
const MaxPasswordLength = 256

// NewUser is the input for creating a user.
type NewUser struct {
	Email              string
	Name               string
	Password           string
	DepartmentID       pulid.ID
	ReportsToID        *pulid.ID
	RoleIDs            []pulid.ID
	Locale             *string
	MustChangePassword bool
}

// Service creates and disables users.
type Service struct {
	hasher *password.Hasher
	clock  clock.Clock
}

// New returns a Service.
func New(hasher *password.Hasher, clk clock.Clock) *Service {
	return &Service{hasher: hasher, clock: clk}
}

// CheckPassword reports a password that breaks the policy as bad input at
// pointer.
func CheckPassword(pointer, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return apierr.BadInput(apierr.Field(pointer, "too_short", "min", fmt.Sprint(MinPasswordLength)))
	case n > MaxPasswordLength:
		return apierr.BadInput(apierr.Field(pointer, "too_long", "max", fmt.Sprint(MaxPasswordLength)))
	}
	return nil
}

// CreateUser creates a user with a hashed password and grants the roles in
// in.RoleIDs. client should be the request's transactional client so that
// the user and the grants are written together or not at all.
func (s *Service) CreateUser(ctx context.Context, client *ent.Client, in NewUser) (*ent.User, error) {
	var bad []apierr.FieldError
	if !strings.Contains(strings.TrimSpace(in.Email), "@") {
		bad = append(bad, apierr.Field("/input/email", "invalid_format"))
	}
	if err := CheckPassword("/input/password", in.Password); err != nil {
		bad = append(bad, apierr.As(err).Fields...)
	}
	if len(bad) > 0 {
		return nil, apierr.BadInput(bad...)
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("hashing password: %w", err)
	}
	u, err := client.User.Create().
		SetEmail(secret.Plain(strings.TrimSpace(in.Email))).
		SetName(in.Name).
		SetPasswordHash(hash).
		SetDepartmentID(in.DepartmentID).
		SetNillableReportsToID(in.ReportsToID).
		SetNillableLocale(in.Locale).
		SetMustChangePassword(in.MustChangePassword).
		Save(ctx)
	if ent.IsConstraintError(err) {
		// The only unique key a new user can collide on is the email.
		return nil, apierr.BadInput(apierr.Field("/input/email", "taken"))
	}
	if err != nil {
		return nil, err
	}
	for i, roleID := range in.RoleIDs {
		_, err := client.RoleGrant.Create().SetUserID(u.ID).SetRoleID(roleID).Save(ctx)
		if e := apierr.As(err); e != nil {
			for j := range e.Fields {
				if e.Fields[j].Pointer == "/input/roleID" {
					e.Fields[j].Pointer = fmt.Sprintf("/input/roleIDs/%d", i)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return u, nil
}

// DisableUser disables a user and ends every session they hold.
func (s *Service) DisableUser(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.User, error) {
	u, err := client.User.UpdateOneID(id).SetStatus(user.StatusDisabled).Save(ctx)
	if err != nil {
		return nil, err
	}
	_, err = client.Session.Update().
		Where(session.UserID(id), session.RevokedAtIsNil()).
		SetRevokedAt(s.clock.Now()).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ending sessions: %w", err)
	}
	return u, nil
}
