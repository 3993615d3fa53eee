package command

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/internal/seed"
)

// Seed fills a tenant with generated customers, contacts and follow-ups:
// custos seed --tenant SLUG --customers N --contacts-per-customer K
// --follow-ups-per-customer M --seed S. The tenant is created when missing;
// one holding data the seeder did not generate is refused. The seeded users'
// password comes from --password-file or is generated and printed once, by
// the run that creates them.
func Seed(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	slug := fs.String("tenant", "", "tenant slug, created when missing (required)")
	customers := fs.Int("customers", 1000, "customers in the seed")
	contacts := fs.Int("contacts-per-customer", 2, "contacts of each customer")
	followUps := fs.Int("follow-ups-per-customer", 3, "follow-ups of each customer")
	seedValue := fs.Uint64("seed", 1, "the seed: the same seed gives the same data")
	batch := fs.Int("batch-size", seed.DefaultBatchSize, "customers written per batch (and per audit event)")
	pwFile := fs.String("password-file", "", "file holding the seeded users' password (default: generate and print one)")
	dbURL := fs.String("database-url", "", "database URL (default CUSTOS_DATABASE_URL)")
	keyFile := fs.String("master-key-file", "", "master key file (default CUSTOS_MASTER_KEY_FILE)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pw := rand.Text()[:16]
	printPassword := true
	if *pwFile != "" {
		b, err := os.ReadFile(*pwFile)
		if err != nil {
			return fmt.Errorf("reading --password-file: %w", err)
		}
		pw, printPassword = strings.TrimRight(string(b), "\r\n"), false
	}
	var cfgArgs []string
	if *dbURL != "" {
		cfgArgs = append(cfgArgs, "--database-url", *dbURL)
	}
	if *keyFile != "" {
		cfgArgs = append(cfgArgs, "--master-key-file", *keyFile)
	}
	cfg, err := loadConfig("seed", cfgArgs, env)
	if err != nil {
		return err
	}
	cfg, logger, st, err := openStore(ctx, "seed", cfgArgs, env, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := openVault(ctx, cfg, st, logger); err != nil {
		return err
	}
	hash, err := password.NewHasher(password.DefaultParams(), 1).Hash(ctx, pw)
	if err != nil {
		return err
	}
	logger.InfoContext(ctx, "system context opened", "tenant", *slug, "reason", "custos seed")
	res, err := seed.Run(ctx, st, seed.Options{
		Tenant: *slug, Customers: *customers, ContactsPerCustomer: *contacts, FollowUpsPerCustomer: *followUps,
		Seed: *seedValue, PasswordHash: hash, BatchSize: *batch, Progress: env.Stdout,
	})
	if err != nil {
		return err
	}
	if res.Written == 0 && !res.CreatedTenant {
		fmt.Fprintf(env.Stdout, "tenant %s already holds seed %d: nothing to do\n", *slug, *seedValue)
		return nil
	}
	fmt.Fprintf(env.Stdout, "seeded tenant %s (%s): %d customers in %s\n", *slug, res.TenantID, res.Written, res.Elapsed.Round(100_000_000))
	if printPassword && res.CreatedPeople {
		p := res.People
		fmt.Fprintf(env.Stdout, "Sign in with tenant %q as %s (manager) or %s (sales); password for the users of this run (shown only now): %s\n",
			*slug, p.People[p.Departments[0].Leader].Email, p.People[p.Owners[0]].Email, pw)
	}
	return nil
}
