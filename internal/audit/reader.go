package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/vault"
)

// recordTables maps entity types whose events hold sealed values to their
// tables, where the record key is kept.
var recordTables = map[string]string{
	"Customer": "customers", "Contact": "contacts", "FollowUp": "follow_ups", "User": "users",
}

// Reader shows events to auditors: sealed values are opened with the
// record's key (as long as it exists) through the disclosure policy.
type Reader struct {
	db       *sql.DB
	disclose *disclosure.Discloser
}

// NewReader returns a Reader.
func NewReader(db *sql.DB, d *disclosure.Discloser) *Reader {
	return &Reader{db: db, disclose: d}
}

// ReadableChange is one change as an auditor sees it.
type ReadableChange struct {
	Field  string  `json:"field"`
	Before *string `json:"before"`
	After  *string `json:"after"`
}

// Changes returns the changes of ev for display. Values whose record key
// was destroyed read as null.
func (r *Reader) Changes(ctx context.Context, ev *ent.AuditEvent) ([]*ReadableChange, error) {
	var changes []Change
	if err := json.Unmarshal([]byte(ev.Changes), &changes); err != nil {
		return nil, fmt.Errorf("reading changes of %s: %w", ev.ID, err)
	}
	var (
		key    []byte
		loaded bool
	)
	out := make([]*ReadableChange, 0, len(changes))
	for _, ch := range changes {
		rc := &ReadableChange{Field: ch.Field}
		if IsSecretField(ch.Field) {
			// Events written before secrets were left out may hold one;
			// it is never opened.
			out = append(out, rc)
			continue
		}
		show := func(raw json.RawMessage) (*string, error) {
			if len(raw) == 0 || string(raw) == "null" {
				return nil, nil
			}
			if ch.Sealed == "" {
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					return nil, err
				}
				s := fmt.Sprint(v)
				if str, ok := v.(string); ok {
					s = str
				}
				return disclosure.MaskPlain(r.disclose.Decide(ctx, ev.EntityType, ch.Field), ch.Field, s), nil
			}
			if !loaded {
				loaded = true
				var err error
				if key, err = r.recordKey(ctx, ev.EntityType, string(ev.EntityID)); err != nil {
					return nil, err
				}
			}
			if len(key) == 0 {
				return nil, nil
			}
			var sealed []byte
			if err := json.Unmarshal(raw, &sealed); err != nil {
				return nil, err
			}
			column := ch.Field
			if ch.Sealed == SealedAudit {
				column = "audit:" + ch.Field
			}
			ref := vault.Ref{TenantID: string(ev.TenantID), Table: ev.EntityType, RowID: string(ev.EntityID)}
			s, err := r.disclose.Text(ctx, ref, key, ch.Field, column, secret.Sealed(sealed))
			if errors.Is(err, vault.ErrDecrypt) {
				return nil, nil
			}
			return s, err
		}
		var err error
		if rc.Before, err = show(ch.Before); err != nil {
			return nil, err
		}
		if rc.After, err = show(ch.After); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, nil
}

// recordKey reads the wrapped key of a record, soft-deleted ones included;
// nil when the record or its key is gone.
func (r *Reader) recordKey(ctx context.Context, entityType, id string) ([]byte, error) {
	table, ok := recordTables[entityType]
	if !ok {
		return nil, nil
	}
	var key []byte
	err := r.db.QueryRowContext(ctx, `SELECT data_key FROM `+table+` WHERE id = $1`, id).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading record key from %s: %w", strings.TrimSpace(table), err)
	}
	return key, nil
}
