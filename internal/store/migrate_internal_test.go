package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/clock"
)

// recreateParent returns the statement sequence Atlas writes on SQLite to
// change a table: create a new one, copy the rows, drop the old one, rename.
func recreateParent() []string {
	return []string{
		"PRAGMA foreign_keys = off",
		"CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '')",
		"INSERT INTO new_parent (id) SELECT id FROM parent",
		"DROP TABLE parent",
		"ALTER TABLE new_parent RENAME TO parent",
		"PRAGMA foreign_keys = on",
	}
}

// TestApplySQLiteKeepsReferencingRows checks that recreating a referenced
// table in a migration does not cascade to the rows referencing it, which it
// does when foreign keys are enforced (PRAGMA foreign_keys is a no-op inside
// the migration's transaction), and that a migration leaving a dangling
// reference is rolled back.
func TestApplySQLiteKeepsReferencingRows(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "fk.db"), clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, stmt := range []string{
		"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
		"CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE)",
		"INSERT INTO parent (id) VALUES (1), (2)",
		"INSERT INTO child (id, parent_id) VALUES (10, 1), (20, 2)",
		s.createMigrationsTable(),
	} {
		if _, err := s.DB.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	children := func() int {
		t.Helper()
		var n int
		if err := s.DB.QueryRowContext(ctx, "SELECT count(*) FROM child").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Control: in a plain transaction the recreation cascades.
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range recreateParent() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM child").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("control: %d children survived a plain transaction; the hazard this test guards against is gone", n)
	}

	conn, err := s.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := s.apply(ctx, conn, migration{version: "20250101000000", name: "20250101000000_recreate.sql", stmts: recreateParent()})
	if err != nil || !ok {
		t.Fatalf("apply recreate: %v, %v", ok, err)
	}
	bad := migration{version: "20250101000001", name: "20250101000001_dangle.sql", stmts: []string{"DELETE FROM parent WHERE id = 1"}}
	ok, err = s.apply(ctx, conn, bad)
	if err == nil || ok || !strings.Contains(err.Error(), "foreign key violation") {
		t.Fatalf("apply dangling reference: %v, %v; want a foreign key violation", ok, err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}

	if got := children(); got != 2 {
		t.Fatalf("%d children left, want 2", got)
	}
	var fk int
	if err := s.DB.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 1 {
		t.Fatal("foreign keys are off after apply")
	}
	var versions []string
	rows, err := s.DB.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if len(versions) != 1 || versions[0] != "20250101000000" {
		t.Fatalf("recorded versions %v, want only the recreate migration", versions)
	}
}
