package audit

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"modernc.org/sqlite"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/hook"
)

// sealBatch is the most events one short transaction links: the sealer
// loops until a tenant has none left, a committing writer leaves the rest
// to the sealer.
const sealBatch = 500

// head is a tenant's chain head: the number of linked events and the hash
// of the last one.
type head struct {
	seq  int64
	hash []byte
}

// lockHead takes the chain head of tenantID in the transaction q, creating
// it when the tenant has none. With wait it waits for another holder to
// commit (the sealer); without, it returns ok false at once when another
// transaction holds the head (a committing writer).
//
// On PostgreSQL the head row is locked FOR UPDATE, with SKIP LOCKED when
// not waiting: one statement that either locks and reads the head or
// returns nothing, with no error to abort the transaction (NOWAIT would
// need a savepoint round trip around it) and no second lock namespace to
// keep consistent (pg_try_advisory_xact_lock would, with hashed keys). A
// missing head is inserted only after a plain read shows it does not
// exist: INSERT ... ON CONFLICT waits for a concurrent uncommitted insert
// of the same head, which happens only when a brand-new tenant's first two
// transactions commit at the same moment. SQLite transactions hold the
// database's single write lock from their start (BEGIN IMMEDIATE), so the
// head is always free there.
func lockHead(ctx context.Context, q querier, dialectName, tenantID string, wait bool) (h head, ok bool, err error) {
	lock := ""
	if dialectName == dialect.Postgres {
		lock = " FOR UPDATE"
		if !wait {
			lock += " SKIP LOCKED"
		}
	}
	if h, ok, err = readHead(ctx, q, tenantID, lock); ok || err != nil {
		return h, ok, err
	}
	if dialectName == dialect.Postgres && !wait {
		// Nothing came back: the head is locked or does not exist. A
		// plain read does not wait for the holder.
		h, exists, err := readHead(ctx, q, tenantID, "")
		if err != nil || exists {
			return h, false, err
		}
	}
	res, err := q.ExecContext(ctx, `INSERT INTO audit_chains (tenant_id, seq) VALUES ($1, 0) ON CONFLICT (tenant_id) DO NOTHING`, tenantID)
	if err != nil {
		return head{}, false, fmt.Errorf("creating chain head: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return head{}, true, nil // ours, and locked until we commit
	}
	// Another transaction created it first.
	return readHead(ctx, q, tenantID, lock)
}

func readHead(ctx context.Context, q querier, tenantID, lock string) (head, bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, hash FROM audit_chains WHERE tenant_id = $1`+lock, tenantID)
	if err != nil {
		return head{}, false, fmt.Errorf("locking chain head: %w", err)
	}
	defer rows.Close()
	var h head
	if !rows.Next() {
		return head{}, false, rows.Err()
	}
	if err := rows.Scan(&h.seq, &h.hash); err != nil {
		return head{}, false, fmt.Errorf("reading chain head: %w", err)
	}
	return h, true, rows.Close()
}

// linkPending links up to limit unsealed events of tenantID, in id order,
// after h, and moves the head. q is a transaction holding the head, so no
// one else links this tenant's events meanwhile; it sees its own events
// and those of committed transactions that left theirs to the sealer. It
// returns how many events it linked.
func linkPending(ctx context.Context, q querier, dialectName, tenantID string, h head, limit int) (int, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM audit_events WHERE tenant_id = $1 AND seq IS NULL ORDER BY id LIMIT $2`, tenantID, limit)
	if err != nil {
		return 0, fmt.Errorf("reading unsealed events: %w", err)
	}
	var pending []stored
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading unsealed event: %w", err)
		}
		pending = append(pending, s)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(pending) == 0 {
		return 0, nil
	}
	var (
		ids    = make([]string, len(pending))
		seqs   = make([]int64, len(pending))
		prevs  = make([][]byte, len(pending))
		hashes = make([][]byte, len(pending))
	)
	seq, prev := h.seq, h.hash
	for i, ev := range pending {
		seq++
		ids[i], seqs[i], prevs[i] = ev.ID, seq, prev
		hashes[i] = digest(prev, seq, ev)
		prev = hashes[i]
	}
	if dialectName == dialect.Postgres {
		// One statement: the head stays locked for as few round trips as
		// possible.
		_, err := q.ExecContext(ctx, `UPDATE audit_events AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash
FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[]) AS v(id, seq, prev_hash, hash)
WHERE e.id = v.id`, ids, seqs, prevs, hashes)
		if err != nil {
			return 0, fmt.Errorf("linking %d events: %w", len(ids), err)
		}
	} else {
		for i := range ids {
			if _, err := q.ExecContext(ctx, `UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4`, seqs[i], prevs[i], hashes[i], ids[i]); err != nil {
				return 0, fmt.Errorf("linking event %s: %w", ids[i], err)
			}
		}
	}
	if _, err := q.ExecContext(ctx, `UPDATE audit_chains SET seq = $1, hash = $2 WHERE tenant_id = $3`, seq, prev, tenantID); err != nil {
		return 0, fmt.Errorf("moving chain head: %w", err)
	}
	return len(pending), nil
}

