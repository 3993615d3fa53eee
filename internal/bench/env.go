// Package bench owns Custos's performance benchmarks: the bench database (a
// seeded PostgreSQL database reused across runs while its seed and schema
// version stay the same), the whole application served in-process on it,
// the A/B pairs behind the targets of ../shared/DESIGN.md (G1, G2, P1, E1,
// L1, V1, A1), the closed-loop load test and the soak test. The driver in
// cmd/benchtable runs the pairs interleaved and prints the table; `make
// bench` and `make soak` call it. Nothing in the product imports this
// package.
package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/seed"
	"github.com/custos-crm/custos/internal/server"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/tenancy"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/workflows"
)

// EnvURL names the bench database. Unset, the bench uses a database named
// after the seed on the server of DefaultServerURL, creating it when
// missing and recreating it when its schema is behind.
const EnvURL = "CUSTOS_BENCH_DATABASE_URL"

// DefaultServerURL is the PostgreSQL server the bench database lives on by
// default.
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Password is the password of every seeded bench user.
const Password = "bench-password-not-for-production"

// Tenant is the slug of the seeded bench tenant.
const Tenant = "bench"

// masterKey is the bench database's master key, derived from a constant:
// the bench database holds generated data only and is never a place for
// real data.
func masterKey() []byte {
	k := sha256.Sum256([]byte("custos bench master key: generated data only"))
	return k[:]
}

// Config says which bench database to use.
type Config struct {
	// URL is the bench database; empty means a database named after the
	// seed on DefaultServerURL.
	URL string
	// Customers, ContactsPerCustomer, FollowUpsPerCustomer and Seed shape
	// the seeded tenant.
	Customers, ContactsPerCustomer, FollowUpsPerCustomer int
	Seed                                                 uint64
	// Log gets progress lines.
	Log io.Writer
	// ServerLog gets the served application's log at warning level and
	// above (requests that failed inside the server); nil discards it.
	ServerLog io.Writer
}

// Env is the seeded bench database with the application served on it.
type Env struct {
	Config
	Store *store.Store
	// Seeded is what the seeder made (or found).
	Seeded *seed.Result
	Hasher *password.Hasher
	// Server serves the whole HTTP stack.
	Server *httptest.Server
	// Forms is the plugin registry (V1).
	Forms *forms.Registry
	// Pgx is a plain pgx connection pool to the database, for baselines.
	Pgx *sql.DB
	// DatabaseURL is where the bench database is.
	DatabaseURL string
	logger      *slog.Logger
	// stops end what serve started beside the servers.
	stops []context.CancelFunc
}

// Close stops the server and closes the database.
func (e *Env) Close() {
	for _, stop := range e.stops {
		stop()
	}
	if e.Server != nil {
		e.Server.Close()
	}
	if e.Pgx != nil {
		e.Pgx.Close()
	}
	if e.Store != nil {
		e.Store.Close()
	}
}

