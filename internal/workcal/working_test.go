package workcal

import (
	"errors"
	"math"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zone database
)

// Calendars the tests share. Shanghai has no daylight saving time; New York
// changes on 2026-03-08 and 2026-11-01, both Sundays.
const (
	shanghaiDay = `{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"18:00"}]}`
	shanghaiLunch = `{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"18:00"}]}`
	// National Day 2026: 10-01 to 10-07 off, made up on Sunday 09-27 and
	// Saturday 10-10.
	shanghaiNational = `{"timeZone":"Asia/Shanghai","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"12:00"},{"start":"13:30","end":"18:00"}],
		"holidays":["2026-10-01","2026-10-02","2026-10-03","2026-10-04","2026-10-05","2026-10-06","2026-10-07"],
		"workdays":["2026-09-27","2026-10-10"]}`
	newYork = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"17:00"}],"holidays":["2026-11-26"]}`
	newYorkPlain = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"17:00"}]}`
	// newYorkDST also works the two Sundays the clocks change.
	newYorkDST = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri"],
		"hours":[{"start":"09:00","end":"17:00"}],"workdays":["2026-03-08","2026-11-01"]}`
	newYorkAllDay = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri","sat","sun"],
		"hours":[{"start":"00:00","end":"24:00"}]}`
	// septemberOnly works on one date and never again.
	septemberOnly = `{"timeZone":"Asia/Shanghai","weekdays":[],"hours":[{"start":"09:00","end":"18:00"}],
		"workdays":["2026-09-27"]}`
	// minuteAWeek works one minute every Wednesday.
	minuteAWeek = `{"timeZone":"America/New_York","weekdays":["wed"],"hours":[{"start":"10:00","end":"10:01"}]}`
)

