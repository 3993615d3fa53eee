package caldate

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	// 2026-03-01 20:00 UTC is already 2 March in Shanghai.
	instant := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	if got := Of(instant, shanghai).String(); got != "2026-03-02" {
		t.Fatalf("Of in Shanghai = %s", got)
	}
	if got := Of(instant, time.UTC).String(); got != "2026-03-01" {
		t.Fatalf("Of in UTC = %s", got)
	}
	d, err := Parse("2024-02-29")
	if err != nil || d.AddDays(1).String() != "2024-03-01" {
		t.Fatalf("leap day: %v %v", d, err)
	}
	for _, bad := range []string{"2023-02-29", "2024-2-3", "24-02-03", "", "2024-02-03T00:00:00Z"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	v, _ := d.Value()
	var back Date
	if err := back.Scan(v); err != nil || back != d {
		t.Fatalf("round trip through Value/Scan: %v %v", back, err)
	}
	var buf bytes.Buffer
	d.MarshalGQL(&buf)
	if buf.String() != `"2024-02-29"` {
		t.Fatalf("MarshalGQL %s", buf.String())
	}
	b, _ := json.Marshal(struct{ D Date }{d})
	if string(b) != `{"D":"2024-02-29"}` {
		t.Fatalf("JSON %s", b)
	}
	if !New(2024, 1, 1).Before(d) {
		t.Fatal("Before")
	}
	if got := d.Start(shanghai); got.Hour() != 0 || got.Location() != shanghai {
		t.Fatal("Start")
	}
}
