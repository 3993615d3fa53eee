package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// utcDriver is the ent driver of every Store. It converts each time.Time
// argument of Exec and Query to UTC before passing it on, in statements run
// directly and in transactions. This is the single place where instants are
// normalised: SQLite stores times as text with their offset, so times written
// with mixed offsets would compare and sort wrongly.
type utcDriver struct {
	drv *entsql.Driver
}

var _ dialect.Driver = (*utcDriver)(nil)

// Exec executes a statement with its time arguments in UTC.
func (d *utcDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.drv.Exec(ctx, query, utcArgs(args), v)
}

// Query runs a query with its time arguments in UTC.
func (d *utcDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.drv.Query(ctx, query, utcArgs(args), v)
}

// Tx starts a transaction whose statements get their time arguments in UTC.
func (d *utcDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options; its statements get their time
// arguments in UTC. The ent client uses it for Client.BeginTx.
func (d *utcDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.drv.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &utcTx{tx: tx}, nil
}

// Close closes the database.
func (d *utcDriver) Close() error { return d.drv.Close() }

// Dialect returns the dialect of the database.
func (d *utcDriver) Dialect() string { return d.drv.Dialect() }

// utcTx is a transaction of utcDriver.
type utcTx struct {
	tx dialect.Tx
}

var _ dialect.Tx = (*utcTx)(nil)

// Exec executes a statement in the transaction with its time arguments in UTC.
func (t *utcTx) Exec(ctx context.Context, query string, args, v any) error {
	return t.tx.Exec(ctx, query, utcArgs(args), v)
}

// Query runs a query in the transaction with its time arguments in UTC.
func (t *utcTx) Query(ctx context.Context, query string, args, v any) error {
	return t.tx.Query(ctx, query, utcArgs(args), v)
}

// SQLTx returns the database/sql transaction under t, for the job queue,
// which inserts jobs in the transaction of the change that causes them.
// Statements run on it directly bypass the UTC conversion: River writes
// its own UTC times.
func (t *utcTx) SQLTx() (*sql.Tx, bool) {
	etx, ok := t.tx.(*entsql.Tx)
	if !ok {
		return nil, false
	}
	stx, ok := etx.Tx.(*sql.Tx)
	return stx, ok
}

// Commit commits the transaction.
func (t *utcTx) Commit() error { return t.tx.Commit() }

// Rollback rolls the transaction back.
func (t *utcTx) Rollback() error { return t.tx.Rollback() }

// utcArgs returns args with every time.Time, non-nil *time.Time and valid
// sql.NullTime converted to UTC. args is returned unchanged when it is not
// an []any (the wrapped driver reports that) or holds no time in another
// zone; otherwise the caller's slice is copied, not modified.
func utcArgs(args any) any {
	argv, ok := args.([]any)
	if !ok {
		return args
	}
	var out []any
	for i, a := range argv {
		u, changed := utcArg(a)
		if !changed {
			continue
		}
		if out == nil {
			out = make([]any, len(argv))
			copy(out, argv)
		}
		out[i] = u
	}
	if out == nil {
		return args
	}
	return out
}

// utcArg returns a converted to UTC and whether it had to change.
func utcArg(a any) (any, bool) {
	switch v := a.(type) {
	case time.Time:
		if v.Location() == time.UTC {
			return a, false
		}
		return v.UTC(), true
	case *time.Time:
		if v == nil || v.Location() == time.UTC {
			return a, false
		}
		u := v.UTC()
		return &u, true
	case sql.NullTime:
		if !v.Valid || v.Time.Location() == time.UTC {
			return a, false
		}
		return sql.NullTime{Time: v.Time.UTC(), Valid: true}, true
	}
	return a, false
}

// execQuerier is what the ent client's ExecContext and QueryContext need.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ExecContext executes a statement with its time arguments in UTC; the
// audit sealer and other SQL below the ent layer use it.
func (d *utcDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.drv.ExecContext(ctx, query, utcSlice(args)...)
}

// QueryContext runs a query with its time arguments in UTC.
func (d *utcDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.drv.QueryContext(ctx, query, utcSlice(args)...)
}

// ExecContext executes a statement in the transaction.
func (t *utcTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	eq, ok := t.tx.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("transaction %T cannot run SQL directly", t.tx)
	}
	return eq.ExecContext(ctx, query, utcSlice(args)...)
}

// QueryContext runs a query in the transaction.
func (t *utcTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	eq, ok := t.tx.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("transaction %T cannot run SQL directly", t.tx)
	}
	return eq.QueryContext(ctx, query, utcSlice(args)...)
}

func utcSlice(args []any) []any {
	if out, ok := utcArgs(args).([]any); ok {
		return out
	}
	return args
}
