package store

import (
	"database/sql"
	"testing"
	"time"
)

func TestUTCArgs(t *testing.T) {
	zone := time.FixedZone("X", 3*60*60)
	local := time.Date(2025, 1, 2, 3, 4, 5, 6, zone)
	utc := local.UTC()

	if got := utcArgs("not a slice"); got != "not a slice" {
		t.Errorf("utcArgs(string) = %v", got)
	}
	in := []any{1, "x", utc}
	if got := utcArgs(in).([]any); &got[0] != &in[0] {
		t.Error("utcArgs copied a slice without times to convert")
	}

	var nilTime *time.Time
	in = []any{local, &local, nilTime, sql.NullTime{Time: local, Valid: true}, sql.NullTime{}, 7}
	out := utcArgs(in).([]any)
	if in[0].(time.Time).Location() != zone {
		t.Fatal("utcArgs modified its argument")
	}
	if v := out[0].(time.Time); v.Location() != time.UTC || !v.Equal(local) {
		t.Errorf("time.Time: %v", v)
	}
	if v := out[1].(*time.Time); v.Location() != time.UTC || !v.Equal(local) || v == &local {
		t.Errorf("*time.Time: %v", v)
	}
	if v := out[2].(*time.Time); v != nil {
		t.Errorf("nil *time.Time: %v", v)
	}
	if v := out[3].(sql.NullTime); !v.Valid || v.Time.Location() != time.UTC || !v.Time.Equal(local) {
		t.Errorf("sql.NullTime: %v", v)
	}
	if v := out[4].(sql.NullTime); v.Valid {
		t.Errorf("invalid sql.NullTime: %v", v)
	}
	if out[5] != 7 {
		t.Errorf("int: %v", out[5])
	}
}