// mustParse parses a calendar the test relies on.
func mustParse(t testing.TB, js string) *Calendar {
	t.Helper()
	c, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// mustLoad loads a time zone.
func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at returns the instant of a "2006-01-02 15:04" wall-clock time in the
// calendar's zone.
func at(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, mustLoad(t, c.TimeZone))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNationalDayMakeUpDaysFallOnWeekends(t *testing.T) {
	for _, tc := range []struct {
		date string
		want time.Weekday
	}{
		{"2026-09-25", time.Friday},
		{"2026-09-27", time.Sunday},
		{"2026-10-01", time.Thursday},
		{"2026-10-07", time.Wednesday},
		{"2026-10-08", time.Thursday},
		{"2026-10-10", time.Saturday},
		{"2026-11-26", time.Thursday},
		{"2026-03-08", time.Sunday},
		{"2026-11-01", time.Sunday},
	} {
		d, err := time.Parse("2006-01-02", tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if d.Weekday() != tc.want {
			t.Errorf("%s is a %s, the cases below assume a %s", tc.date, d.Weekday(), tc.want)
		}
	}
}

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		calendar string
		start    string // wall clock in the calendar's zone
		d        time.Duration
		want     string // wall clock in the calendar's zone
	}{
		{"Shanghai Friday 16:00 plus 4h is Monday 11:00", shanghaiDay, "2026-09-18 16:00", 4 * time.Hour, "2026-09-21 11:00"},
		{"lunch break: Friday 16:00 plus 4h is Monday 11:00", shanghaiLunch, "2026-09-18 16:00", 4 * time.Hour, "2026-09-21 11:00"},
		{"lunch break: a count ending at 12:00 returns 12:00, not 13:30", shanghaiLunch, "2026-09-18 16:00", 5 * time.Hour, "2026-09-21 12:00"},
		{"lunch break: one minute more resumes at 13:30", shanghaiLunch, "2026-09-18 16:00", 5*time.Hour + time.Minute, "2026-09-21 13:31"},
		{"lunch break is skipped", shanghaiLunch, "2026-09-21 11:00", 2 * time.Hour, "2026-09-21 14:30"},
		{"start inside the break", shanghaiLunch, "2026-09-21 12:30", time.Hour, "2026-09-21 14:30"},
		{"start exactly at a range end", shanghaiLunch, "2026-09-21 12:00", 30 * time.Minute, "2026-09-21 14:00"},
		{"start exactly at the day's end", shanghaiLunch, "2026-09-21 18:00", time.Hour, "2026-09-22 10:00"},
		{"start exactly at a range start", shanghaiLunch, "2026-09-21 13:30", time.Hour, "2026-09-21 14:30"},
		{"start at midnight", shanghaiLunch, "2026-09-22 00:00", time.Hour, "2026-09-22 10:00"},
		{"start on a Saturday", shanghaiLunch, "2026-09-19 10:00", time.Hour, "2026-09-21 10:00"},
		{"a whole day ends at its last range end", shanghaiLunch, "2026-09-21 09:00", 7*time.Hour + 30*time.Minute, "2026-09-21 18:00"},
		{"zero inside working time is the start", shanghaiLunch, "2026-09-21 10:15", 0, "2026-09-21 10:15"},
		{"zero at a range start is the start", shanghaiLunch, "2026-09-21 13:30", 0, "2026-09-21 13:30"},
		{"zero at a range end is the next range start", shanghaiLunch, "2026-09-21 12:00", 0, "2026-09-21 13:30"},
		{"zero at the day's end is the next day's start", shanghaiLunch, "2026-09-21 18:00", 0, "2026-09-22 09:00"},
		{"zero on a weekend is Monday's start", shanghaiLunch, "2026-09-19 10:00", 0, "2026-09-21 09:00"},

		{"make-up Sunday 09-27 counts", shanghaiNational, "2026-09-25 16:00", 4 * time.Hour, "2026-09-27 11:00"},
		{"without the make-up day Monday counts", shanghaiLunch, "2026-09-25 16:00", 4 * time.Hour, "2026-09-28 11:00"},
		{"Saturday 09-26 is still off", shanghaiNational, "2026-09-26 10:00", 0, "2026-09-27 09:00"},
		{"the National Day week is skipped", shanghaiNational, "2026-09-30 16:00", 4 * time.Hour, "2026-10-08 11:00"},
		{"start on a holiday", shanghaiNational, "2026-10-03 10:00", time.Hour, "2026-10-08 10:00"},
		{"zero on a holiday", shanghaiNational, "2026-10-01 09:00", 0, "2026-10-08 09:00"},
		{"make-up Saturday 10-10 counts", shanghaiNational, "2026-10-09 17:00", 2 * time.Hour, "2026-10-10 10:00"},
		{"after Saturday 10-10 comes Monday 10-12", shanghaiNational, "2026-10-10 17:00", 2 * time.Hour, "2026-10-12 10:00"},
		{"all of the holiday season", shanghaiNational, "2026-09-26 00:00", 52*time.Hour + 30*time.Minute, "2026-10-10 18:00"},

		{"New York across a weekend", newYork, "2026-11-20 15:00", 4 * time.Hour, "2026-11-23 11:00"},
		{"New York across Thanksgiving", newYork, "2026-11-25 15:00", 4 * time.Hour, "2026-11-27 11:00"},
		{"New York on Thanksgiving", newYork, "2026-11-26 10:00", 0, "2026-11-27 09:00"},
		{"New York across the March DST change", newYork, "2026-03-06 13:00", 8 * time.Hour, "2026-03-09 13:00"},
		{"New York two days across the March DST change", newYork, "2026-03-06 09:00", 16 * time.Hour, "2026-03-09 17:00"},
		{"New York across the November DST change", newYork, "2026-10-30 13:00", 8 * time.Hour, "2026-11-02 13:00"},
		{"New York March DST day is 8 hours", newYorkDST, "2026-03-08 00:00", 8 * time.Hour, "2026-03-08 17:00"},
		{"New York November DST day is 8 hours", newYorkDST, "2026-11-01 00:00", 8 * time.Hour, "2026-11-01 17:00"},
		{"a 24-hour range on the March DST day is 23 hours", newYorkAllDay, "2026-03-08 00:00", 23 * time.Hour, "2026-03-09 00:00"},
		{"a 24-hour range on the November DST day is 25 hours", newYorkAllDay, "2026-11-01 00:00", 25 * time.Hour, "2026-11-02 00:00"},

		{"a calendar with one workday", septemberOnly, "2026-09-01 00:00", 9 * time.Hour, "2026-09-27 18:00"},
		{"one minute a week, a year ahead", minuteAWeek, "2026-01-01 00:00", 52 * time.Minute, "2026-12-30 10:01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.calendar)
			start, want := at(t, c, tc.start), at(t, c, tc.want)
			got, err := c.Add(start, tc.d)
			if err != nil {
				t.Fatalf("Add(%s, %s): %v", tc.start, tc.d, err)
			}
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("Add(%s, %s) = %s, want %s (%s)", tc.start, tc.d, got, want.UTC(), tc.want)
			}
			if back := c.Between(start, got); back != tc.d {
				t.Errorf("Between(%s, %s) = %s, want %s", tc.start, got, back, tc.d)
			}
		})
	}
}

