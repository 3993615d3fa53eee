package workcal

import (
	"math/rand/v2"
	"testing"
	"time"
)

// propertyCalendars returns calendars with holidays, make-up days, lunch breaks,
// daylight saving changes at 02:00, at midnight (Santiago) and of half an
// hour (Lord Howe), ranges inside a daylight saving gap, and a date that
// did not exist (Apia skipped 2011-12-30).
func propertyCalendars() []struct{ name, js string } {
	return []struct{ name, js string }{
		{"Shanghai National Day", shanghaiNational},
		{"New York", newYork},
		{"New York DST Sundays", newYorkDST},
		{"New York all day", newYorkAllDay},
		{"New York 2100", newYorkAllDay},
		{"one September workday", septemberOnly},
		{"New York gap", `{"timeZone":"America/New_York","weekdays":["sun","mon"],
		"hours":[{"start":"00:30","end":"01:59"},{"start":"02:30","end":"03:30"},{"start":"22:00","end":"24:00"}]}`},
		{"Sydney gap", `{"timeZone":"Australia/Sydney","weekdays":["sun","mon","tue"],
		"hours":[{"start":"01:00","end":"02:00"},{"start":"02:00","end":"02:45"},{"start":"02:45","end":"05:00"}]}`},
		{"Santiago midnight", `{"timeZone":"America/Santiago","weekdays":["sat","sun","mon","tue","wed","thu","fri"],
		"hours":[{"start":"00:00","end":"00:30"},{"start":"08:00","end":"12:00"},{"start":"23:30","end":"24:00"}],
		"holidays":["2026-09-18","2026-09-19"]}`},
		{"Lord Howe", `{"timeZone":"Australia/Lord_Howe","weekdays":["mon","tue","wed","thu","fri","sat","sun"],
		"hours":[{"start":"01:00","end":"03:00"},{"start":"09:00","end":"17:00"}]}`},
		{"Apia 2011", `{"timeZone":"Pacific/Apia","weekdays":["mon","tue","wed","thu","fri","sat","sun"],
		"hours":[{"start":"00:00","end":"12:00"},{"start":"12:00","end":"24:00"}]}`},
	}
}

// randomInstant returns an instant, to the nanosecond, within about a year
// and a half either side of around, or sometimes a whole minute.
func randomInstant(r *rand.Rand, around time.Time) time.Time {
	t := around.Add(time.Duration(r.Int64N(int64(3*365*24*time.Hour))) - 3*365*12*time.Hour)
	if r.IntN(3) == 0 {
		return t.Truncate(time.Minute)
	}
	return t.Add(time.Duration(r.Int64N(int64(time.Minute))))
}

// randomDuration returns a working duration from zero to a few thousand
// hours, often a whole number of minutes or hours.
func randomDuration(r *rand.Rand) time.Duration {
	switch r.IntN(5) {
	case 0:
		return 0
	case 1:
		return time.Duration(r.IntN(600)) * time.Minute
	case 2:
		return time.Duration(r.IntN(3000)) * time.Hour
	default:
		return time.Duration(r.Int64N(int64(3000 * time.Hour)))
	}
}

// around returns the instant the random instants of a calendar centre on.
func around(name string) time.Time {
	switch name {
	case "Apia 2011":
		return time.Date(2011, 12, 30, 0, 0, 0, 0, time.UTC)
	case "New York 2100": // past the zone database's table of transitions
		return time.Date(2100, 7, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
}

// TestBetweenInvertsAdd checks, for random starts and durations, that Add
// returns an instant in UTC, not before the start, at which exactly d of
// working time has elapsed, and the earliest such instant.
func TestBetweenInvertsAdd(t *testing.T) {
	for _, pc := range propertyCalendars() {
		name := pc.name
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, pc.js)
			r := rand.New(rand.NewPCG(1, 2))
			for range 2000 {
				start, d := randomInstant(r, around(name)), randomDuration(r)
				end, err := c.Add(start, d)
				if err != nil {
					if name != "one September workday" {
						t.Fatalf("Add(%s, %s): %v", start, d, err)
					}
					continue
				}
				if end.Location() != time.UTC || end.Before(start) {
					t.Fatalf("Add(%s, %s) = %s", start, d, end)
				}
				if got := c.Between(start, end); got != d {
					t.Fatalf("Between(%s, Add(%s, %s) = %s) = %s", start, start, d, end, got)
				}
				if d == 0 {
					if !c.IsWorking(end) || c.NextWorkingStart(start) != end {
						t.Fatalf("Add(%s, 0) = %s is not the next working start", start, end)
					}
				} else if earlier := end.Add(-time.Nanosecond); c.Between(start, earlier) != d-time.Nanosecond || !c.IsWorking(earlier) {
					t.Fatalf("Add(%s, %s) = %s is not the earliest instant", start, d, end)
				}
			}
		})
	}
}