// commitState is shared by the commit hooks of one transaction through
// the commit's context: the tenants already sealed, whether any events
// were left to the sealer, and how to wake it.
type commitState struct {
	sealed   map[string]bool
	deferred bool
	nudge    func()
}

type commitStateKey struct{}

// withCommitState returns the commit state in ctx, or a new one and a
// context carrying it; created says which.
func withCommitState(ctx context.Context) (context.Context, *commitState, bool) {
	if st, ok := ctx.Value(commitStateKey{}).(*commitState); ok {
		return ctx, st, false
	}
	st := &commitState{sealed: map[string]bool{}}
	return context.WithValue(ctx, commitStateKey{}, st), st, true
}

// finish commits through next and, when this hook created the state and
// the commit succeeded with events left unsealed, wakes the sealer.
func (st *commitState) finish(ctx context.Context, tx *ent.Tx, next ent.Committer, created bool) error {
	err := next.Commit(ctx, tx)
	if created && err == nil && st.deferred && st.nudge != nil {
		st.nudge()
	}
	return err
}

// SealOnCommit arranges for the unsealed events of tenantID that tx
// writes to be linked into the tenant's chain. Where a Sealer is installed
// on the client, tx only wakes it after committing: the sealer links what
// commits leave in batches, in its own short transactions, so writers do no
// chain work at all. Otherwise tx links them just before it commits, if it
// can take the chain head without waiting. If another transaction holds the head (on
// PostgreSQL, the head is held until that transaction's commit has been
// flushed), the events are left unsealed and tx commits without waiting;
// the Sealer links them afterwards. So concurrent writers never fork the
// chain and never queue on it. The head is never held for more than a
// linking and a commit. Calling it more than once for a transaction is
// harmless: each tenant is sealed once per commit.
func SealOnCommit(tx *ent.Tx, dialectName, tenantID string) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			ctx, st, created := withCommitState(ctx)
			switch {
			case st.nudge != nil:
				// A sealer runs in this process (it installed the nudge,
				// whose hook runs before this one): linking is left to
				// it entirely, off the writer's path, in batches.
				st.deferred = true
			case !st.sealed[tenantID]:
				st.sealed[tenantID] = true
				complete, err := sealOwn(ctx, tx, dialectName, tenantID)
				if err != nil {
					return fmt.Errorf("sealing audit events: %w", err)
				}
				st.deferred = st.deferred || !complete
			}
			return st.finish(ctx, tx, next, created)
		})
	})
}

// sealOwn links tenantID's unsealed events in the committing transaction
// q if the head is free, and reports whether none are left.
func sealOwn(ctx context.Context, q querier, dialectName, tenantID string) (bool, error) {
	h, ok, err := lockHead(ctx, q, dialectName, tenantID, false)
	if err != nil || !ok {
		return false, err
	}
	n, err := linkPending(ctx, q, dialectName, tenantID, h, sealBatch)
	return n < sealBatch, err
}

// nudgeOnCommit arranges for nudge to be called after tx commits if any of
// its events were left to the sealer.
func nudgeOnCommit(tx *ent.Tx, nudge func()) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			ctx, st, created := withCommitState(ctx)
			st.nudge = nudge
			return st.finish(ctx, tx, next, created)
		})
	})
}