func TestAddExactInstants(t *testing.T) {
	sh := mustParse(t, shanghaiLunch)
	ny := mustParse(t, newYork)
	shLoc, nyLoc := mustLoad(t, "Asia/Shanghai"), mustLoad(t, "America/New_York")
	for _, tc := range []struct {
		name  string
		c     *Calendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"one nanosecond", sh, time.Date(2026, 9, 21, 9, 0, 0, 0, shLoc), time.Nanosecond,
			time.Date(2026, 9, 21, 1, 0, 0, 1, time.UTC)},
		{"a start in another zone", sh, time.Date(2026, 9, 18, 3, 0, 0, 0, nyLoc), 4 * time.Hour, // Friday 15:00 in Shanghai
			time.Date(2026, 9, 21, 2, 0, 0, 0, time.UTC)}, // Monday 10:00 in Shanghai
		{"March DST in UTC", ny, time.Date(2026, 3, 6, 18, 0, 0, 0, time.UTC), 8 * time.Hour,
			time.Date(2026, 3, 9, 17, 0, 0, 0, time.UTC)}, // 13:00 EDT
		{"November DST in UTC", ny, time.Date(2026, 10, 30, 17, 0, 0, 0, time.UTC), 8 * time.Hour,
			time.Date(2026, 11, 2, 18, 0, 0, 0, time.UTC)}, // 13:00 EST
		{"ten years of working time in Shanghai", mustParse(t, shanghaiDay), time.Date(2026, 1, 5, 9, 0, 0, 0, shLoc), 520 * 45 * time.Hour,
			time.Date(2026, 1, 5+520*7-3, 18, 0, 0, 0, shLoc).UTC()},
		{"ten years of working time in New York", mustParse(t, newYorkPlain),
			time.Date(2026, 1, 5, 9, 0, 0, 0, nyLoc), 521 * 40 * time.Hour,
			time.Date(2026, 1, 5+521*7-3, 17, 0, 0, 0, nyLoc).UTC()},
		{"a start before year 1 waits for 0001-01-01, a Monday", sh, time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC), 0,
			time.Date(1, 1, 1, 9, 0, 0, 0, shLoc).UTC()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Add(tc.start, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("Add(%s, %s) = %s, want %s", tc.start, tc.d, got, tc.want)
			}
		})
	}
}

func TestAddIgnoresMonotonicReading(t *testing.T) {
	c := mustParse(t, newYorkAllDay)
	now := time.Now()
	withReading, err1 := c.Add(now, time.Hour)
	without, err2 := c.Add(now.Round(0), time.Hour)
	if err1 != nil || err2 != nil || !withReading.Equal(without) || withReading != without {
		t.Errorf("Add(now, 1h) = %v, %v; without the monotonic reading %v, %v", withReading, err1, without, err2)
	}
}

