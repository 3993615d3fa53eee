package command

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/internal/tenancy"
)

// Bootstrap creates a tenant with its administrator. The password comes from
// --admin-password-file, --admin-password (for tests) or standard input.
func Bootstrap(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("bootstrap", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	slug := fs.String("tenant", "", "tenant slug: lower-case letters, digits and dashes (required)")
	name := fs.String("name", "", "tenant display name (required)")
	email := fs.String("admin-email", "", "administrator email (required)")
	adminName := fs.String("admin-name", "Administrator", "administrator name")
	pwFile := fs.String("admin-password-file", "", "file holding the administrator password")
	pwFlag := fs.String("admin-password", "", "administrator password (visible to other processes; for tests)")
	dbURL := fs.String("database-url", "", "database URL (default CUSTOS_DATABASE_URL)")
	keyFile := fs.String("master-key-file", "", "master key file (default CUSTOS_MASTER_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var errs []error
	for _, f := range []struct{ flag, value string }{{"--tenant", *slug}, {"--name", *name}, {"--admin-email", *email}} {
		if strings.TrimSpace(f.value) == "" {
			errs = append(errs, fmt.Errorf("%s is required", f.flag))
		}
	}
	if *pwFile != "" && *pwFlag != "" {
		errs = append(errs, errors.New("give --admin-password-file or --admin-password, not both"))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	pw, err := readPassword(env.Stdin, *pwFile, *pwFlag)
	if err != nil {
		return err
	}
	if p := (password.Policy{}).Check(pw, &password.CommonPasswords{}); p != nil {
		return fmt.Errorf("the administrator password is refused (%s): use at least %d characters and not a common password", p.MessageKey, password.MinMinLength)
	}
	var cfgArgs []string
	if *dbURL != "" {
		cfgArgs = []string{"--database-url", *dbURL}
	}
	if *keyFile != "" {
		cfgArgs = append(cfgArgs, "--master-key-file", *keyFile)
	}
	cfg, err := loadConfig("bootstrap", cfgArgs, env)
	if err != nil {
		return err
	}
	cfg, logger, st, err := openStore(ctx, "bootstrap", cfgArgs, env, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := openVault(ctx, cfg, st, logger); err != nil {
		return err
	}
	hasher := password.NewHasher(password.DefaultParams(), 1)
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	sys := systemContext(ctx, logger, env.Clock, "", "bootstrap tenant "+*slug)
	created, err := tenancy.Create(sys, st.Client, tenancy.Spec{
		Slug: *slug, Name: *name, AdminEmail: *email, AdminName: *adminName, AdminPasswordHash: hash,
	})
	if errors.Is(err, tenancy.ErrTenantExists) {
		return fmt.Errorf("tenant %q already exists", *slug)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created tenant %s (%s) with administrator %s\n", created.Tenant.Slug, created.Tenant.ID, *email)
	return nil
}

func readPassword(stdin io.Reader, file, flagValue string) (string, error) {
	switch {
	case flagValue != "":
		return flagValue, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading --admin-password-file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	default:
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no administrator password: give --admin-password-file or pipe it on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
}
