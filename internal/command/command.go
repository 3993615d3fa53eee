// Package command owns the custos subcommands: serve, migrate and
// bootstrap. It wires every dependency explicitly; nothing is global.
package command

import (
	"github.com/custos-crm/custos/internal/jobs"

	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/tenancy"
)

const usage = `usage: custos [command] [flags]

commands:
  serve       run the server (default)
  migrate     apply database migrations and update built-in roles
  bootstrap   create a tenant and its administrator
  users unlock --tenant SLUG --email EMAIL
              clear a user's password lockout
  audit verify [--tenant SLUG]
              check the audit hash chains; exits non-zero naming the first bad event
  seed --tenant SLUG --customers N --contacts-per-customer K --follow-ups-per-customer M --seed S
              fill a tenant with generated data for trials and benchmarks
`

// Run runs the subcommand named in args[1] (serve when absent).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", []string{}
	if len(args) > 1 {
		cmd, rest = args[1], args[2:]
		if len(cmd) > 0 && cmd[0] == '-' {
			cmd, rest = "serve", args[1:]
		}
	}
	env := Env{Getenv: getenv, Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Clock: clock.System{}}
	switch cmd {
	case "serve":
		return Serve(ctx, rest, env)
	case "migrate":
		return Migrate(ctx, rest, env)
	case "bootstrap":
		return Bootstrap(ctx, rest, env)
	case "users":
		if len(rest) == 0 || rest[0] != "unlock" {
			fmt.Fprint(stderr, usage)
			return errors.New("usage: custos users unlock --tenant SLUG --email EMAIL")
		}
		return UsersUnlock(ctx, rest[1:], env)
	case "audit":
		if len(rest) == 0 || rest[0] != "verify" {
			fmt.Fprint(stderr, usage)
			return errors.New("usage: custos audit verify [--tenant SLUG]")
		}
		return AuditVerify(ctx, rest[1:], env)
	case "seed":
		return Seed(ctx, rest, env)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// Env is what every command gets from run().
type Env struct {
	Getenv         func(string) string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Clock          clock.Clock
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// loadConfig parses flags and environment, reporting every problem at once.
func loadConfig(name string, args []string, env Env) (config.Config, error) {
	cfg, _, err := config.Load(name, args, env.Getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration:\n%w", err)
	}
	return cfg, nil
}

// systemContext opens the audited system context for maintenance done by
// the command line, recording why.
func systemContext(ctx context.Context, logger *slog.Logger, clk clock.Clock, tenantID pulid.ID, reason string) context.Context {
	logger.InfoContext(ctx, "system context opened", "tenant_id", string(tenantID), "reason", reason)
	return viewer.NewSystemContext(ctx, tenantID, reason, clk.Now())
}

// migrate applies pending migrations and brings built-in roles up to date.
func migrate(ctx context.Context, st *store.Store, logger *slog.Logger, clk clock.Clock) ([]string, error) {
	applied, err := st.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	n, err := jobs.Migrate(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("migrating the job queue: %w", err)
	}
	if n > 0 {
		applied = append(applied, fmt.Sprintf("job queue: %d migrations", n))
	}
	sys := systemContext(ctx, logger, clk, "", "sync built-in roles")
	if err := tenancy.SyncBuiltinRoles(sys, st.Client); err != nil {
		return nil, fmt.Errorf("updating built-in roles: %w", err)
	}
	return applied, nil
}

// Migrate applies pending migrations.
func Migrate(ctx context.Context, args []string, env Env) error {
	cfg, logger, st, err := openStore(ctx, "migrate", args, env, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := openVault(ctx, cfg, st, logger); err != nil {
		return err
	}
	applied, err := migrate(ctx, st, logger, env.Clock)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(env.Stdout, "database schema is current")
		return nil
	}
	for _, v := range applied {
		fmt.Fprintln(env.Stdout, "applied migration", v)
	}
	return nil
}

var errSchemaBehind = errors.New("database schema is behind this binary; run `custos migrate` (or set CUSTOS_AUTO_MIGRATE=true)")

// openStore loads the configuration from args and the environment and opens
// the database, applying migrations first when migrate is set. The caller
// closes the store.
func openStore(ctx context.Context, name string, args []string, env Env, migrate bool) (config.Config, *slog.Logger, *store.Store, error) {
	cfg, err := loadConfig(name, args, env)
	if err != nil {
		return cfg, nil, nil, err
	}
	logger := newLogger(env.Stderr, cfg.LogLevel)
	st, err := store.Open(ctx, cfg.DatabaseURL, env.Clock)
	if err != nil {
		return cfg, nil, nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			return cfg, nil, nil, fmt.Errorf("migrating: %w", err)
		}
	}
	return cfg, logger, st, nil
}