func TestAddLongDurations(t *testing.T) {
	for _, tc := range []struct {
		name     string
		calendar string
		d        time.Duration
		wantErr  error
	}{
		{"the largest duration in Shanghai", shanghaiNational, math.MaxInt64, nil},
		{"the largest duration in New York", newYork, math.MaxInt64, nil},
		{"the largest duration at a minute a week runs past 9999", minuteAWeek, math.MaxInt64, ErrNoWorkingTime},
		{"the largest duration on a 24/7 calendar", newYorkAllDay, math.MaxInt64, nil},
		{"more than the only workday", septemberOnly, 9*time.Hour + time.Nanosecond, ErrNoWorkingTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.calendar)
			start := at(t, c, "2026-09-01 00:00")
			got, err := c.Add(start, tc.d)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Add error = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !got.IsZero() {
					t.Errorf("Add returned %s with its error", got)
				}
				return
			}
			if back := c.Between(start, got); back != tc.d {
				t.Errorf("Between(start, %s) = %s, want %s", got, back, tc.d)
			}
		})
	}
}

func TestAddErrors(t *testing.T) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		c       *Calendar
		start   time.Time
		d       time.Duration
		wantErr error
	}{
		{"negative duration", mustParse(t, shanghaiDay), start, -time.Nanosecond, ErrNegativeDuration},
		{"the zero Calendar", &Calendar{}, start, time.Hour, ErrNoWorkingTime},
		{"a Calendar that was never validated", &Calendar{TimeZone: "UTC", Weekdays: []string{"mon"}, Hours: []Range{{"09:00", "18:00"}}}, start, 0, ErrNoWorkingTime},
		{"after the only workday", mustParse(t, septemberOnly), time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC), 0, ErrNoWorkingTime},
		{"after 9999", mustParse(t, shanghaiDay), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 0, ErrNoWorkingTime},
		{"far after 9999", mustParse(t, shanghaiDay), time.Date(1_000_000, 1, 1, 0, 0, 0, 0, time.UTC), 0, ErrNoWorkingTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Add(tc.start, tc.d)
			if !errors.Is(err, tc.wantErr) || !got.IsZero() {
				t.Errorf("Add = %s, %v, want the zero Time and %v", got, err, tc.wantErr)
			}
			if next := tc.c.NextWorkingStart(tc.start); tc.wantErr == ErrNoWorkingTime && !next.IsZero() {
				t.Errorf("NextWorkingStart = %s, want the zero Time", next)
			}
		})
	}
}

