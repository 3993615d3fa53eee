//go:build ignore

// Command migrationgen writes the next versioned migration of both dialects
// (PostgreSQL and SQLite) by diffing the ent schema against the state the
// existing migration directory produces when replayed on an empty
// development database. Run it from the repository root:
//
//	go run internal/store/migrationgen.go -name add_x
//
// Both files get the same version (the current UTC time, 14 digits) and
// atlas.sum is rewritten. The SQLite development database is in memory; the
// PostgreSQL one is a temporary database created on the server of
// CUSTOS_DEV_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and dropped
// afterwards.
//
// After editing a migration file by hand, run it with -hash to rewrite the
// atlas.sum files; the store refuses a directory that does not match.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	entmigrate "github.com/custos-crm/custos/ent/migrate"
)

// defaultDevURL is the PostgreSQL server used when CUSTOS_DEV_DATABASE_URL
// is not set.
const defaultDevURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// validName is the form of a migration name.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

func main() {
	log.SetFlags(0)
	log.SetPrefix("migrationgen: ")
	name := flag.String("name", "", "name of the new migration, e.g. add_customer_email (lowercase letters, digits, _)")
	root := flag.String("dir", filepath.Join("internal", "store", "migrations"), "directory holding the postgres/ and sqlite/ migration directories")
	hash := flag.Bool("hash", false, "only rewrite the atlas.sum files (after editing a migration by hand)")
	flag.Parse()
	ctx := context.Background()
	if *hash {
		if err := rehash(*root); err != nil {
			log.Fatal(err)
		}
		return
	}
	if !validName.MatchString(*name) {
		log.Fatalf("-name %q: want lowercase letters, digits and _, e.g. -name add_customer_email", *name)
	}
	if err := run(ctx, *root, *name); err != nil {
		log.Fatal(err)
	}
}

// run writes the migration name for both dialects under root.
func run(ctx context.Context, root, name string) error {
	version := time.Now().UTC().Format("20060102150405")
	dirs := map[string]*migrate.LocalDir{}
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		path := filepath.Join(root, dirName(d))
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("create migration directory: %w", err)
		}
		dir, err := migrate.NewLocalDir(path)
		if err != nil {
			return fmt.Errorf("open migration directory: %w", err)
		}
		files, err := dir.Files()
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		if n := len(files); n > 0 && files[n-1].Version() >= version {
			return fmt.Errorf("%s already has version %s, not older than %s: wait a second and retry", path, files[n-1].Version(), version)
		}
		dirs[d] = dir
	}
	var wrote []string
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		dir := dirs[d]
		before, err := dir.Files()
		if err != nil {
			return fmt.Errorf("read %s: %w", dir.Path(), err)
		}
		if err := diff(ctx, d, dir, name, version); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		after, err := dir.Files()
		if err != nil {
			return fmt.Errorf("read %s: %w", dir.Path(), err)
		}
		if len(after) > len(before) {
			wrote = append(wrote, filepath.Join(dir.Path(), after[len(after)-1].Name()))
		}
	}
	switch len(wrote) {
	case 0:
		fmt.Println("no schema changes: nothing written")
	case 1:
		fmt.Printf("wrote %s\nnote: only one dialect changed; check that this is intended\n", wrote[0])
	default:
		for _, w := range wrote {
			fmt.Println("wrote", w)
		}
	}
	return nil
}

// diff replays dir on a fresh development database of the dialect and
// writes the changes the ent schema needs on top of it as migration
// version_name.sql, in Atlas's format, updating atlas.sum.
func diff(ctx context.Context, d string, dir migrate.Dir, name, version string) (err error) {
	var db *sql.DB
	switch d {
	case dialect.SQLite:
		// One connection: every new connection to ":memory:" is a new,
		// empty database.
		db, err = sql.Open("sqlite", "file:migrationgen?mode=memory&_pragma=foreign_keys(1)")
		if err != nil {
			return fmt.Errorf("open development database: %w", err)
		}
		db.SetMaxOpenConns(1)
	case dialect.Postgres:
		var (
			devURL string
			drop   func() error
		)
		if devURL, drop, err = createPostgres(ctx); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, drop()) }()
		if db, err = sql.Open("pgx", devURL); err != nil {
			return fmt.Errorf("open development database: %w", err)
		}
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	drv := entsql.OpenDB(d, db)
	err = entmigrate.NewSchema(drv).NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(versionFormatter(version)),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return fmt.Errorf("diff schema: %w", err)
	}
	return nil
}

// versionFormatter is Atlas's default migration file format with a fixed
// version, so the files of both dialects share it.
type versionFormatter string

// Format formats plan into migration files named <version>_<name>.sql.
func (v versionFormatter) Format(plan *migrate.Plan) ([]migrate.File, error) {
	p := *plan
	p.Version = string(v)
	return migrate.DefaultFormatter.Format(&p)
}

// createPostgres creates an empty development database on the server of
// CUSTOS_DEV_DATABASE_URL and returns its URL and the function dropping it.
func createPostgres(ctx context.Context) (string, func() error, error) {
	admin := os.Getenv("CUSTOS_DEV_DATABASE_URL")
	if admin == "" {
		admin = defaultDevURL
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("parse CUSTOS_DEV_DATABASE_URL: %w", err)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "custos_migrationgen_" + hex.EncodeToString(b)
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'`)
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("create development database on %s: %w", u.Redacted(), err), db.Close())
	}
	drop := func() error {
		_, err := db.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		if err != nil {
			err = fmt.Errorf("drop development database %s: %w", name, err)
		}
		return errors.Join(err, db.Close())
	}
	dev := *u
	dev.Path = "/" + name
	return dev.String(), drop, nil
}

// rehash rewrites the atlas.sum file of both migration directories.
func rehash(root string) error {
	for _, d := range []string{dialect.Postgres, dialect.SQLite} {
		dir, err := migrate.NewLocalDir(filepath.Join(root, dirName(d)))
		if err != nil {
			return fmt.Errorf("open migration directory: %w", err)
		}
		sum, err := dir.Checksum()
		if err != nil {
			return fmt.Errorf("hash %s: %w", dir.Path(), err)
		}
		if err := migrate.WriteSumFile(dir, sum); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Join(dir.Path(), migrate.HashFileName), err)
		}
		fmt.Println("wrote", filepath.Join(dir.Path(), migrate.HashFileName))
	}
	return nil
}

// dirName returns the directory name of the dialect's migrations.
func dirName(d string) string {
	if d == dialect.SQLite {
		return "sqlite"
	}
	return "postgres"
}
