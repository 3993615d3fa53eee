// Package audit owns the tamper-evident audit trail: the shape of a stored
// change, the per-tenant hash chain that links events, the Sealer that
// links what commits leave unsealed, and verification. The audit hook in
// ent/schema writes events through Write; `custos audit verify` and tests
// check them; the server runs the Sealer.
//
// # Sealing
//
// An event is written unsealed (seq NULL) in the transaction of the change
// it records. Just before that transaction commits, SealOnCommit tries to
// take the tenant's chain head without waiting (FOR UPDATE SKIP LOCKED on
// PostgreSQL) and, if it gets it, links the tenant's unsealed events: its
// own and any that earlier commits left, in id order, each event's hash
// covering the previous hash, its position and every stored column. If
// another transaction holds the head, the events are committed unsealed
// and the Sealer links them moments later in a short transaction of its
// own that waits for the head. Either way one holder at a time assigns
// positions, so the chain never forks, and no writer queues behind
// another's commit: the head is held only for a linking plus a commit.
// The chain order is the order positions were assigned, which is close to
// but not exactly commit order; Verify walks by seq. On SQLite there is a
// single writer and the head is always free, so the Sealer finds nothing.
//
// # Verification
//
// Verify first links the tenant's pending events, as the Sealer would,
// then checks, in one snapshot, every sealed event from seq 1 and the head.
// Events still unsealed after that are ones committed after the linking
// pass; they are not reported. A "never sealed" problem is no longer
// meaningful: any committed event can be linked, an unsealed one is only
// waiting for the Sealer, and reporting it would make a verify running
// beside writers fail at random. What the chain cannot prove, before and
// now, is who inserted an event before it was linked: an event inserted
// with seq NULL behind the application's back is linked like any other.
// Clearing the seq of a sealed event is still found, as the gap it leaves.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"
)

// Change is one field's change as an event stores it.
type Change struct {
	Field string `json:"field"`
	// Before and After are JSON values; for sealed fields they are
	// base64 ciphertexts.
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Sealed says how a ciphertext is opened: "record" values are the
	// record's own column ciphertexts, "audit" values were sealed for the
	// trail under the record's key with column "audit:<field>". Destroying
	// the record's key leaves both unreadable and the chain intact.
	Sealed string `json:"sealed,omitempty"`
}

// secretFields are never copied into events, not even sealed: their values
// (second-factor seeds, client secrets, hashes) would let a reader of the
// trail act as the user. An event records only that they changed.
var secretFields = map[string]bool{
	"totp_secret": true, "client_secret": true, "password_hash": true, "token_hash": true,
	"data_key": true, "recovery_codes": true,
}

// IsSecretField reports whether an event may name field but never hold its
// value.
func IsSecretField(field string) bool { return secretFields[field] }

// The sealing kinds of a Change.
const (
	SealedRecord = "record"
	SealedAudit  = "audit"
)

// stored is an event as its columns are stored: what the hash covers.
type stored struct {
	ID         string
	TenantID   string
	Seq        sql.NullInt64
	PrevHash   []byte
	Hash       []byte
	Category   string
	ActorID    sql.NullString
	Actor      string
	Action     string
	EntityType sql.NullString
	EntityID   sql.NullString
	Changes    string
	RequestID  sql.NullString
	IP         sql.NullString
	CreatedAt  time.Time
}

const columns = `id, tenant_id, seq, prev_hash, hash, category, actor_id, actor, action, entity_type, entity_id, changes, request_id, ip, created_at`

func scan(rows *sql.Rows) (stored, error) {
	var s stored
	err := rows.Scan(&s.ID, &s.TenantID, &s.Seq, &s.PrevHash, &s.Hash, &s.Category, &s.ActorID, &s.Actor,
		&s.Action, &s.EntityType, &s.EntityID, &s.Changes, &s.RequestID, &s.IP, &s.CreatedAt)
	return s, err
}

