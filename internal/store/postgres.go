package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// PoolMaxConnsParam is the PostgreSQL URL parameter that sets how many
// connections the store opens at most ("…?pool_max_conns=40", the name pgx's
// own pool reads). The store removes it before connecting.
const PoolMaxConnsParam = "pool_max_conns"

// DefaultPoolMaxConns is the connection limit when the URL sets none.
const DefaultPoolMaxConns = 20

// openPostgres opens a connection pool through pgx's database/sql driver,
// with connections that report when they are closed (see validConn).
func openPostgres(rawURL string) (*sql.DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Neither url.Parse's error nor the URL may be shown: both hold
		// the password.
		return nil, errors.New("postgres url is not a valid URL")
	}
	maxConns := DefaultPoolMaxConns
	q := u.Query()
	if v := q.Get(PoolMaxConnsParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("postgres url: %s=%q: want a whole number of at least 1", PoolMaxConnsParam, v)
		}
		maxConns = n
	}
	q.Del(PoolMaxConnsParam)
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, err // pgx redacts the password of a URL that parses, as this one did
	}
	db := sql.OpenDB(validConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(max(1, maxConns/2))
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	return db, nil
}

// validConnector opens pgx connections wrapped in validConn.
type validConnector struct{ driver.Connector }

// Connect opens a connection.
func (c validConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("postgres: driver connection is a %T, want *stdlib.Conn", dc)
	}
	return validConn{sc}, nil
}

// validConn is a pgx database/sql connection that tells database/sql,
// through driver.Validator, when it has been closed. pgx closes a
// connection whose query was cancelled mid-flight (a client that went
// away); without IsValid, database/sql puts it back into the pool as if it
// were fine and only finds out when the next request tries to use it. With
// several cancelled at once, a live request could draw three such
// connections in a row — more than database/sql retries — and fail with
// "driver: bad connection". Every method of *stdlib.Conn is promoted, so
// database/sql sees the same optional interfaces.
type validConn struct{ *stdlib.Conn }

// IsValid reports whether the connection may go back into the pool.
func (c validConn) IsValid() bool { return !c.Conn.Conn().IsClosed() }

// PgxConn returns the pgx connection under a driver connection of a
// PostgreSQL store, as sql.Conn.Raw hands it out, and false for any other
// (SQLite) connection.
func PgxConn(driverConn any) (*pgx.Conn, bool) {
	if c, ok := driverConn.(validConn); ok {
		return c.Conn.Conn(), true
	}
	return nil, false
}
