package command

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/personal"
)

// UsersUnlock clears the password lockout of one user:
// custos users unlock --tenant SLUG --email EMAIL. The change is audited as
// done by the command line.
func UsersUnlock(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("users unlock", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	slug := fs.String("tenant", "", "tenant slug (required)")
	email := fs.String("email", "", "the user's email (required)")
	dbURL := fs.String("database-url", "", "database URL (default CUSTOS_DATABASE_URL)")
	keyFile := fs.String("master-key-file", "", "master key file (default CUSTOS_MASTER_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *slug == "" || *email == "" {
		return errors.New("--tenant and --email are required")
	}
	var cfgArgs []string
	if *dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *dbURL)
	}
	if *keyFile != "" {
		cfgArgs = append(cfgArgs, "--master-key-file", *keyFile)
	}
	cfg, logger, st, err := openStore(ctx, "users unlock", cfgArgs, env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := openVault(ctx, cfg, st, logger); err != nil {
		return err
	}
	sys := systemContext(ctx, logger, env.Clock, "", "unlock user")
	t, err := st.Client.Tenant.Query().Where(tenant.Slug(*slug)).Only(sys)
	if ent.IsNotFound(err) {
		return fmt.Errorf("no tenant %q", *slug)
	}
	if err != nil {
		return err
	}
	sys = systemContext(ctx, logger, env.Clock, t.ID, "unlock user from the command line")
	idx, ok, err := personal.QueryIndex(sys, st.Client, st.Client.Vault, t.ID, personal.Email, *email)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%q is not an email address", *email)
	}
	u, err := st.Client.User.Query().Where(user.TenantID(t.ID), user.EmailBidx(idx)).Only(sys)
	if ent.IsNotFound(err) {
		return fmt.Errorf("no user %s in tenant %s", *email, *slug)
	}
	if err != nil {
		return err
	}
	tx, err := st.Client.Tx(sys)
	if err != nil {
		return err
	}
	if _, err := authn.Unlock(sys, tx.Client(), u.ID); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "unlocked %s in tenant %s\n", *email, *slug)
	return nil
}
