// Package audit owns the tamper-evident audit trail: the shape of a stored
// change, the per-tenant hash chain that links events when their
// transaction commits, and its verification. The audit hook in ent/schema
// writes events; `custos audit verify` and tests check them.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/custos-crm/custos/ent"
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

// SealOnCommit arranges for tx to link its unsealed events into their
// tenants' chains just before it commits. The link is taken under a lock on
// each tenant's chain head held only from then until the commit, so
// concurrent writers neither fork the chain nor serialise whole
// transactions. Calling it more than once for a transaction is harmless.
func SealOnCommit(tx *ent.Tx, dialect string) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := seal(ctx, tx, dialect); err != nil {
				return fmt.Errorf("sealing audit events: %w", err)
			}
			return next.Commit(ctx, tx)
		})
	})
}

func seal(ctx context.Context, q querier, dialect string) error {
	// Only this transaction's events are unsealed and visible here: other
	// transactions' are uncommitted, and committed ones are sealed.
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM audit_events WHERE seq IS NULL`)
	if err != nil {
		return err
	}
	var pending []stored
	for rows.Next() {
		s, err := scan(rows)
		if err != nil {
			rows.Close()
			return err
		}
		pending = append(pending, s)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	// Link in id order (ids are time-ordered), tenants in a fixed order so
	// that transactions spanning tenants cannot deadlock.
	sort.Slice(pending, func(i, j int) bool {
		if pending[i].TenantID != pending[j].TenantID {
			return pending[i].TenantID < pending[j].TenantID
		}
		return pending[i].ID < pending[j].ID
	})
	for start := 0; start < len(pending); {
		end := start
		for end < len(pending) && pending[end].TenantID == pending[start].TenantID {
			end++
		}
		if err := sealTenant(ctx, q, dialect, pending[start].TenantID, pending[start:end]); err != nil {
			return err
		}
		start = end
	}
	return nil
}

func sealTenant(ctx context.Context, q querier, dialect, tenantID string, events []stored) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO audit_chains (tenant_id, seq) VALUES ($1, 0) ON CONFLICT (tenant_id) DO NOTHING`, tenantID); err != nil {
		return fmt.Errorf("creating chain head: %w", err)
	}
	lock := ""
	if dialect == "postgres" {
		lock = " FOR UPDATE"
	}
	rows, err := q.QueryContext(ctx, `SELECT seq, hash FROM audit_chains WHERE tenant_id = $1`+lock, tenantID)
	if err != nil {
		return fmt.Errorf("locking chain head: %w", err)
	}
	var (
		seq  int64
		prev []byte
	)
	if rows.Next() {
		if err := rows.Scan(&seq, &prev); err != nil {
			rows.Close()
			return err
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, ev := range events {
		seq++
		h := digest(prev, seq, ev)
		if _, err := q.ExecContext(ctx, `UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4`, seq, prev, h, ev.ID); err != nil {
			return fmt.Errorf("linking event %s: %w", ev.ID, err)
		}
		prev = h
	}
	if _, err := q.ExecContext(ctx, `UPDATE audit_chains SET seq = $1, hash = $2 WHERE tenant_id = $3`, seq, prev, tenantID); err != nil {
		return fmt.Errorf("moving chain head: %w", err)
	}
	return nil
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

// Verify walks the chain of tenantID from the first event and returns the
// number of events checked and the first problem: a changed byte in any
// stored column, a missing, repeated or reordered event, an unsealed event,
// or a head that does not match the last event.
func Verify(ctx context.Context, db *sql.DB, tenantID string) (int, *Problem, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+columns+` FROM audit_events WHERE tenant_id = $1 ORDER BY seq IS NULL, seq, id`, tenantID)
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
		case !s.Seq.Valid:
			return bad("event was never sealed into the chain")
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
	var (
		headSeq  int64
		headHash []byte
	)
	err = db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_chains WHERE tenant_id = $1`, tenantID).Scan(&headSeq, &headHash)
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