// digest returns the hash of event s at position seq after prev: SHA-256
// over prev and a canonical encoding of every stored column.
func digest(prev []byte, seq int64, s stored) []byte {
	canon, _ := json.Marshal([]any{
		1, s.ID, s.TenantID, seq, s.Category, s.ActorID.String, s.Actor, s.Action,
		s.EntityType.String, s.EntityID.String, s.Changes, s.RequestID.String, s.IP.String,
		s.CreatedAt.UTC().Format(time.RFC3339Nano),
	})
	h := sha256.New()
	h.Write(prev)
	h.Write(canon)
	return h.Sum(nil)
}

// querier runs SQL on a transaction or a database.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Problem is the first thing wrong with a tenant's chain.
type Problem struct {
	TenantID string
	EventID  string
	Seq      int64
	Reason   string
}

// Error implements error.
func (p *Problem) Error() string {
	return fmt.Sprintf("tenant %s: audit event %s (seq %d): %s", p.TenantID, p.EventID, p.Seq, p.Reason)
}

// ErrBroken is wrapped by the Problem Verify reports.
var ErrBroken = errors.New("audit: chain does not verify")

// Verify links the pending events of tenantID (see SealPending), then walks
// its chain from the first event and returns the number of events checked
// and the first problem: a changed byte in any stored column, a missing,
// repeated or reordered event, or a head that does not match the last
// event. Events committed after the linking pass, still unsealed, are not
// checked.
func Verify(ctx context.Context, db *sql.DB, tenantID string) (int, *Problem, error) {
	if _, err := sealTenant(ctx, db, tenantID); err != nil {
		return 0, nil, fmt.Errorf("sealing pending events: %w", err)
	}
	// Events and head from one snapshot, so that events linked meanwhile
	// do not look like a head moved past the last event.
	opts := &sql.TxOptions{ReadOnly: true}
	if dialectOf(db) == dialect.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return 0, nil, fmt.Errorf("reading events: %w", err)
	}
	defer tx.Rollback()
	n, problem, err := verify(ctx, tx, tenantID)
	if err != nil || problem != nil {
		return n, problem, err
	}
	return n, nil, tx.Commit()
}

func verify(ctx context.Context, tx *sql.Tx, tenantID string) (int, *Problem, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM audit_events WHERE tenant_id = $1 AND seq IS NOT NULL ORDER BY seq, id`, tenantID)
	if err != nil {
		return 0, nil, fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	var (
		prev []byte
		want int64 = 1
		n    int
	)
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			return n, nil, fmt.Errorf("reading event: %w", err)
		}
		bad := func(reason string) (int, *Problem, error) {
			return n, &Problem{TenantID: tenantID, EventID: s.ID, Seq: s.Seq.Int64, Reason: reason}, nil
		}
		switch {
		case s.Seq.Int64 != want:
			return bad(fmt.Sprintf("sequence number is %d, expected %d (an event is missing or was inserted)", s.Seq.Int64, want))
		case !bytes.Equal(s.PrevHash, prev):
			return bad("previous hash does not match the event before it")
		case !bytes.Equal(s.Hash, digest(prev, s.Seq.Int64, s)):
			return bad("stored content does not match its hash (the event was changed)")
		}
		prev = s.Hash
		want++
		n++
	}
	if err := rows.Err(); err != nil {
		return n, nil, err
	}
	if err := rows.Close(); err != nil {
		return n, nil, err
	}
	var (
		headSeq  int64
		headHash []byte
	)
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_chains WHERE tenant_id = $1`, tenantID).Scan(&headSeq, &headHash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if n > 0 {
			return n, &Problem{TenantID: tenantID, Reason: "chain head is missing"}, nil
		}
		return 0, nil, nil
	case err != nil:
		return n, nil, fmt.Errorf("reading chain head: %w", err)
	}
	if headSeq != int64(n) || !bytes.Equal(headHash, prev) {
		return n, &Problem{TenantID: tenantID, Seq: headSeq, Reason: fmt.Sprintf("chain head says %d events, found %d (events were removed from the end)", headSeq, n)}, nil
	}
	return n, nil, nil
}

// ActorLabel returns the actor column for a user or a system context.
func ActorLabel(userID string, system bool, reason string) string {
	if system || userID == "" {
		return "system: " + strings.TrimSpace(reason)
	}
	return userID
}
