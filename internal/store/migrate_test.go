package store_test

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// testClock is the clock of the stores in these tests.
func testClock() clock.Clock {
	return clock.NewFake(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
}

// versions returns the versions of the embedded migrations of s's dialect.
func versions(t *testing.T, s *store.Store) []string {
	t.Helper()
	dir, err := store.EmbeddedMigrations(s.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no embedded migrations for %s", s.Dialect)
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs
}

func TestMigrate(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		s := storetest.OpenUnmigrated(t, d, testClock())
		all := versions(t, s)

		st, err := s.Status(ctx)
		if err != nil {
			t.Fatalf("Status before Migrate: %v", err)
		}
		if st.Current() || len(st.Applied) != 0 || !slices.Equal(st.Pending, all) {
			t.Fatalf("Status before Migrate = %+v, want everything pending: %v", st, all)
		}

		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if !slices.Equal(applied, all) {
			t.Fatalf("Migrate applied %v, want %v", applied, all)
		}
		applied, err = s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Fatalf("second Migrate applied %v, want nothing", applied)
		}

		st, err = s.Status(ctx)
		if err != nil {
			t.Fatalf("Status after Migrate: %v", err)
		}
		if !st.Current() || !slices.Equal(st.Applied, all) || len(st.Pending) != 0 {
			t.Fatalf("Status after Migrate = %+v, want all of %v applied", st, all)
		}
		if err := s.CheckCollation(ctx); err != nil {
			t.Fatalf("CheckCollation: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// TestMigrationsMatchSchema is the drift check: it fails when ent/schema
// changed without `make migration`.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		opts := []schema.MigrateOption{
			schema.WithDropColumn(true),
			schema.WithDropIndex(true),
			schema.WithFormatter(migrate.DefaultFormatter),
		}

		// The migrated database, inspected, is what the ent schema describes.
		t.Run("database", func(t *testing.T) {
			s := storetest.Open(t, d, testClock())
			dir := &migrate.MemDir{}
			if err := s.Client.Schema.NamedDiff(ctx, "drift", append(opts, schema.WithDir(dir))...); err != nil {
				t.Fatalf("diff migrated database against ent schema: %v", err)
			}
			assertNoNewFiles(t, dir, 0)
		})

		// Replaying the directory, as the generator does, leaves nothing to
		// write: `make migration` would produce no file.
		t.Run("directory", func(t *testing.T) {
			s := storetest.OpenUnmigrated(t, d, testClock())
			dir, err := store.EmbeddedMigrations(s.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			files, err := dir.Files()
			if err != nil {
				t.Fatal(err)
			}
			err = s.Client.Schema.NamedDiff(ctx, "drift",
				append(opts, schema.WithDir(dir), schema.WithMigrationMode(schema.ModeReplay))...)
			if err != nil {
				t.Fatalf("diff migration directory against ent schema: %v", err)
			}
			assertNoNewFiles(t, dir, len(files))
		})
	})
}

// assertNoNewFiles fails the test when dir holds more than n migration files,
// showing what the schema diff wrote.
func assertNoNewFiles(t *testing.T, dir *migrate.MemDir, n int) {
	t.Helper()
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == n {
		return
	}
	var b strings.Builder
	for _, f := range files[n:] {
		b.WriteString("\n-- " + f.Name() + "\n" + string(f.Bytes()))
	}
	t.Fatalf("the migrations do not match ent/schema; run `make migration name=...` (before the first release: delete internal/store/migrations and run `make migration name=init`). Missing changes:%s", b.String())
}

func TestConcurrentMigrate(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		u := storetest.NewURL(t, d)
		var stores [2]*store.Store
		for i := range stores {
			s, err := store.Open(ctx, u, testClock())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			stores[i] = s
		}
		all := versions(t, stores[0])

		var (
			wg      sync.WaitGroup
			applied [2][]string
			errs    [2]error
		)
		for i, s := range stores {
			wg.Go(func() { applied[i], errs[i] = s.Migrate(ctx) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Migrate %d: %v", i, err)
			}
		}
		both := slices.Concat(applied[0], applied[1])
		slices.Sort(both)
		if !slices.Equal(both, all) {
			t.Fatalf("Migrate applied %v and %v, want each of %v exactly once", applied[0], applied[1], all)
		}
		var n int
		if err := stores[0].DB.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(all) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(all))
		}
	})
}

func TestMigrateRefusesCLocale(t *testing.T) {
	ctx := context.Background()
	for _, ctype := range []string{"C", "POSIX"} {
		t.Run(ctype, func(t *testing.T) {
			u := storetest.PostgresDatabase(t, ctype, ctype)
			s, err := store.Open(ctx, u, testClock())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Migrate(ctx)
			if err == nil || !strings.Contains(err.Error(), "LC_CTYPE") || !strings.Contains(err.Error(), "CREATE DATABASE") {
				t.Fatalf("Migrate on a database with LC_CTYPE %s: err = %v, want a refusal naming LC_CTYPE and how to create the database", ctype, err)
			}
			st, err := s.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Applied) != 0 {
				t.Fatalf("refused Migrate applied %v", st.Applied)
			}
		})
	}
}

func TestMigrateRefusesForeignHistory(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		s := storetest.OpenUnmigrated(t, d, testClock())
		ddl := `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`
		if s.Dialect == dialect.Postgres {
			ddl = `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`
		}
		if _, err := s.DB.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO schema_migrations VALUES ('19990101000000', '1999-01-01 00:00:00+00:00')`); err != nil {
			t.Fatal(err)
		}
		applied, err := s.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "19990101000000") {
			t.Fatalf("Migrate over another migration history: applied %v, err = %v, want a refusal", applied, err)
		}
	})
}

func TestMigrationDirChecksum(t *testing.T) {
	const dir = "migrations/sqlite"
	good := fstest.MapFS{}
	err := fs.WalkDir(store.MigrationFiles(), dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(store.MigrationFiles(), p)
		good[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.ReadMigrationDir(good, dir); err != nil {
		t.Fatalf("embedded directory: %v", err)
	}

	var first string
	for p := range good {
		if strings.HasSuffix(p, ".sql") && (first == "" || p < first) {
			first = p
		}
	}
	edited := fstest.MapFS{}
	for p, f := range good {
		edited[p] = f
	}
	edited[first] = &fstest.MapFile{Data: append(slices.Clone(good[first].Data), "\nDROP TABLE users;\n"...)}
	if _, err := store.ReadMigrationDir(edited, dir); err == nil || !strings.Contains(err.Error(), "atlas.sum") {
		t.Fatalf("edited migration: err = %v, want a checksum error naming atlas.sum", err)
	}

	added := fstest.MapFS{}
	for p, f := range good {
		added[p] = f
	}
	added[path.Join(dir, "29991231235959_extra.sql")] = &fstest.MapFile{Data: []byte("SELECT 1;\n")}
	if _, err := store.ReadMigrationDir(added, dir); err == nil {
		t.Fatal("migration missing from atlas.sum: no error")
	}

	unsummed := fstest.MapFS{}
	for p, f := range good {
		if path.Base(p) != migrate.HashFileName {
			unsummed[p] = f
		}
	}
	if _, err := store.ReadMigrationDir(unsummed, dir); err == nil || !strings.Contains(err.Error(), "atlas.sum") {
		t.Fatalf("missing atlas.sum: err = %v, want an error naming atlas.sum", err)
	}
}
