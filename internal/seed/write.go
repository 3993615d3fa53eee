package seed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/bigram"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/normalize"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/vault"
)

// The columns the seeder writes; every other column takes its default or
// stays NULL, as an API create leaves it.
var (
	customerColumns = []string{"id", "created_at", "updated_at", "data_key",
		"mobile", "mobile_bidx", "telephone", "telephone_bidx", "wechat", "wechat_bidx", "email", "email_bidx", "address", "notes",
		"name", "kind", "region_province", "region_city", "region_district", "level", "source", "industry",
		"last_follow_up_at", "tenant_id", "owner_id", "department_id", "name_tokens"}
	contactColumns = []string{"id", "created_at", "updated_at", "data_key",
		"mobile", "mobile_bidx", "telephone", "telephone_bidx", "wechat", "wechat_bidx", "email", "email_bidx",
		"name", "title", "tenant_id", "customer_id", "name_tokens"}
	followUpColumns = []string{"id", "created_at", "updated_at", "data_key", "content",
		"type", "next_follow_up_on", "tenant_id", "customer_id", "contact_id", "author_id"}
)

// batch is the rows of customers [from, from+n) and their children.
type batch struct {
	from, n                       int
	customers, contacts, followUp [][]any
	err                           error
}

// writer writes the customers of a seed in batches.
type writer struct {
	st       *store.Store
	tenantID pulid.ID
	gen      Generator
	opts     Options
	owners   []owner
	progress io.Writer
	region   string
}

