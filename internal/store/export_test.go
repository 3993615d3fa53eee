package store

import (
	"io/fs"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

// DriverOf returns the ent driver under s.Client, for tests.
func DriverOf(s *Store) dialect.Driver { return s.drv }

// EmbeddedMigrations returns the embedded migration directory of the
// dialect, for tests.
func EmbeddedMigrations(dialectName string) (*migrate.MemDir, error) {
	return embeddedMigrations(dialectName)
}

// ReadMigrationDir reads and checks a migration directory, for tests.
func ReadMigrationDir(fsys fs.FS, dir string) (*migrate.MemDir, error) {
	return readMigrationDir(fsys, dir)
}

// MigrationFiles returns the embedded migration files, for tests.
func MigrationFiles() fs.FS { return migrationFiles }