// SealPending links every committed unsealed event of every tenant into
// its chain, each tenant in short transactions of at most a batch of
// events that wait for the head, in id order within a batch: the order
// they are linked in is the chain order. It returns the number of events
// linked. Events committed while it runs may be left for the next call.
func SealPending(ctx context.Context, db *sql.DB) (int, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM audit_events WHERE seq IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("finding unsealed events: %w", err)
	}
	var tenants []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return 0, err
		}
		tenants = append(tenants, t)
	}
	// Closed before any transaction starts: SQLite has one connection.
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var total int
	for _, t := range tenants {
		n, err := sealTenant(ctx, db, t)
		total += n
		if err != nil {
			return total, fmt.Errorf("tenant %s: %w", t, err)
		}
	}
	return total, nil
}

// sealTenant links the committed unsealed events of tenantID, a batch per
// transaction, until none are left.
func sealTenant(ctx context.Context, db *sql.DB, tenantID string) (int, error) {
	d := dialectOf(db)
	var total int
	for {
		n, err := sealTenantBatch(ctx, db, d, tenantID)
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

func sealTenantBatch(ctx context.Context, db *sql.DB, dialectName, tenantID string) (n int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil || n == 0 {
			_ = tx.Rollback()
		}
	}()
	h, _, err := lockHead(ctx, tx, dialectName, tenantID, true)
	if err != nil {
		return 0, err
	}
	if n, err = linkPending(ctx, tx, dialectName, tenantID, h, sealBatch); err != nil || n == 0 {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing linked events: %w", err)
	}
	return n, nil
}

// dialectOf returns the ent dialect name of db: SQLite for the embedded
// driver, PostgreSQL otherwise (a wrapped PostgreSQL driver must still
// lock the head).
func dialectOf(db *sql.DB) string {
	if _, ok := db.Driver().(*sqlite.Driver); ok {
		return dialect.SQLite
	}
	return dialect.Postgres
}

// SealerConfig configures a Sealer.
type SealerConfig struct {
	DB *sql.DB
	// Interval is how often the sealer looks for unsealed events besides
	// being woken by commits that left some; default 200ms.
	Interval time.Duration
	Logger   *slog.Logger
}

// Sealer links events that committing transactions left unsealed because
// another transaction held their tenant's chain head. Build one per
// database, Install it on the client, and Run it for the life of the
// process; it also seals on a timer, so events left by other processes (or
// by a client it is not installed on) are linked too.
type Sealer struct {
	db       *sql.DB
	interval time.Duration
	logger   *slog.Logger
	wake     chan struct{}
}

// NewSealer returns a Sealer.
func NewSealer(c SealerConfig) *Sealer {
	if c.Interval <= 0 {
		c.Interval = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sealer{db: c.DB, interval: c.Interval, logger: c.Logger, wake: make(chan struct{}, 1)}
}

// Install makes every transaction of client that writes audit events wake
// the sealer after it commits if it left any unsealed. Install it before
// the client is used.
func (s *Sealer) Install(client *ent.Client) {
	client.AuditEvent.Use(func(next ent.Mutator) ent.Mutator {
		return hook.AuditEventFunc(func(ctx context.Context, m *ent.AuditEventMutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			if tx, txErr := m.Tx(); txErr == nil {
				nudgeOnCommit(tx, s.Nudge)
			}
			return v, nil
		})
	})
}

// Nudge wakes the sealer without waiting; wake-ups that arrive while it
// works are merged into one.
func (s *Sealer) Nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// SealPending links every committed unsealed event now; see SealPending.
func (s *Sealer) SealPending(ctx context.Context) (int, error) { return SealPending(ctx, s.db) }

// Run seals when nudged and on every interval until ctx ends.
func (s *Sealer) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		n, err := SealPending(ctx, s.db)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger.ErrorContext(ctx, "sealing audit events", "error", err, "sealed", n)
		case n > 0:
			s.logger.DebugContext(ctx, "audit events sealed", "count", n)
		}
	}
}
