package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
)

// Jobs whose process died while working them would otherwise wait for
// River's rescuer (an hour). Instead each process holds a PostgreSQL
// advisory lock named after its client id for as long as it lives; a
// running job whose client's lock is free belongs to a dead process and is
// made available again at once. On SQLite only one process serves a
// database, so every job still running when it starts is an orphan.

// lockClass namespaces the client-liveness advisory locks.
const lockClass = 0x637573 // "cus"

// clientID returns a client id unique to this process.
func clientID() string {
	host, _ := os.Hostname()
	if len(host) > 40 {
		host = host[:40]
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
}

// holdLiveness takes this process's liveness lock on a connection kept for
// the life of the queue.
func (q *Queue) holdLiveness(ctx context.Context) error {
	if q.cfg.Store.Dialect != dialect.Postgres {
		return nil
	}
	conn, err := q.cfg.Store.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("jobs: liveness connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, lockClass, q.id); err != nil {
		_ = conn.Close()
		return fmt.Errorf("jobs: liveness lock: %w", err)
	}
	q.mu.Lock()
	q.liveness = conn
	q.mu.Unlock()
	return nil
}

// keepLiveness checks the liveness connection and takes the lock again on a
// new one when it was lost (a database restart, a network reset): without
// it, other processes would take this process for dead.
func (q *Queue) keepLiveness(ctx context.Context) error {
	if q.cfg.Store.Dialect != dialect.Postgres {
		return nil
	}
	q.mu.Lock()
	conn := q.liveness
	q.mu.Unlock()
	if conn != nil {
		if _, err := conn.ExecContext(ctx, `SELECT 1`); err == nil {
			return nil
		}
		q.cfg.Logger.WarnContext(ctx, "jobs: liveness connection lost; taking the lock again")
		_ = conn.Close()
	}
	return q.holdLiveness(ctx)
}

// livenessEvery is how often a process checks its liveness lock.
const livenessEvery = 5 * time.Second

// watchLiveness keeps the liveness lock until stop is closed.
func (q *Queue) watchLiveness(stop <-chan struct{}) {
	t := time.NewTicker(livenessEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), livenessEvery)
			if err := q.keepLiveness(ctx); err != nil {
				q.cfg.Logger.ErrorContext(ctx, "jobs: cannot take the liveness lock", "error", err)
			}
			cancel()
		}
	}
}

// releaseLiveness gives the liveness lock and its connection back.
func (q *Queue) releaseLiveness() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.liveness != nil {
		_ = q.liveness.Close()
		q.liveness = nil
	}
}

// RecoverOrphans makes the running jobs of dead processes available again
// and returns how many there were.
func (q *Queue) RecoverOrphans(ctx context.Context) (int, error) {
	db := q.cfg.Store.DB
	if q.cfg.Store.Dialect != dialect.Postgres {
		q.mu.Lock()
		started := q.started
		q.mu.Unlock()
		if started {
			return 0, nil // only this process works jobs, and it is alive
		}
		res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
		if err != nil {
			return 0, fmt.Errorf("jobs: recovering orphans: %w", err)
		}
		n, _ := res.RowsAffected()
		return int(n), nil
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT attempted_by[array_upper(attempted_by, 1)] FROM river_job WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("jobs: running jobs: %w", err)
	}
	var clients []string
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, err
		}
		if id.Valid && id.String != q.id {
			clients = append(clients, id.String)
		}
	}
	_ = rows.Close()
	total := 0
	for _, c := range clients {
		dead, err := q.clientDead(ctx, c)
		if err != nil || !dead {
			if err != nil {
				return total, err
			}
			continue
		}
		res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available'
			WHERE state = 'running' AND attempted_by[array_upper(attempted_by, 1)] = $1`, c)
		if err != nil {
			return total, fmt.Errorf("jobs: recovering orphans: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// clientDead reports whether no process holds client's liveness lock.
func (q *Queue) clientDead(ctx context.Context, client string) (bool, error) {
	conn, err := q.cfg.Store.DB.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass, client).Scan(&got); err != nil {
		return false, fmt.Errorf("jobs: liveness check: %w", err)
	}
	if got {
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClass, client)
	}
	return got, nil
}

// RecoverArgs is the periodic job that recovers the jobs of processes that
// died while others kept running.
type RecoverArgs struct {
	Actor
}

// Kind names the job.
func (RecoverArgs) Kind() string { return "jobs.recover" }

type recoverWorker struct {
	river.WorkerDefaults[RecoverArgs]
	q *Queue
}

// Work recovers orphaned jobs.
func (w *recoverWorker) Work(ctx context.Context, _ *river.Job[RecoverArgs]) error {
	n, err := w.q.RecoverOrphans(ctx)
	if n > 0 {
		w.q.cfg.Logger.WarnContext(ctx, "recovered jobs of a process that died", "jobs", n)
	}
	return err
}
