package flows

import (
	"errors"
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone database

	"github.com/custos-crm/custos/internal/workcal"
)

// Calendars of the SLA tests. Shanghai: National Day 2026 is 10-01 to
// 10-07 (Thursday to Wednesday, over a weekend). New York: Thanksgiving is
// Thursday 2026-11-26, and daylight saving time ends on Sunday 2026-11-01.
const (
	shanghaiCalendar = `{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"18:00"}],
		"holidays":["2026-10-01","2026-10-02","2026-10-03","2026-10-04","2026-10-05","2026-10-06","2026-10-07"],
		"workdays":["2026-09-27","2026-10-10"]}`
	newYorkCalendar = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"17:00"}],"holidays":["2026-11-26"]}`
)

// calendar parses a calendar the test relies on.
func calendar(t testing.TB, js string) *workcal.Calendar {
	t.Helper()
	c, err := workcal.Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wall returns the instant of a "2006-01-02 15:04" wall-clock time in zone.
func wall(t testing.TB, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSLADeadlines(t *testing.T) {
	sh := calendar(t, shanghaiCalendar)
	ny := calendar(t, newYorkCalendar)
	const SH, NY = "Asia/Shanghai", "America/New_York"
	type pause struct{ from, to string } // to "" is still paused
	tests := []struct {
		name     string
		clock    Clock
		target   time.Duration
		warnAt   []float64
		zone     string
		cal      *workcal.Calendar
		start    string
		paused   []pause
		deadline string
		warnings []string
	}{
		{name: "Shanghai calendar time", clock: ClockCalendar, target: 4 * time.Hour, warnAt: []float64{0.5, 0.8}, zone: SH,
			start: "2026-09-30 16:00", deadline: "2026-09-30 20:00", warnings: []string{"2026-09-30 18:00", "2026-09-30 19:12"}},
		{name: "Shanghai calendar time with a pause over the holiday", clock: ClockCalendar, target: 4 * time.Hour, zone: SH,
			start: "2026-09-30 16:00", paused: []pause{{"2026-09-30 17:00", "2026-10-08 10:00"}}, deadline: "2026-10-08 13:00"},
		{name: "Shanghai working time across National Day and a weekend", clock: ClockWorking, target: 4 * time.Hour, warnAt: []float64{0.5, 0.8},
			zone: SH, cal: sh, start: "2026-09-30 16:00", deadline: "2026-10-08 11:00", warnings: []string{"2026-09-30 18:00", "2026-10-08 10:12"}},
		{name: "Shanghai working time with a pause", clock: ClockWorking, target: 4 * time.Hour, warnAt: []float64{0.5, 0.8},
			zone: SH, cal: sh, start: "2026-09-30 16:00", paused: []pause{{"2026-09-30 17:00", "2026-10-08 10:00"}},
			deadline: "2026-10-08 14:30", warnings: []string{"2026-10-08 11:00", "2026-10-08 13:42"}},
		{name: "Shanghai working time on a make-up Sunday", clock: ClockWorking, target: 4 * time.Hour, zone: SH, cal: sh,
			start: "2026-09-25 16:00", deadline: "2026-09-27 11:00"},
		{name: "Shanghai working time started at night", clock: ClockWorking, target: 90 * time.Minute, zone: SH, cal: sh,
			start: "2026-09-29 22:00", deadline: "2026-09-30 10:30"},
		{name: "New York working time across Thanksgiving", clock: ClockWorking, target: 10 * time.Hour, warnAt: []float64{0.5, 0.8},
			zone: NY, cal: ny, start: "2026-11-25 09:00", deadline: "2026-11-27 11:00", warnings: []string{"2026-11-25 14:00", "2026-11-25 17:00"}},
		{name: "New York working time across a weekend", clock: ClockWorking, target: 8 * time.Hour, zone: NY, cal: ny,
			start: "2026-11-27 15:00", deadline: "2026-11-30 15:00"},
		{name: "New York working time with a pause over the weekend", clock: ClockWorking, target: 8 * time.Hour, zone: NY, cal: ny,
			start: "2026-11-27 15:00", paused: []pause{{"2026-11-27 16:00", "2026-11-30 10:00"}}, deadline: "2026-11-30 17:00"},
		{name: "New York working time with two pauses", clock: ClockWorking, target: 8 * time.Hour, zone: NY, cal: ny,
			start: "2026-11-27 15:00", paused: []pause{{"2026-11-30 10:00", "2026-11-30 11:00"}, {"2026-11-30 13:00", "2026-11-30 14:00"}},
			deadline: "2026-11-30 17:00"},
		{name: "New York working time across the end of daylight saving time", clock: ClockWorking, target: 4 * time.Hour, zone: NY, cal: ny,
			start: "2026-10-30 15:00", deadline: "2026-11-02 11:00"},
		{name: "New York calendar time across the end of daylight saving time", clock: ClockCalendar, target: 4 * time.Hour, zone: NY,
			start: "2026-10-31 23:00", deadline: "2026-11-01 02:00"},
		{name: "New York calendar time across Thanksgiving counts the holiday", clock: ClockCalendar, target: 48 * time.Hour, zone: NY,
			start: "2026-11-25 09:00", paused: []pause{{"2026-11-26 09:00", "2026-11-26 21:00"}}, deadline: "2026-11-27 21:00"},
		{name: "overlapping pauses count once", clock: ClockCalendar, target: 4 * time.Hour, zone: NY,
			start: "2026-11-02 00:00", paused: []pause{{"2026-11-02 02:00", "2026-11-02 04:00"}, {"2026-11-02 01:00", "2026-11-02 03:00"}},
			deadline: "2026-11-02 07:00"},
		{name: "touching pauses", clock: ClockCalendar, target: 4 * time.Hour, zone: NY,
			start: "2026-11-02 00:00", paused: []pause{{"2026-11-02 01:00", "2026-11-02 02:00"}, {"2026-11-02 02:00", "2026-11-02 03:00"}},
			deadline: "2026-11-02 06:00"},
		{name: "a pause from before the start is clipped", clock: ClockCalendar, target: 4 * time.Hour, zone: NY,
			start: "2026-11-02 00:00", paused: []pause{{"2026-11-01 20:00", "2026-11-02 01:00"}}, deadline: "2026-11-02 05:00"},
		{name: "a pause after the deadline changes nothing", clock: ClockCalendar, target: 4 * time.Hour, zone: NY,
			start: "2026-11-02 00:00", paused: []pause{{"2026-11-02 04:00", "2026-11-02 09:00"}}, deadline: "2026-11-02 04:00"},
		{name: "an open pause from the deadline on changes nothing", clock: ClockWorking, target: 4 * time.Hour, zone: SH, cal: sh,
			start: "2026-09-30 09:00", paused: []pause{{"2026-09-30 14:30", ""}}, deadline: "2026-09-30 14:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &SLA{Key: "k", Target: tt.target, Clock: tt.clock, WarnAt: tt.warnAt}
			var paused []Interval
			for _, p := range tt.paused {
				iv := Interval{Start: wall(t, tt.zone, p.from)}
				if p.to != "" {
					iv.End = wall(t, tt.zone, p.to)
				}
				paused = append(paused, iv)
			}
			start := wall(t, tt.zone, tt.start)
			got, err := s.Deadline(start, paused, tt.cal)
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if want := wall(t, tt.zone, tt.deadline); !got.Equal(want) {
				t.Errorf("Deadline = %s, want %s", got.In(want.Location()), want)
			}
			if got, err := s.Elapsed(start, paused, tt.cal, got); err != nil || got != tt.target {
				t.Errorf("Elapsed at the deadline = %v, %v; want %v", got, err, tt.target)
			}
			warnings, err := s.Warnings(start, paused, tt.cal)
			if err != nil {
				t.Fatalf("Warnings: %v", err)
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("Warnings = %v, want %v", warnings, tt.warnings)
			}
			for i, w := range warnings {
				if want := wall(t, tt.zone, tt.warnings[i]); !w.Equal(want) {
					t.Errorf("warning %d = %s, want %s", i, w.In(want.Location()), want)
				}
			}
		})
	}
}

func TestSLAElapsed(t *testing.T) {
	sh := calendar(t, shanghaiCalendar)
	const SH = "Asia/Shanghai"
	start := wall(t, SH, "2026-09-30 16:00")
	pausedUntil := []Interval{{Start: wall(t, SH, "2026-09-30 17:00"), End: wall(t, SH, "2026-10-08 10:00")}}
	stillPaused := []Interval{{Start: wall(t, SH, "2026-09-30 17:00")}}
	tests := []struct {
		name   string
		clock  Clock
		paused []Interval
		now    string
		want   time.Duration
	}{
		{"working, before the pause", ClockWorking, pausedUntil, "2026-09-30 16:30", 30 * time.Minute},
		{"working, during the pause", ClockWorking, pausedUntil, "2026-10-05 12:00", time.Hour},
		{"working, after the pause, over lunch", ClockWorking, pausedUntil, "2026-10-08 12:30", 3 * time.Hour},
		{"working, still paused", ClockWorking, stillPaused, "2026-10-09 12:00", time.Hour},
		{"working, no pause, over the holiday", ClockWorking, nil, "2026-10-08 09:30", 2*time.Hour + 30*time.Minute},
		{"calendar, during the pause", ClockCalendar, pausedUntil, "2026-10-05 12:00", time.Hour},
		{"calendar, after the pause", ClockCalendar, pausedUntil, "2026-10-08 12:30", 3*time.Hour + 30*time.Minute},
		{"calendar, no pause", ClockCalendar, nil, "2026-10-01 16:00", 24 * time.Hour},
		{"before the start", ClockCalendar, nil, "2026-09-30 15:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &SLA{Target: time.Hour, Clock: tt.clock}
			got, err := s.Elapsed(start, tt.paused, sh, wall(t, SH, tt.now))
			if err != nil || got != tt.want {
				t.Errorf("Elapsed = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSLAErrors(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	working := &SLA{Target: 4 * time.Hour, Clock: ClockWorking}
	if _, err := working.Deadline(start, nil, nil); !errors.Is(err, ErrNoCalendar) {
		t.Errorf("working time without a calendar: %v", err)
	}
	if _, err := working.Elapsed(start, nil, nil, start); !errors.Is(err, ErrNoCalendar) {
		t.Errorf("Elapsed without a calendar: %v", err)
	}
	cal := &SLA{Target: 4 * time.Hour, Clock: ClockCalendar, WarnAt: []float64{0.5}}
	open := []Interval{{Start: start.Add(time.Hour)}}
	if _, err := cal.Deadline(start, open, nil); !errors.Is(err, ErrPaused) {
		t.Errorf("paused before the deadline: %v", err)
	}
	if _, err := cal.Warnings(start, []Interval{{Start: start.Add(time.Hour)}}, nil); !errors.Is(err, ErrPaused) {
		t.Errorf("warning while paused: %v", err)
	}
	backwards := []Interval{{Start: start.Add(2 * time.Hour), End: start.Add(time.Hour)}}
	if _, err := cal.Deadline(start, backwards, nil); !errors.Is(err, ErrInvalidInterval) {
		t.Errorf("a pause that ends before it starts: %v", err)
	}
	if _, err := working.Deadline(start, nil, &workcal.Calendar{}); !errors.Is(err, workcal.ErrNoWorkingTime) {
		t.Errorf("a calendar without working time: %v", err)
	}
}

func TestTimersFor(t *testing.T) {
	doc := edit(t, baseDefinition, func(d map[string]any) {
		set(d, "/sla/-", obj(t, `{"key":"resolution","start":{"enter":["new"]},"stop":{"enter":["resolved","rejected"]},
			"pause":{"enter":["pending_customer","pending_approval"]},"target":"2d"}`))
	})
	w := mustParse(t, doc, testOptions())
	tests := []struct {
		from, to string
		want     string
	}{
		{"", "new", "start[first_response resolution] stop[] pause[] resume[]"},
		{"new", "in_progress", "start[] stop[first_response] pause[] resume[]"},
		{"in_progress", "pending_customer", "start[] stop[] pause[first_response resolution] resume[]"},
		{"pending_customer", "in_progress", "start[] stop[first_response] pause[] resume[resolution]"},
		{"in_progress", "pending_approval", "start[] stop[] pause[resolution] resume[]"},
		{"pending_customer", "pending_approval", "start[] stop[] pause[] resume[first_response]"},
		{"pending_approval", "resolved", "start[] stop[resolution] pause[] resume[]"},
		{"resolved", "closed", "start[] stop[first_response] pause[] resume[]"},
		{"in_progress", "in_progress", "start[] stop[] pause[] resume[]"},
	}
	for _, tt := range tests {
		t.Run(tt.from+"→"+tt.to, func(t *testing.T) {
			c := w.TimersFor(tt.from, tt.to)
			got := fmt.Sprintf("start%v stop%v pause%v resume%v", c.Start, c.Stop, c.Pause, c.Resume)
			if got != tt.want {
				t.Errorf("TimersFor = %s, want %s", got, tt.want)
			}
		})
	}
}