// Open prepares the bench database (creating, migrating and seeding it as
// needed) and serves the application on it.
func Open(ctx context.Context, cfg Config) (*Env, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	dbURL := cfg.URL
	if dbURL == "" {
		name := fmt.Sprintf("custos_bench_s%d_%d_%d_%d", cfg.Seed, cfg.Customers, cfg.ContactsPerCustomer, cfg.FollowUpsPerCustomer)
		var err error
		if dbURL, err = ensureDatabase(ctx, DefaultServerURL, name, cfg.Log); err != nil {
			return nil, err
		}
	}
	serverLog := cfg.ServerLog
	if serverLog == nil {
		serverLog = io.Discard
	}
	e := &Env{Config: cfg, DatabaseURL: dbURL, logger: slog.New(slog.NewTextHandler(serverLog, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	clk := clock.System{}
	st, err := store.Open(ctx, dbURL, clk)
	if err != nil {
		return nil, err
	}
	e.Store = st
	if err := e.prepare(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Env) prepare(ctx context.Context) error {
	st := e.Store
	if _, err := st.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating the bench database: %w", err)
	}
	if _, err := jobs.Migrate(ctx, st); err != nil {
		return fmt.Errorf("migrating the job queue: %w", err)
	}
	v, err := vault.Open(ctx, masterKey(), st.KeyStore(), vault.Options{})
	if err != nil {
		return fmt.Errorf("opening the vault (is %s a bench database?): %w", e.DatabaseURL, err)
	}
	st.UseVault(v)
	sys := viewer.NewSystemContext(ctx, "", "bench: sync built-in roles", time.Now())
	if err := tenancy.SyncBuiltinRoles(sys, st.Client); err != nil {
		return err
	}
	// Argon2id at the product's parameters, as `custos serve` runs it.
	e.Hasher = password.NewHasher(password.DefaultParams(), max(1, runtime.GOMAXPROCS(0)/2))
	hash, err := e.Hasher.Hash(ctx, Password)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Log, "bench: seeding %d customers (seed %d) in %s, reused when already there\n", e.Customers, e.Config.Seed, redact(e.DatabaseURL))
	e.Seeded, err = seed.Run(ctx, st, seed.Options{
		Tenant: Tenant, Customers: e.Customers, ContactsPerCustomer: e.ContactsPerCustomer,
		FollowUpsPerCustomer: e.FollowUpsPerCustomer, Seed: e.Config.Seed, PasswordHash: hash, BatchSize: 5000, Progress: e.Log,
	})
	if err != nil {
		return err
	}
	if e.Seeded.Written > 0 {
		if _, err := st.DB.ExecContext(ctx, `ANALYZE`); err != nil {
			return err
		}
	}
	e.Forms, err = forms.DefaultRegistry()
	if err != nil {
		return err
	}
	if err := workflows.RegisterPlugins(e.Forms); err != nil {
		return err
	}
	e.Forms.InstallFormats()
	if e.Server, err = e.serve(st); err != nil {
		return err
	}
	e.Pgx, err = openPgx(e.DatabaseURL)
	return err
}

// serve builds the application on st as `custos serve` does (jobs not
// started, the audit sealer running until Close) and serves it.
func (e *Env) serve(st *store.Store) (*httptest.Server, error) {
	bg, err := server.NewBackground(server.BackgroundConfig{
		Store: st, Clock: clock.System{}, Logger: e.logger, Registry: prometheus.NewRegistry(), Forms: e.Forms,
		PublicURL: "http://localhost", PollInterval: time.Second,
	})
	if err != nil {
		return nil, err
	}
	sealing, stopSealing := context.WithCancel(context.Background())
	go bg.Sealer.Run(sealing)
	e.stops = append(e.stops, stopSealing)
	handler, err := server.NewApp(server.AppConfig{
		Store: st, Clock: clock.System{}, Hasher: e.Hasher, Logger: e.logger, Registry: prometheus.NewRegistry(),
		PublicURL: "http://localhost", Background: bg,
		// Raised for the benchmark: A1 signs in 15 distinct users a second.
		Throttle: authn.ThrottleLimits{PerIP: 1 << 30, PerTenant: 1 << 30, PerAccount: 1 << 30},
	})
	if err != nil {
		return nil, err
	}
	return httptest.NewServer(handler), nil
}

// openPgx opens a pool of plain pgx connections for the baselines.
func openPgx(dbURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	return db, nil
}

// ensureDatabase returns the URL of database name on the server of
// serverURL, creating it (UTF-8, from template0) when missing. A database
// whose schema is not this binary's is dropped and made again: the cache
// is keyed by seed (the name) and schema version (checked here).
func ensureDatabase(ctx context.Context, serverURL, name string, log io.Writer) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	dbURL := *u
	dbURL.Path = "/" + name
	var exists bool
	if err := admin.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("bench: connecting to %s: %w", u.Redacted(), err)
	}
	if exists {
		current, err := schemaCurrent(ctx, dbURL.String())
		if err == nil && current {
			return dbURL.String(), nil
		}
		// Behind, or migrated along another history (a regenerated
		// initial migration): the cache is stale either way.
		if err != nil {
			fmt.Fprintf(log, "bench: reading the schema version of %s: %v\n", name, err)
		}
		fmt.Fprintf(log, "bench: %s has another schema version: making it again\n", name)
		if _, err := admin.ExecContext(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(log, "bench: creating database %s\n", name)
	_, err = admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`)
	return dbURL.String(), err
}

// schemaCurrent reports whether the database at dbURL has every migration
// of this binary applied.
func schemaCurrent(ctx context.Context, dbURL string) (bool, error) {
	st, err := store.Open(ctx, dbURL, clock.System{})
	if err != nil {
		return false, err
	}
	defer st.Close()
	status, err := st.Status(ctx)
	if err != nil {
		return false, err
	}
	return status.Current(), nil
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the bench database"
	}
	return p.Redacted()
}

// post sends a JSON body to path on the server with an optional bearer
// token and returns the status and body.
func (e *Env) post(ctx context.Context, client *http.Client, path, token, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// errStatus is returned for an unexpected HTTP answer.
var errStatus = errors.New("bench: unexpected answer")
