package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

// migrationFiles holds the versioned migrations of both dialects, one
// directory each, in Atlas's directory format: <version>_<name>.sql files
// plus atlas.sum. They are written by migrationgen.go (make migration).
//
//go:embed migrations/postgres migrations/sqlite
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock held while migrating.
const migrationLockKey int64 = 0x637573746f735f6d // "custos_m"

// Status is the state of the database's migrations.
type Status struct {
	// Applied lists the versions recorded in the database, oldest first.
	Applied []string
	// Pending lists the versions this build carries that the database has
	// not applied yet, oldest first.
	Pending []string
}

// Current reports whether no migration is pending.
func (st Status) Current() bool { return len(st.Pending) == 0 }

// migration is one migration file.
type migration struct {
	version string
	name    string // file name
	stmts   []string
}

// embeddedMigrations returns the embedded migration directory of the
// dialect, as an in-memory Atlas directory, after checking it against its
// atlas.sum.
func embeddedMigrations(dialectName string) (*migrate.MemDir, error) {
	dir, err := migrationDir(dialectName)
	if err != nil {
		return nil, err
	}
	return readMigrationDir(migrationFiles, dir)
}

// readMigrationDir reads the migration directory dir of fsys into an
// in-memory Atlas directory and checks it against its atlas.sum.
func readMigrationDir(fsys fs.FS, dir string) (*migrate.MemDir, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	mem := &migrate.MemDir{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("read migrations: %w", err)
		}
	}
	if _, err := fs.Stat(fsys, path.Join(dir, migrate.HashFileName)); err != nil {
		return nil, fmt.Errorf("migrations in %s: %s is missing", dir, migrate.HashFileName)
	}
	if err := migrate.Validate(mem); err != nil {
		return nil, fmt.Errorf("migrations in %s do not match %s (edited by hand? rewrite it with make migration-hash): %w", dir, migrate.HashFileName, err)
	}
	return mem, nil
}

