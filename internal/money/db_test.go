package money_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/custos-crm/custos/internal/money"
)

// roundTripValues are written and read back on each database.
var roundTripValues = []string{
	"0.0000",
	"0.0001",
	"-0.0001",
	"0.1000",
	"1234.5000",
	"-1234.5678",
	"1234567890123456.1234",
	"9999999999999999.9999",
	"-9999999999999999.9999",
	"1000000000000000.0000",
}

// conn is one connection and the placeholder syntax of its database.
type conn struct {
	c  *sql.Conn
	ph func(n int) string
}

func (c conn) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := c.c.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// roundTrip writes each value through Amount.Value, reads it back through
// Amount.Scan and as the column's text, and checks both against what was
// written.
func roundTrip(t *testing.T, c conn, textExpr string) {
	ctx := t.Context()
	want := make([]money.Amount, 0, len(roundTripValues)+1)
	for _, s := range roundTripValues {
		want = append(want, money.MustParse(s))
	}
	// 0.1 + 0.2, computed in Go, is stored as exactly 0.3.
	sum, err := money.MustParse("0.1").Add(money.MustParse("0.2"))
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, sum)

	for i, a := range want {
		c.exec(t, fmt.Sprintf("INSERT INTO m (id, amount) VALUES (%s, %s)", c.ph(1), c.ph(2)), i, a)
	}
	rows, err := c.c.QueryContext(ctx, "SELECT id, amount, "+textExpr+" FROM m ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id   int
			got  money.Amount
			text string
		)
		if err := rows.Scan(&id, &got, &text); err != nil {
			t.Fatalf("scan row %d: %v", n, err)
		}
		w := want[id]
		if got != w || got.Cmp(w) != 0 || got.String() != w.String() {
			t.Errorf("row %d: wrote %s, read %s", id, w, got)
		}
		if text != w.String() {
			t.Errorf("row %d: wrote %s, the column holds %q", id, w, text)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("read %d rows, wrote %d", n, len(want))
	}
	var three money.Amount
	q := fmt.Sprintf("SELECT amount FROM m WHERE id = %s", c.ph(1))
	if err := c.c.QueryRowContext(ctx, q, len(want)-1).Scan(&three); err != nil || three != money.MustParse("0.3") {
		t.Fatalf("0.1 + 0.2 read back as %v, %v", three, err)
	}
}

func TestSQLiteRoundTrip(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/m.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sc, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	c := conn{c: sc, ph: func(int) string { return "?" }}
	c.exec(t, "CREATE TABLE m (id INTEGER PRIMARY KEY, amount TEXT NOT NULL)")
	roundTrip(t, c, "amount")

	// The column stores text, not a number.
	var kinds int
	if err := sc.QueryRowContext(t.Context(), "SELECT count(*) FROM m WHERE typeof(amount) <> 'text'").Scan(&kinds); err != nil || kinds != 0 {
		t.Fatalf("%d rows hold something other than text: %v", kinds, err)
	}

	// SQL SUM on SQLite adds in floating point; Scan refuses its result
	// rather than take a float for money.
	c.exec(t, "CREATE TABLE s (amount TEXT NOT NULL)")
	c.exec(t, "INSERT INTO s VALUES ('0.1000'), ('0.2000')")
	var a money.Amount
	err = sc.QueryRowContext(t.Context(), "SELECT SUM(amount) FROM s").Scan(&a)
	if !errors.Is(err, money.ErrScan) {
		t.Fatalf("scanning SQLite's SUM = %v, %v; want ErrScan", a, err)
	}
	// An integer that reaches a TEXT column as an integer value still reads.
	if err := sc.QueryRowContext(t.Context(), "SELECT 42").Scan(&a); err != nil || a != money.MustParse("42") {
		t.Fatalf("scanning an integer = %v, %v", a, err)
	}
}

func TestPostgresRoundTrip(t *testing.T) {
	url := os.Getenv("CUSTOS_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("CUSTOS_TEST_DATABASE_URL is not set: skipping the PostgreSQL round trip")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	pc, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	c := conn{c: pc, ph: func(n int) string { return fmt.Sprintf("$%d", n) }}
	c.exec(t, "CREATE TEMP TABLE m (id int, amount numeric(20,4))")
	roundTrip(t, c, "amount::text")

	ctx := t.Context()
	// NUMERIC(20,4) holds exactly the range of an amount: one more integer
	// digit is refused by the server, as by Parse.
	if _, err := pc.ExecContext(ctx, "INSERT INTO m VALUES (100, '10000000000000000.0000')"); err == nil {
		t.Fatal("PostgreSQL accepted 17 integer digits in numeric(20,4)")
	}
	// On PostgreSQL, SQL arithmetic on NUMERIC is exact, and its results
	// (here without a fixed scale) scan.
	var a money.Amount
	if err := pc.QueryRowContext(ctx, "SELECT 0.1::numeric + 0.2::numeric").Scan(&a); err != nil || a != money.MustParse("0.3") {
		t.Fatalf("scanning numeric 0.1 + 0.2 = %v, %v", a, err)
	}
	// A float8 is refused.
	if err := pc.QueryRowContext(ctx, "SELECT 0.5::float8").Scan(&a); !errors.Is(err, money.ErrScan) {
		t.Fatalf("scanning float8 = %v, %v; want ErrScan", a, err)
	}
	// So is NULL.
	if err := pc.QueryRowContext(ctx, "SELECT NULL::numeric").Scan(&a); !errors.Is(err, money.ErrScan) {
		t.Fatalf("scanning NULL = %v, %v; want ErrScan", a, err)
	}
	// An amount passed as a parameter compares as a number.
	var eq bool
	if err := pc.QueryRowContext(ctx, "SELECT $1::numeric = 1234.5", money.MustParse("1234.5")).Scan(&eq); err != nil || !eq {
		t.Fatalf("parameter compared as %v, %v", eq, err)
	}
}
