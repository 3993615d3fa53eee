package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/store/storetest"
)

func TestOpenUnsupportedURL(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{
		"mysql://user:s3cret@localhost/custos",
		"custos.db",
		"",
		"sqlite3://custos.db",
		"mysql://user:s3cret@localhost/x y%zz",
	} {
		s, err := store.Open(ctx, u, clock.System{})
		if err == nil {
			s.Close()
			t.Fatalf("Open(%q): no error", u)
		}
		msg := err.Error()
		for _, want := range []string{"postgres://", "sqlite:PATH"} {
			if !strings.Contains(msg, want) {
				t.Errorf("Open(%q): error %q does not name the accepted form %s", u, msg, want)
			}
		}
		if strings.Contains(msg, "s3cret") {
			t.Errorf("Open(%q): error %q shows the password", u, msg)
		}
	}
	for _, u := range []string{"sqlite:", "sqlite:custos.db?mode=ro"} {
		if s, err := store.Open(ctx, u, clock.System{}); err == nil {
			s.Close()
			t.Errorf("Open(%q): no error", u)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	ctx := context.Background()
	t.Run("absolute", func(t *testing.T) {
		parent := filepath.Join(t.TempDir(), "a", "b")
		s, err := store.Open(ctx, "sqlite:"+filepath.Join(parent, "custos.db"), clock.System{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		fi, err := os.Stat(parent)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o700 {
			t.Errorf("created directory has mode %o, want 700", perm)
		}
		if _, err := os.Stat(filepath.Join(parent, "custos.db")); err != nil {
			t.Errorf("database file: %v", err)
		}
		if s.Dialect != dialect.SQLite {
			t.Errorf("Dialect = %q, want %q", s.Dialect, dialect.SQLite)
		}
		if n := s.DB.Stats().MaxOpenConnections; n != 1 {
			t.Errorf("MaxOpenConnections = %d, want 1", n)
		}
		for pragma, want := range map[string]string{
			"foreign_keys": "1",
			"busy_timeout": "10000",
			"journal_mode": "wal",
		} {
			var got string
			if err := s.DB.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	})
	t.Run("relative", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		s, err := store.Open(ctx, "sqlite:data/custos.db", clock.System{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := os.Stat(filepath.Join(dir, "data", "custos.db")); err != nil {
			t.Errorf("database file: %v", err)
		}
		if got := storetest.URL(t, s); got != "sqlite:"+filepath.Join(dir, "data", "custos.db") {
			// storetest.URL reads the file name back from SQLite.
			t.Errorf("storetest.URL = %q", got)
		}
	})
}

func TestStoretestURL(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		u := storetest.OpenURL(t, d)
		s, err := store.Open(ctx, u, clock.System{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st, err := s.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Current() || len(st.Applied) == 0 {
			t.Fatalf("database from OpenURL: %+v, want migrated", st)
		}
		if got := storetest.URL(t, s); got != u {
			t.Fatalf("URL = %q, want %q", got, u)
		}
	})
}

// TestUTC checks that every time argument reaches the database in UTC,
// through the driver and through transactions begun with Tx and BeginTx, so
// that SQLite's text timestamps sort chronologically.
func TestUTC(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		s := storetest.OpenUnmigrated(t, d, testClock())
		drv := store.DriverOf(s)
		ph := func(n int) string {
			if s.Dialect == dialect.Postgres {
				return "$" + strconv.Itoa(n)
			}
			return "?"
		}
		typ := "DATETIME"
		if s.Dialect == dialect.Postgres {
			typ = "timestamptz"
		}
		if err := drv.Exec(ctx, "CREATE TABLE utc_probe (n INTEGER, at "+typ+")", []any{}, nil); err != nil {
			t.Fatal(err)
		}
		shanghai := time.FixedZone("CST", 8*60*60)
		insert := "INSERT INTO utc_probe (n, at) VALUES (" + ph(1) + ", " + ph(2) + ")"

		// 1: 10:00 +08:00 = 02:00Z, straight through the driver.
		args := []any{1, time.Date(2025, 1, 2, 10, 0, 0, 0, shanghai)}
		if err := drv.Exec(ctx, insert, args, nil); err != nil {
			t.Fatal(err)
		}
		if args[1].(time.Time).Location() != shanghai {
			t.Fatal("the driver modified the caller's arguments")
		}
		// 2: 03:00Z, in a transaction from Tx.
		tx, err := drv.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Exec(ctx, insert, []any{2, time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)}, nil); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// 3: 09:30 +08:00 = 01:30Z as *time.Time, in a transaction from
		// BeginTx, the method the ent client calls for Client.BeginTx.
		btx, ok := drv.(interface {
			BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
		})
		if !ok {
			t.Fatalf("driver %T has no BeginTx", drv)
		}
		tx, err = btx.BeginTx(ctx, &sql.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2025, 1, 2, 9, 30, 0, 0, shanghai)
		if err := tx.Exec(ctx, insert, []any{3, &at}, nil); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		// The ent client's BeginTx works on the wrapped driver.
		etx, err := s.Client.BeginTx(ctx, &sql.TxOptions{})
		if err != nil {
			t.Fatalf("Client.BeginTx: %v", err)
		}
		if err := etx.Rollback(); err != nil {
			t.Fatal(err)
		}
		// 4: 02:30 -05:00 = 07:30Z.
		if err := drv.Exec(ctx, insert, []any{4, time.Date(2025, 1, 2, 2, 30, 0, 0, time.FixedZone("EST", -5*60*60))}, nil); err != nil {
			t.Fatal(err)
		}

		// Chronological order is 3 (01:30Z), 1 (02:00Z), 2 (03:00Z), 4 (07:30Z).
		var order []int
		rows := &entsql.Rows{}
		if err := drv.Query(ctx, "SELECT n FROM utc_probe ORDER BY at", []any{}, rows); err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			order = append(order, n)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if want := []int{3, 1, 2, 4}; !slices.Equal(order, want) {
			t.Fatalf("ORDER BY at = %v, want %v", order, want)
		}

		// A time argument of a query is normalised too: before 10:30 +08:00
		// (02:30Z) are rows 3 and 1.
		rows = &entsql.Rows{}
		q := "SELECT count(*) FROM utc_probe WHERE at < " + ph(1)
		if err := drv.Query(ctx, q, []any{time.Date(2025, 1, 2, 10, 30, 0, 0, shanghai)}, rows); err != nil {
			t.Fatal(err)
		}
		n, err := entsql.ScanInt(rows)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("rows before 02:30Z = %d, want 2", n)
		}

		if s.Dialect == dialect.SQLite {
			// SQLite keeps the text it was given: all of it must be UTC.
			dbRows, err := s.DB.QueryContext(ctx, "SELECT n, CAST(at AS TEXT) FROM utc_probe ORDER BY n")
			if err != nil {
				t.Fatal(err)
			}
			defer dbRows.Close()
			for dbRows.Next() {
				var (
					n    int
					text string
				)
				if err := dbRows.Scan(&n, &text); err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(text, "+00:00") && !strings.HasSuffix(text, "Z") {
					t.Errorf("row %d stored as %q, want UTC", n, text)
				}
			}
			if err := dbRows.Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
