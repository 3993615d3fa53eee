package seed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/custos-crm/custos/internal/store"
)

// Bytes one seeded row takes, table and indexes, as measured on
// PostgreSQL 15 (1,000,000 customers: 1.2 GiB; 2,000,000 contacts: 1.7
// GiB; 3,000,000 follow-ups: 1.7 GiB), rounded up.
const (
	bytesPerCustomer = 1400
	bytesPerContact  = 1000
	bytesPerFollowUp = 700
)

// NeededBytes estimates the disk space a seed of opts takes, twice the
// size of its rows to leave room for the write-ahead log.
func NeededBytes(opts Options) int64 {
	n := int64(opts.Customers)
	rows := n*bytesPerCustomer + n*int64(opts.ContactsPerCustomer)*bytesPerContact + n*int64(opts.FollowUpsPerCustomer)*bytesPerFollowUp
	return 2 * rows
}

// checkDiskSpace refuses a seed that would not fit on the disk holding the
// database: the SQLite file's directory, or PostgreSQL's data directory
// when the server runs on this machine and tells where it is. A server
// whose disk cannot be seen is not checked.
func checkDiskSpace(ctx context.Context, st *store.Store, opts Options) error {
	var dir string
	switch st.Dialect {
	case dialect.SQLite:
		var file string
		if err := st.DB.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
			return fmt.Errorf("seed: finding the database file: %w", err)
		}
		dir = filepath.Dir(file)
	case dialect.Postgres:
		if err := st.DB.QueryRowContext(ctx, `SELECT current_setting('data_directory', true)`).Scan(&dir); err != nil {
			dir = ""
		}
	}
	if dir == "" || !strings.HasPrefix(dir, "/") {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil // the server is elsewhere, or its directory is not ours to see
	}
	free, ok := freeBytes(dir)
	if !ok {
		return nil
	}
	if need := NeededBytes(opts); free < need {
		return fmt.Errorf("%w: %s has %d MiB free, the seed needs about %d MiB", errNoSpace, dir, free>>20, need>>20)
	}
	return nil
}
