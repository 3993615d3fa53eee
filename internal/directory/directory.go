// Package directory owns the people of a tenant as whole operations: creating
// a user with a password and roles, and disabling one. GraphQL, the command
// line and later imports call it, so the same checks apply everywhere.
package directory

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/apitoken"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
)

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

// PasswordPolicy checks a password against a tenant's policy, reporting a
// refused one as bad input at pointer.
type PasswordPolicy interface {
	CheckPassword(t *ent.Tenant, pointer, pw string) error
}

// PasswordHasher hashes the passwords an administrator sets. The server's
// authn.Service is one: it bounds the hashing that requests start, so that
// a burst of user creations is refused with RATE_LIMITED rather than
// starving the rest of the API of CPU.
type PasswordHasher interface {
	HashPassword(ctx context.Context, password string) (string, error)
}

// Service creates, resets and disables users.
type Service struct {
	hasher PasswordHasher
	clock  clock.Clock
	policy PasswordPolicy
}

// New returns a Service.
func New(hasher PasswordHasher, clk clock.Clock, policy PasswordPolicy) *Service {
	return &Service{hasher: hasher, clock: clk, policy: policy}
}

// CreateUser creates a user with a hashed password and grants the roles in
// in.RoleIDs. client should be the request's transactional client so that
// the user and the grants are written together or not at all.
func (s *Service) CreateUser(ctx context.Context, client *ent.Client, in NewUser) (*ent.User, error) {
	var bad []apierr.FieldError
	if !strings.Contains(strings.TrimSpace(in.Email), "@") {
		bad = append(bad, apierr.Field("/input/email", "invalid_format"))
	}
	t, err := client.Tenant.Get(ctx, viewer.FromContext(ctx).TenantID)
	if err != nil {
		return nil, err
	}
	if err := s.policy.CheckPassword(t, "/input/password", in.Password); err != nil {
		bad = append(bad, apierr.As(err).Fields...)
	}
	if len(bad) > 0 {
		return nil, apierr.BadInput(bad...)
	}
	hash, err := s.hasher.HashPassword(ctx, in.Password)
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
	if err := s.endAccess(ctx, client, id); err != nil {
		return nil, err
	}
	return u, nil
}

// endAccess ends a user's sessions and revokes their API tokens.
func (s *Service) endAccess(ctx context.Context, client *ent.Client, id pulid.ID) error {
	now := s.clock.Now()
	_, err := client.Session.Update().Where(session.UserID(id), session.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("ending sessions: %w", err)
	}
	_, err = client.APIToken.Update().Where(apitoken.UserID(id), apitoken.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("revoking API tokens: %w", err)
	}
	return nil
}

// ResetPassword gives a user a one-time password, which they must change at
// their next sign-in, and ends their sessions. It needs a recent strong
// sign-in of the administrator.
func (s *Service) ResetPassword(ctx context.Context, client *ent.Client, id pulid.ID) (string, error) {
	if err := rule.RecentAuth(ctx); err != nil {
		return "", err
	}
	temporary := rand.Text()[:16]
	hash, err := s.hasher.HashPassword(ctx, temporary)
	if err != nil {
		return "", err
	}
	err = client.User.UpdateOneID(id).SetPasswordHash(hash).SetMustChangePassword(true).
		SetPasswordChangedAt(s.clock.Now()).Exec(ctx)
	if err != nil {
		return "", err
	}
	if err := s.endAccess(ctx, client, id); err != nil {
		return "", err
	}
	return temporary, nil
}