// run writes the batches of customers up to opts.Customers that done
// (first customer → size) does not hold yet, and returns how many
// customers it wrote. Building batches (generating and encrypting) runs
// beside writing them: on PostgreSQL two connections write at once, on
// SQLite its one connection.
func (w *writer) run(ctx context.Context, done map[int]int) (int, error) {
	region, err := personal.PhoneRegion(ctx, w.st.Client, w.tenantID)
	if err != nil {
		return 0, err
	}
	w.region = region
	writers := 1
	if w.st.Dialect == dialect.Postgres {
		writers = 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, writers)
	go func() {
		defer close(batches)
		for start := 0; start < w.opts.Customers; start += w.opts.BatchSize {
			n := min(w.opts.BatchSize, w.opts.Customers-start)
			if done[start] == n {
				continue
			}
			b := w.build(ctx, start, n)
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	var (
		mu       sync.Mutex
		written  int
		firstErr error
		wg       sync.WaitGroup
		began    = time.Now()
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
		cancel()
	}
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Rows and their event share a transaction on one connection:
			// COPY needs the pgx connection under database/sql, and the
			// audit chain needs an ent transaction.
			conn, err := w.st.DB.Conn(ctx)
			if err != nil {
				fail(err)
				return
			}
			defer conn.Close()
			client := ent.NewClient(ent.Driver(newConnDriver(w.st.Dialect, conn)), ent.Clock(w.st.Client.Clock), ent.Vault(w.st.Client.Vault))
			for b := range batches {
				if b.err != nil {
					fail(b.err)
					return
				}
				if err := w.write(ctx, client, conn, b); err != nil {
					fail(fmt.Errorf("writing customers %d to %d: %w", b.from, b.from+b.n, err))
					return
				}
				mu.Lock()
				written += b.n
				if w.progress != nil {
					rate := float64(written) / time.Since(began).Seconds()
					fmt.Fprintf(w.progress, "seeded %d/%d customers (%.0f customers/s)\n", written+w.doneBefore(done), w.opts.Customers, rate)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return written, firstErr
	}
	return written, ctx.Err()
}

// doneBefore returns how many customers earlier runs wrote.
func (w *writer) doneBefore(done map[int]int) int {
	n := 0
	for _, c := range done {
		n += c
	}
	return n
}

// write stores b and its seed event in one transaction.
func (w *writer) write(ctx context.Context, client *ent.Client, conn *sql.Conn, b batch) error {
	return withTx(ctx, client, func(tx *ent.Tx) error {
		for _, t := range []struct {
			name    string
			columns []string
			rows    [][]any
		}{
			{"customers", customerColumns, b.customers},
			{"contacts", contactColumns, b.contacts},
			{"follow_ups", followUpColumns, b.followUp},
		} {
			if len(t.rows) == 0 {
				continue
			}
			var err error
			if w.st.Dialect == dialect.Postgres {
				err = copyRows(ctx, conn, t.name, t.columns, t.rows)
			} else {
				err = insertRows(ctx, tx, t.name, t.columns, t.rows)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
		return writeEvent(ctx, tx, w.tenantID, record{Seed: w.opts.Seed, Params: w.opts.params(), From: b.from,
			counts: counts{Customers: len(b.customers), Contacts: len(b.contacts), FollowUps: len(b.followUp)}})
	})
}

// copyRows copies rows into table with PostgreSQL's COPY, on the
// connection of the open transaction.
func copyRows(ctx context.Context, conn *sql.Conn, table string, columns []string, rows [][]any) error {
	return conn.Raw(func(dc any) error {
		c, ok := store.PgxConn(dc)
		if !ok {
			return fmt.Errorf("seed: COPY needs the pgx driver, have %T", dc)
		}
		n, err := c.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		if err == nil && int(n) != len(rows) {
			err = fmt.Errorf("copied %d of %d rows", n, len(rows))
		}
		return err
	})
}

// sqliteMaxVars is SQLite's limit of bound parameters in one statement.
const sqliteMaxVars = 32766

// insertRows inserts rows into table with multi-row INSERTs.
func insertRows(ctx context.Context, tx *ent.Tx, table string, columns []string, rows [][]any) error {
	per := sqliteMaxVars / len(columns)
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*len(columns))
		for i, r := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(one)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// personalValue is one personal field of a record on its way in.
type personalValue struct {
	column string
	kind   personal.Kind // "" for fields without a blind index
	value  string
}

// seal does for one record what the seal hook does for an API write: a new
// data key, and each field normalised, sealed under it and, when indexed,
// blind-indexed. It returns the wrapped key and, per field, the ciphertext
// followed by the index when the field has one (nil for empty values).
func (w *writer) seal(ctx context.Context, table string, id pulid.ID, fields []personalValue) ([]byte, []any, error) {
	v := w.st.Client.Vault
	ref := vault.Ref{TenantID: string(w.tenantID), Table: table, RowID: string(id)}
	key, err := v.NewRecordKey(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("creating data key: %w", err)
	}
	out := make([]any, 0, 2*len(fields))
	for _, f := range fields {
		value := normalize.Text(f.value)
		if value == "" {
			out = append(out, nil)
			if f.kind != "" {
				out = append(out, nil)
			}
			continue
		}
		norm := value
		if f.kind != "" {
			var ok bool
			if norm, ok = personal.Normalize(f.kind, value, w.region); !ok {
				return nil, nil, fmt.Errorf("seed: generated %s %q is not valid", f.column, f.value)
			}
		}
		sealed, err := v.Seal(ctx, ref, key, f.column, []byte(value))
		if err != nil {
			return nil, nil, fmt.Errorf("sealing %s: %w", f.column, err)
		}
		out = append(out, sealed)
		if f.kind != "" {
			idx, err := personal.Index(ctx, v, w.tenantID, f.kind, norm)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, idx)
		}
	}
	return key, out, nil
}

// build generates and encrypts customers [from, from+n) with their
// contacts and follow-ups.
func (w *writer) build(ctx context.Context, from, n int) batch {
	b := batch{from: from, n: n}
	fail := func(err error) batch { b.err = err; return b }
	for i := from; i < from+n; i++ {
		c := w.gen.Customer(i)
		o := w.owners[c.Owner%len(w.owners)]
		id := w.gen.ID("cus", w.tenantID, streamCustomer, i, 0, c.CreatedAt)
		key, sealed, err := w.seal(ctx, "Customer", id, []personalValue{
			{"mobile", personal.Phone, c.Mobile}, {"telephone", personal.Phone, c.Telephone},
			{"wechat", personal.WeChat, c.WeChat}, {"email", personal.Email, c.Email},
			{"address", "", c.Address}, {"notes", "", c.Notes},
		})
		if err != nil {
			return fail(err)
		}
		contactIDs := make([]pulid.ID, w.opts.ContactsPerCustomer)
		for j := range contactIDs {
			ct := w.gen.Contact(i, j)
			at := c.CreatedAt.Add(time.Duration(j+1) * time.Minute)
			contactIDs[j] = w.gen.ID("con", w.tenantID, streamContact, i, j, at)
			ckey, csealed, err := w.seal(ctx, "Contact", contactIDs[j], []personalValue{
				{"mobile", personal.Phone, ct.Mobile}, {"telephone", personal.Phone, ct.Telephone},
				{"wechat", personal.WeChat, ct.WeChat}, {"email", personal.Email, ct.Email},
			})
			if err != nil {
				return fail(err)
			}
			row := append([]any{string(contactIDs[j]), at, at, ckey}, csealed...)
			b.contacts = append(b.contacts, append(row, ct.Name, ct.Title, string(w.tenantID), string(id), w.nameTokens(ct.Name)))
		}
		var last any
		updated := c.CreatedAt
		for j := range w.opts.FollowUpsPerCustomer {
			f := w.gen.FollowUp(i, j, w.opts.ContactsPerCustomer, c.CreatedAt)
			fid := w.gen.ID("fol", w.tenantID, streamFollowUp, i, j, f.CreatedAt)
			fkey, fsealed, err := w.seal(ctx, "FollowUp", fid, []personalValue{{"content", "", f.Content}})
			if err != nil {
				return fail(err)
			}
			var contactID, next any
			if f.Contact >= 0 {
				contactID = string(contactIDs[f.Contact])
			}
			if !f.NextOn.IsZero() {
				next = f.NextOn.String()
			}
			b.followUp = append(b.followUp, []any{string(fid), f.CreatedAt, f.CreatedAt, fkey, fsealed[0],
				f.Type, next, string(w.tenantID), string(id), contactID, string(o.id)})
			if f.CreatedAt.After(updated) {
				updated, last = f.CreatedAt, f.CreatedAt
			}
		}
		row := append([]any{string(id), c.CreatedAt, updated, key}, sealed...)
		b.customers = append(b.customers, append(row, c.Name, c.Kind, c.Province, c.City, c.District,
			c.Level, c.Source, c.Industry, last, string(w.tenantID), string(o.id), string(o.department), w.nameTokens(c.Name)))
	}
	return b
}

// nameTokens returns the name tokens of name as the name search hook
// stores them: a text[] for COPY on PostgreSQL, its text form on SQLite.
func (w *writer) nameTokens(name string) any {
	tokens := bigram.Of(name)
	if w.st.Dialect == dialect.Postgres {
		return append([]string{}, tokens...)
	}
	v, _ := tokens.Value()
	return v
}

// connDriver is an ent driver on one connection: its transactions run on
// that connection, so rows copied through the pgx connection under it and
// events written through ent commit together.
type connDriver struct {
	*entsql.Driver
	conn *sql.Conn
}

func newConnDriver(dialectName string, conn *sql.Conn) connDriver {
	return connDriver{Driver: entsql.NewDriver(dialectName, entsql.Conn{ExecQuerier: conn}), conn: conn}
}

// Tx begins a transaction on the connection.
func (d connDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: tx}, Tx: tx}, nil
}

// Close leaves the connection to its owner.
func (d connDriver) Close() error { return nil }

var _ dialect.Driver = connDriver{}

// errNoSpace is wrapped by the error of checkDiskSpace.
var errNoSpace = errors.New("seed: not enough free disk space")