// TestBetweenMatchesDayByDay checks Between, which skips whole weeks, against
// a sum of every day's periods.
func TestBetweenMatchesDayByDay(t *testing.T) {
	for _, pc := range propertyCalendars() {
		name := pc.name
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, pc.js)
			r := rand.New(rand.NewPCG(3, 4))
			for range 300 {
				a, b := randomInstant(r, around(name)), randomInstant(r, around(name))
				want := dayByDay(c, a, b)
				if got := c.Between(a, b); got != want {
					t.Fatalf("Between(%s, %s) = %s, day by day %s", a, b, got, want)
				}
			}
		})
	}
}

// dayByDay is Between without any skipping.
func dayByDay(c *Calendar, a, b time.Time) time.Duration {
	var total time.Duration
	for day := c.rules.dayOf(a); day <= c.rules.dayOf(b); day++ {
		for _, p := range c.rules.periods(day, nil) {
			from, to := max(p.start.UnixNano(), a.UnixNano()), min(p.end.UnixNano(), b.UnixNano())
			if to > from {
				total += time.Duration(to - from)
			}
		}
	}
	return total
}

// TestIsWorkingMatchesBetween checks that an instant is working time exactly
// when the nanosecond starting at it counts.
func TestIsWorkingMatchesBetween(t *testing.T) {
	for _, pc := range propertyCalendars() {
		name := pc.name
		t.Run(name, func(t *testing.T) {
			c := mustParse(t, pc.js)
			r := rand.New(rand.NewPCG(5, 6))
			for range 2000 {
				at := randomInstant(r, around(name))
				if got, want := c.IsWorking(at), c.Between(at, at.Add(time.Nanosecond)) == time.Nanosecond; got != want {
					t.Fatalf("IsWorking(%s) = %v, Between says %v", at, got, want)
				}
			}
		})
	}
}

// TestDayNumbers checks the day arithmetic against the time package.
func TestDayNumbers(t *testing.T) {
	if got := dayNumber(1, time.January, 1); got != minDay {
		t.Errorf("minDay = %d, want %d", minDay, got)
	}
	if got := dayNumber(9999, time.December, 31); got != maxDay {
		t.Errorf("maxDay = %d, want %d", maxDay, got)
	}
	for day := int64(minDay); day <= maxDay; day += 997 {
		y, m, d := civil(day)
		u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		if dayNumber(y, m, d) != day || u.Weekday() != weekdayOf(day) {
			t.Fatalf("day %d is %s, a %s, not %s", day, u, u.Weekday(), weekdayOf(day))
		}
	}
}

// benchmarkCalendar is New York with the 2026 federal holidays.
const benchmarkCalendar = `{"timeZone":"America/New_York","weekdays":["mon","tue","wed","thu","fri"],
	"hours":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"17:00"}],
	"holidays":["2026-01-01","2026-01-19","2026-02-16","2026-05-25","2026-06-19","2026-07-03",
		"2026-09-07","2026-10-12","2026-11-11","2026-11-26","2026-12-25"]}`

// BenchmarkAddYear adds a year of working time (250 days of 7 hours).
func BenchmarkAddYear(b *testing.B) {
	c := mustParse(b, benchmarkCalendar)
	start := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := c.Add(start, 250*7*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBetweenYear counts the working time of a year.
func BenchmarkBetweenYear(b *testing.B) {
	c := mustParse(b, benchmarkCalendar)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	for b.Loop() {
		c.Between(from, to)
	}
}

// BenchmarkAddDay adds four working hours, an SLA timer's usual case.
func BenchmarkAddDay(b *testing.B) {
	c := mustParse(b, benchmarkCalendar)
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := c.Add(start, 4*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