func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		name     string
		calendar string
		a, b     string // wall clock in the calendar's zone
		want     time.Duration
	}{
		{"b before a", shanghaiLunch, "2026-09-21 14:00", "2026-09-21 10:00", 0},
		{"b equal to a", shanghaiLunch, "2026-09-21 10:00", "2026-09-21 10:00", 0},
		{"a whole day", shanghaiLunch, "2026-09-21 00:00", "2026-09-22 00:00", 7*time.Hour + 30*time.Minute},
		{"across the lunch break", shanghaiLunch, "2026-09-21 10:00", "2026-09-21 14:00", 2*time.Hour + 30*time.Minute},
		{"inside the lunch break", shanghaiLunch, "2026-09-21 12:00", "2026-09-21 13:30", 0},
		{"a weekend", shanghaiLunch, "2026-09-19 00:00", "2026-09-21 00:00", 0},
		{"Friday 16:00 to Monday 11:00", shanghaiLunch, "2026-09-18 16:00", "2026-09-21 11:00", 4 * time.Hour},
		{"the National Day season", shanghaiNational, "2026-09-26 00:00", "2026-10-12 00:00", 7 * (7*time.Hour + 30*time.Minute)},
		{"the National Day week", shanghaiNational, "2026-10-01 00:00", "2026-10-08 00:00", 0},
		{"a year in Shanghai", shanghaiDay, "2026-01-05 00:00", "2027-01-04 00:00", 52 * 45 * time.Hour},
		{"New York Thanksgiving week", newYork, "2026-11-23 00:00", "2026-11-30 00:00", 4 * 8 * time.Hour},
		{"New York Friday to Monday across the March change", newYork, "2026-03-06 00:00", "2026-03-10 00:00", 16 * time.Hour},
		{"New York March DST workday", newYorkDST, "2026-03-08 00:00", "2026-03-09 00:00", 8 * time.Hour},
		{"New York November DST workday", newYorkDST, "2026-11-01 00:00", "2026-11-02 00:00", 8 * time.Hour},
		{"New York March DST day, 24-hour range", newYorkAllDay, "2026-03-08 00:00", "2026-03-09 00:00", 23 * time.Hour},
		{"New York November DST day, 24-hour range", newYorkAllDay, "2026-11-01 00:00", "2026-11-02 00:00", 25 * time.Hour},
		{"New York 2026, 24-hour range", newYorkAllDay, "2026-01-01 00:00", "2027-01-01 00:00", 365 * 24 * time.Hour},
		{"New York 2026 less Thanksgiving", newYork, "2026-01-01 00:00", "2027-01-01 00:00", (261 - 1) * 8 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.calendar)
			if got := c.Between(at(t, c, tc.a), at(t, c, tc.b)); got != tc.want {
				t.Errorf("Between(%s, %s) = %s, want %s", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestBetweenSaturates(t *testing.T) {
	c := mustParse(t, newYorkAllDay)
	a := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	b := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.Between(a, b); got != math.MaxInt64 {
		t.Errorf("Between over 9998 years = %s, want the largest Duration", got)
	}
	if got := (&Calendar{}).Between(a, b); got != 0 {
		t.Errorf("Between on the zero Calendar = %s, want 0", got)
	}
}

// TestDSTGap pins down how a range boundary inside the New York spring gap
// (02:00 to 03:00 on 2026-03-08 does not exist) is read: time.Date takes
// the offset after the change, so 02:30 is 01:30 EST, and clipping keeps the
// day's periods in order.
func TestDSTGap(t *testing.T) {
	day := func(hours string) string {
		return `{"timeZone":"America/New_York","weekdays":[],"workdays":["2026-03-08"],"hours":` + hours + `}`
	}
	utc := func(h, m int) time.Time { return time.Date(2026, 3, 8, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name    string
		hours   string
		want    time.Duration
		working []time.Time
		idle    []time.Time
	}{
		{"an end in the gap", `[{"start":"01:00","end":"02:30"}]`, 30 * time.Minute,
			[]time.Time{utc(6, 0), utc(6, 29)}, []time.Time{utc(6, 30), utc(7, 0)}},
		{"a start in the gap", `[{"start":"02:30","end":"04:00"}]`, 90 * time.Minute,
			[]time.Time{utc(6, 30), utc(7, 59)}, []time.Time{utc(6, 29), utc(8, 0)}},
		{"two ranges meeting in the gap", `[{"start":"01:00","end":"02:00"},{"start":"02:00","end":"03:00"}]`, time.Hour,
			[]time.Time{utc(6, 0), utc(6, 59)}, []time.Time{utc(5, 59), utc(7, 0)}},
		{"a later range read earlier is clipped", `[{"start":"01:00","end":"01:59"},{"start":"02:30","end":"03:30"}]`, 90 * time.Minute,
			[]time.Time{utc(6, 0), utc(6, 58), utc(6, 59), utc(7, 29)}, []time.Time{utc(7, 30)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, day(tc.hours))
			a, b := utc(0, 0), utc(0, 0).AddDate(0, 0, 2)
			if got := c.Between(a, b); got != tc.want {
				t.Errorf("Between = %s, want %s", got, tc.want)
			}
			for _, w := range tc.working {
				if !c.IsWorking(w) {
					t.Errorf("IsWorking(%s) = false, want true", w)
				}
			}
			for _, w := range tc.idle {
				if c.IsWorking(w) {
					t.Errorf("IsWorking(%s) = true, want false", w)
				}
			}
			if end, err := c.Add(a, tc.want); err != nil || c.Between(a, end) != tc.want {
				t.Errorf("Add(a, %s) = %s, %v", tc.want, end, err)
			}
		})
	}
}

func TestIsWorking(t *testing.T) {
	c := mustParse(t, shanghaiNational)
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-09-21 08:59", false},
		{"2026-09-21 09:00", true},
		{"2026-09-21 11:59", true},
		{"2026-09-21 12:00", false},
		{"2026-09-21 13:29", false},
		{"2026-09-21 13:30", true},
		{"2026-09-21 18:00", false},
		{"2026-09-21 00:00", false},
		{"2026-09-26 10:00", false}, // Saturday
		{"2026-09-27 10:00", true},  // make-up Sunday
		{"2026-10-01 10:00", false}, // holiday
		{"2026-10-10 10:00", true},  // make-up Saturday
		{"2026-10-11 10:00", false}, // Sunday
	} {
		if got := c.IsWorking(at(t, c, tc.at)); got != tc.want {
			t.Errorf("IsWorking(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	last := time.Date(2026, 9, 21, 12, 0, 0, 0, mustLoad(t, "Asia/Shanghai")).Add(-time.Nanosecond)
	if !c.IsWorking(last) {
		t.Errorf("IsWorking(%s) = false, want true", last)
	}
	if (&Calendar{}).IsWorking(last) {
		t.Error("the zero Calendar has working time")
	}
}

func TestNextWorkingStart(t *testing.T) {
	c := mustParse(t, shanghaiNational)
	for _, tc := range []struct{ at, want string }{
		{"2026-09-21 08:00", "2026-09-21 09:00"},
		{"2026-09-21 09:00", "2026-09-21 09:00"},
		{"2026-09-21 10:00", "2026-09-21 10:00"},
		{"2026-09-21 12:00", "2026-09-21 13:30"},
		{"2026-09-21 18:00", "2026-09-22 09:00"},
		{"2026-09-25 18:00", "2026-09-27 09:00"},
		{"2026-09-30 18:00", "2026-10-08 09:00"},
		{"2026-10-09 18:00", "2026-10-10 09:00"},
		{"2026-10-10 18:00", "2026-10-12 09:00"},
	} {
		got := c.NextWorkingStart(at(t, c, tc.at))
		if want := at(t, c, tc.want); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("NextWorkingStart(%s) = %s, want %s", tc.at, got, want.UTC())
		}
	}
}

func TestDefault(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	for _, tc := range []struct {
		name     string
		loc      *time.Location
		wantZone string
	}{
		{"nil is UTC", nil, "UTC"},
		{"a loaded zone", tokyo, "Asia/Tokyo"},
		{"a fixed zone", time.FixedZone("UTC+8", 8*60*60), "UTC+8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default(tc.loc)
			if c.TimeZone != tc.wantZone {
				t.Errorf("TimeZone = %q, want %q", c.TimeZone, tc.wantZone)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			loc := tc.loc
			if loc == nil {
				loc = time.UTC
			}
			friday := time.Date(2026, 9, 18, 16, 0, 0, 0, loc)
			got, err := c.Add(friday, 4*time.Hour)
			if want := time.Date(2026, 9, 21, 11, 0, 0, 0, loc); err != nil || !got.Equal(want) {
				t.Errorf("Add(Friday 16:00, 4h) = %s, %v, want %s", got, err, want)
			}
			if got := c.Between(friday, friday.AddDate(0, 0, 7)); got != 45*time.Hour {
				t.Errorf("a week = %s, want 45h", got)
			}
		})
	}
}
