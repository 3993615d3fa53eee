// Package store owns the database: opening PostgreSQL or the embedded SQLite
// file from a URL, the versioned migrations of both dialects, and the ent
// client on top.
package store

import (
	"github.com/custos-crm/custos/ent/schema/customfields"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/custos-crm/custos/ent"
	_ "github.com/custos-crm/custos/ent/runtime" // hooks and privacy policies; without it they are silently absent
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/vault"
)

// sqlitePrefix starts a SQLite URL: "sqlite:PATH".
const sqlitePrefix = "sqlite:"

// sqliteParams are the connection parameters of every SQLite connection:
// foreign keys on (ent's migrations check it), a ten second busy timeout,
// write-ahead logging, BEGIN IMMEDIATE for every transaction (so writers
// queue on the busy timeout instead of failing when they upgrade a read
// lock), and times written in SQLite's own text format.
const sqliteParams = "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate&_time_format=sqlite"

// Store is an open database: the ent client, the database/sql handle under it
// and the dialect.
type Store struct {
	// Client is the ent client. It reads time from the clock given to Open.
	Client *ent.Client
	// DB is the database/sql handle the client runs on.
	DB *sql.DB
	// Dialect is dialect.Postgres or dialect.SQLite.
	Dialect string

	drv   dialect.Driver // the UTC-normalising driver under Client
	clk   clock.Clock
	vault *vault.Vault
	forms customfields.Processor
}

// Open opens the database named by url and returns a Store whose ent client
// reads time from clk.
//
// url is either a PostgreSQL URL ("postgres://..." or "postgresql://...") or
// "sqlite:PATH" for the embedded SQLite database in the file PATH (relative to
// the working directory or absolute; its parent directory is created with
// mode 0700 when missing). Open checks that the database is reachable.
func Open(ctx context.Context, url string, clk clock.Clock) (*Store, error) {
	if clk == nil {
		return nil, errors.New("open database: nil clock")
	}
	var (
		db   *sql.DB
		name string
		err  error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		name = dialect.Postgres
		db, err = openPostgres(url)
	case strings.HasPrefix(url, sqlitePrefix):
		name = dialect.SQLite
		db, err = openSQLite(strings.TrimPrefix(url, sqlitePrefix))
	default:
		return nil, fmt.Errorf("open database: unsupported url %q: want postgres://..., postgresql://... or sqlite:PATH", redact(url))
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open database: %w", err), db.Close())
	}
	drv := &utcDriver{drv: entsql.OpenDB(name, db)}
	return &Store{
		Client:  newClient(drv, clk, nil, nil),
		DB:      db,
		Dialect: name,
		drv:     drv,
		clk:     clk,
	}, nil
}

// openSQLite opens the SQLite database in the file path.
func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("empty sqlite path: want sqlite:PATH")
	}
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite path %q: parameters are not accepted, the store sets its own", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create sqlite directory: %w", err)
	}
	// The path goes into a SQLite URI filename, where '%' starts an escape
	// and '#' a fragment.
	dsn := "file:" + strings.NewReplacer("%", "%25", "#", "%23").Replace(abs) + "?" + sqliteParams
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// Exactly one connection. SQLite has a single writer anyway, and the job
	// queue built on this database requires it: with one connection there
	// is no second connection to wait for a lock another one holds. The
	// flip side is that code running inside a transaction must use only
	// that transaction, never the Store's client or DB, or it deadlocks.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db, nil
}

// redact returns u with any password replaced, for error messages; a URL
// that does not parse, and so may hide a password anywhere, is not shown.
func redact(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return "(not a valid URL)"
	}
	if parsed.User == nil {
		return u
	}
	return parsed.Redacted()
}

// UseForms rebuilds the client with the processor that validates custom
// fields. Hooks installed on the previous client are not carried over:
// call it before installing any.
func (s *Store) UseForms(p customfields.Processor) {
	s.forms = p
	s.Client = newClient(s.drv, s.clk, s.vault, p)
}

// Close closes the ent client and the database under it.
func (s *Store) Close() error {
	if err := s.Client.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.DB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// CheckCollation returns an error on PostgreSQL when the current database's
// LC_CTYPE is C or POSIX, or its encoding is not UTF8: trigram matching and
// CJK text handling need a UTF-8 character classification. It returns nil on
// SQLite.
func (s *Store) CheckCollation(ctx context.Context) error {
	if s.Dialect != dialect.Postgres {
		return nil
	}
	var name, ctype, encoding string
	err := s.DB.QueryRowContext(ctx,
		`SELECT datname, datctype, pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()`,
	).Scan(&name, &ctype, &encoding)
	if err != nil {
		return fmt.Errorf("check collation: %w", err)
	}
	const howTo = "create the database with CREATE DATABASE custos TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
	switch {
	case strings.EqualFold(ctype, "C"), strings.EqualFold(ctype, "POSIX"):
		return fmt.Errorf("check collation: database %q has LC_CTYPE %q, but trigram and CJK text handling need a UTF-8 LC_CTYPE: %s", name, ctype, howTo)
	case encoding != "UTF8":
		return fmt.Errorf("check collation: database %q has encoding %q, but the store needs UTF8: %s", name, encoding, howTo)
	}
	return nil
}

// newClient builds the ent client with its dependencies.
func newClient(drv dialect.Driver, clk clock.Clock, v *vault.Vault, forms customfields.Processor) *ent.Client {
	return ent.NewClient(ent.Driver(drv), ent.Clock(clk), ent.Vault(v), ent.Forms(forms))
}
