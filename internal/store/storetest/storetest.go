// Package storetest opens throwaway databases for tests: a SQLite file in the
// test's temporary directory, and, when CUSTOS_TEST_DATABASE_URL names a
// PostgreSQL server, a fresh PostgreSQL database on it. Import it only from
// _test.go files.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
)

// EnvURL is the environment variable naming the PostgreSQL server for tests:
// a full URL to any database on it, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. The tests
// connect to it to create and drop their own databases.
const EnvURL = "CUSTOS_TEST_DATABASE_URL"

// The dialect names of this package.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Dialects returns "sqlite", plus "postgres" when CUSTOS_TEST_DATABASE_URL is
// set.
func Dialects() []string {
	if os.Getenv(EnvURL) != "" {
		return []string{SQLite, Postgres}
	}
	return []string{SQLite}
}

// EachDialect runs fn as a subtest per dialect: t.Run(dialect, ...).
func EachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// Open returns a migrated Store for the test on the given dialect, closed
// and removed when the test ends.
//
// On SQLite the database is a file in t.TempDir(). On PostgreSQL it is a
// fresh database named custos_test_<random hex>, created on the server of
// CUSTOS_TEST_DATABASE_URL with a UTF-8 LC_CTYPE and dropped when the test
// ends; the test is skipped when that variable is not set.
func Open(t testing.TB, dialect string, clk clock.Clock) *store.Store {
	t.Helper()
	return open(t, OpenURL(t, dialect), clk)
}

// OpenUnmigrated is Open without running migrations (for migration tests).
func OpenUnmigrated(t testing.TB, dialect string, clk clock.Clock) *store.Store {
	t.Helper()
	return open(t, NewURL(t, dialect), clk)
}

// OpenURL creates and migrates a database as Open does and returns its URL
// (for tests that start the whole binary against it) without opening a
// Store. The database is removed when the test ends.
func OpenURL(t testing.TB, dialect string) string {
	t.Helper()
	u := NewURL(t, dialect)
	s, err := store.Open(context.Background(), u, clock.System{})
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	_, err = s.Migrate(context.Background())
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return u
}

// NewURL creates an empty, unmigrated database as OpenUnmigrated does and
// returns its URL. The database is removed when the test ends.
func NewURL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "custos.db")
	case Postgres:
		return PostgresDatabase(t, "C.UTF-8", "C.UTF-8")
	}
	t.Fatalf("storetest: unknown dialect %q: want %q or %q", dialect, SQLite, Postgres)
	return ""
}

// PostgresDatabase creates an empty PostgreSQL database from template0 with
// UTF8 encoding and the given LC_COLLATE and LC_CTYPE on the server of
// CUSTOS_TEST_DATABASE_URL and returns its URL: the server's URL with only
// the database name replaced.
// The database is dropped (WITH (FORCE)) when the test ends; the test is
// skipped when CUSTOS_TEST_DATABASE_URL is not set.
func PostgresDatabase(t testing.TB, lcCollate, lcCtype string) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		t.Skipf("storetest: %s is not set", EnvURL)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("storetest: %s must be a postgres:// URL", EnvURL)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() { db.Close() })
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	name := "custos_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	_, err = db.ExecContext(ctx, fmt.Sprintf(
		`CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE %s LC_CTYPE %s`,
		name, quote(lcCollate), quote(lcCtype)))
	if err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("storetest: drop database %s: %v", name, err)
		}
	})
	dbURL := *u
	dbURL.Path = "/" + name
	dbURL.RawPath = ""
	return dbURL.String()
}

// quote returns s as an SQL string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// URL returns the database URL of a store opened by this package, for tests
// that start the whole binary against the same database.
func URL(t testing.TB, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	switch s.Dialect {
	case dialect.SQLite:
		var seq int
		var name, file string
		if err := s.DB.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
			t.Fatalf("storetest: sqlite file name: %v", err)
		}
		return "sqlite:" + file
	case dialect.Postgres:
		var name string
		if err := s.DB.QueryRowContext(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatalf("storetest: database name: %v", err)
		}
		u, err := url.Parse(os.Getenv(EnvURL))
		if err != nil {
			t.Fatalf("storetest: parse %s: %v", EnvURL, err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String()
	}
	t.Fatalf("storetest: unknown dialect %q", s.Dialect)
	return ""
}

// open opens the store at u, closed when the test ends.
func open(t testing.TB, u string, clk clock.Clock) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), u, clk)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("storetest: close store: %v", err)
		}
	})
	return s
}