// migrationDir returns the directory of the dialect's migrations in
// migrationFiles.
func migrationDir(dialectName string) (string, error) {
	switch dialectName {
	case dialect.Postgres:
		return "migrations/postgres", nil
	case dialect.SQLite:
		return "migrations/sqlite", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", dialectName)
}

// migrations returns the store's migrations, oldest first.
func (s *Store) migrations() ([]migration, error) {
	dir, err := embeddedMigrations(s.Dialect)
	if err != nil {
		return nil, err
	}
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	out := make([]migration, 0, len(files))
	for _, f := range files {
		v := f.Version()
		if len(v) != 14 || strings.Trim(v, "0123456789") != "" || !strings.HasPrefix(f.Name(), v+"_") {
			return nil, fmt.Errorf("migration %s: name must be <14-digit version>_<name>.sql", f.Name())
		}
		if n := len(out); n > 0 && out[n-1].version == v {
			return nil, fmt.Errorf("migrations %s and %s have the same version", out[n-1].name, f.Name())
		}
		lf, ok := f.(*migrate.LocalFile)
		if !ok {
			return nil, fmt.Errorf("migration %s: unexpected file type %T", f.Name(), f)
		}
		stmts, err := lf.Stmts()
		if err != nil {
			return nil, fmt.Errorf("migration %s: split statements: %w", f.Name(), err)
		}
		out = append(out, migration{version: v, name: f.Name(), stmts: stmts})
	}
	return out, nil
}

// createMigrationsTable is the DDL of the table recording applied versions.
func (s *Store) createMigrationsTable() string {
	if s.Dialect == dialect.Postgres {
		return `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)`
}

// placeholder returns the n-th (1-based) bind placeholder of the dialect.
func (s *Store) placeholder(n int) string {
	if s.Dialect == dialect.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// queryer is what reading the applied versions needs: a *sql.DB, *sql.Conn
// or *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrationsTableExists reports whether schema_migrations exists.
func (s *Store) migrationsTableExists(ctx context.Context, q queryer) (bool, error) {
	var exists bool
	var err error
	if s.Dialect == dialect.Postgres {
		err = q.QueryRowContext(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists)
	} else {
		err = q.QueryRowContext(ctx, `SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&exists)
	}
	if err != nil {
		return false, fmt.Errorf("look for schema_migrations: %w", err)
	}
	return exists, nil
}

// appliedVersions returns the versions recorded in schema_migrations,
// oldest first. The table must exist.
func appliedVersions(ctx context.Context, q queryer) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	return out, nil
}

// Status reports the applied and pending migration versions. A database
// without the schema_migrations table has every migration pending.
func (s *Store) Status(ctx context.Context) (Status, error) {
	ms, err := s.migrations()
	if err != nil {
		return Status{}, fmt.Errorf("migration status: %w", err)
	}
	var st Status
	exists, err := s.migrationsTableExists(ctx, s.DB)
	if err != nil {
		return Status{}, fmt.Errorf("migration status: %w", err)
	}
	if exists {
		if st.Applied, err = appliedVersions(ctx, s.DB); err != nil {
			return Status{}, fmt.Errorf("migration status: %w", err)
		}
	}
	for _, m := range ms {
		if !slices.Contains(st.Applied, m.version) {
			st.Pending = append(st.Pending, m.version)
		}
	}
	return st, nil
}

// Migrate applies pending migrations under a lock and returns the versions
// it applied, oldest first.
//
// It refuses a PostgreSQL database whose LC_CTYPE is C or POSIX (see
// CheckCollation) and an embedded migration directory that does not match
// its atlas.sum. Each migration file runs in one transaction together with
// the row recording its version. On PostgreSQL the whole run holds an
// advisory lock on a dedicated connection; on SQLite every transaction
// begins IMMEDIATE, which serialises writers. Either way the applied
// versions are re-read inside each file's transaction, so concurrent runners
// never apply a file twice.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	if err := s.CheckCollation(ctx); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	ms, err := s.migrations()
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if s.Dialect == dialect.Postgres {
		unlock, err := lockPostgres(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		defer unlock()
	}
	if _, err := conn.ExecContext(ctx, s.createMigrationsTable()); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if err := checkHistory(ms, applied); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var done []string
	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
		ok, err := s.apply(ctx, conn, m)
		if err != nil {
			return done, fmt.Errorf("migrate: %w", err)
		}
		if ok {
			done = append(done, m.version)
		}
	}
	return done, nil
}

// checkHistory refuses to apply anything when files are pending and the
// database records versions this build does not carry: its history was
// written by another set of migrations (typically an init migration that
// was regenerated before the first release), and applying ours on top would
// fail halfway or, worse, succeed on a different schema.
func checkHistory(ms []migration, applied []string) error {
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.version] = true
	}
	var unknown []string
	for _, v := range applied {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	pending := len(ms) > len(applied)-len(unknown)
	if len(unknown) > 0 && pending {
		return fmt.Errorf("database has applied migrations this build does not carry (%s) and this build has pending ones: the migration history differs; recreate a development database", strings.Join(unknown, ", "))
	}
	return nil
}

// apply runs one migration file and records its version in one transaction
// on conn. It reports false when another runner applied the file first.
//
// On SQLite, foreign key enforcement is switched off around the
// transaction, as Atlas's own executor does: changing a table there means
// creating a new table, copying the rows and dropping the old one, and with
// enforcement on, dropping a referenced table deletes (or cascades to) the
// rows referencing it. PRAGMA foreign_keys is a no-op inside a transaction,
// so the PRAGMAs Atlas writes into such files do not help; instead, before
// committing, PRAGMA foreign_key_check must report no violation that was
// not there before.
func (s *Store) apply(ctx context.Context, conn *sql.Conn, m migration) (ok bool, err error) {
	if s.Dialect == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = off`); err != nil {
			return false, fmt.Errorf("apply %s: disable foreign keys: %w", m.name, err)
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, ferr := conn.ExecContext(ctx, `PRAGMA foreign_keys = on`); ferr != nil {
				// Never hand a connection without foreign keys back to the pool.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				err = errors.Join(err, fmt.Errorf("apply %s: enable foreign keys: %w", m.name, ferr))
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("apply %s: begin: %w", m.name, err)
	}
	defer func() {
		if !ok || err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("apply %s: rollback: %w", m.name, rerr))
			}
		}
	}()
	var n int
	err = tx.QueryRowContext(ctx,
		`SELECT count(*) FROM schema_migrations WHERE version = `+s.placeholder(1), m.version,
	).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("apply %s: read applied migrations: %w", m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	var before map[string]bool
	if s.Dialect == dialect.SQLite {
		if before, err = foreignKeyViolations(ctx, tx); err != nil {
			return false, fmt.Errorf("apply %s: %w", m.name, err)
		}
	}
	for i, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("apply %s: statement %d: %w", m.name, i+1, err)
		}
	}
	if s.Dialect == dialect.SQLite {
		after, err := foreignKeyViolations(ctx, tx)
		if err != nil {
			return false, fmt.Errorf("apply %s: %w", m.name, err)
		}
		for v := range after {
			if !before[v] {
				return false, fmt.Errorf("apply %s: foreign key violation introduced: %s", m.name, v)
			}
		}
	}
	_, err = tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, applied_at) VALUES (`+s.placeholder(1)+`, `+s.placeholder(2)+`)`,
		m.version, s.clk.Now().UTC(),
	)
	if err != nil {
		return false, fmt.Errorf("apply %s: record version: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("apply %s: commit: %w", m.name, err)
	}
	return true, nil
}

// foreignKeyViolations returns the rows of SQLite's PRAGMA foreign_key_check,
// each as "table rowid R references parent (constraint N)".
func foreignKeyViolations(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, fmt.Errorf("check foreign keys: %w", err)
	}
	defer rows.Close()
	out := make(map[string]bool)
	for rows.Next() {
		var (
			table, parent string
			rowid, fkid   sql.NullInt64
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return nil, fmt.Errorf("check foreign keys: %w", err)
		}
		out[fmt.Sprintf("%s rowid %d references %s (constraint %d)", table, rowid.Int64, parent, fkid.Int64)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check foreign keys: %w", err)
	}
	return out, nil
}

// lockPostgres takes the migration advisory lock on conn and returns the
// function releasing it. If the lock cannot be released, the connection is
// discarded instead of going back to the pool, since closing the session is
// the other way to release a session-level advisory lock.
func lockPostgres(ctx context.Context, conn *sql.Conn) (unlock func(), err error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return nil, fmt.Errorf("take migration lock: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}
