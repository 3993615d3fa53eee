package workcal

import (
	"math"
	"slices"
	"time"

	"github.com/custos-crm/custos/ent/schema/caldate"
)

// secondsPerDay turns a day number into Unix seconds at midnight UTC and
// back. Day numbers count calendar dates from 1970-01-01 (day 0); the
// calendar's zone turns a date into instants.
const secondsPerDay = 24 * 60 * 60

// minDay and maxDay are the day numbers of 0001-01-01 and 9999-12-31, the
// first and last dates that can have working time.
const (
	minDay = -719162
	maxDay = 2932896
)

// week is the length of seven days at a fixed UTC offset.
const week = 7 * 24 * time.Hour

// zoneMargin is how far from a change of UTC offset a stretch of days must
// stay for its working time to be counted from the hours alone. It exceeds
// any offset change, so no wall-clock time in the stretch is ambiguous or
// missing.
const zoneMargin = 48 * time.Hour

// rules is the prepared form of a Calendar.
type rules struct {
	loc         *time.Location
	weekdays    [7]bool        // indexed by time.Weekday
	ranges      []span         // sorted, not overlapping
	special     map[int64]bool // holidays (false) and workdays (true) by day number
	specialDays []int64        // the keys of special, sorted
	weekLen     time.Duration  // working time of a week with no special day and no offset change
}

// span is an hour range in minutes after midnight, [start, end).
type span struct{ start, end int }

// period is a stretch of working time, [start, end).
type period struct{ start, end time.Time }

// dayNumber returns the day number of a date.
func dayNumber(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

// dateNumber returns the day number of a calendar date.
func dateNumber(d caldate.Date) int64 {
	return d.Start(time.UTC).Unix() / secondsPerDay
}

// civil returns the date of a day number.
func civil(day int64) (int, time.Month, int) {
	return time.Unix(day*secondsPerDay, 0).UTC().Date()
}

// weekdayOf returns the weekday of a day number; day 0 was a Thursday.
func weekdayOf(day int64) time.Weekday {
	return time.Weekday(((day % 7) + 7 + int64(time.Thursday)) % 7)
}

// isWorkingDay reports whether the date is a working day.
func (r *rules) isWorkingDay(day int64) bool {
	if day < minDay || day > maxDay {
		return false
	}
	if worked, ok := r.special[day]; ok {
		return worked
	}
	return r.weekdays[weekdayOf(day)]
}

// dayStart returns the first instant of a date: midnight as time.Date
// resolves it.
func (r *rules) dayStart(day int64) time.Time {
	y, m, d := civil(day)
	return time.Date(y, m, d, 0, 0, 0, 0, r.loc)
}

// dayOf returns the date whose instants, [dayStart(day), dayStart(day+1)),
// contain t. It is t's date in the calendar's zone except when time.Date
// resolves a midnight into the neighbouring date. An instant far outside
// the years 1 to 9999 gets a day just outside [minDay, maxDay] instead, so
// that day numbers never overflow.
func (r *rules) dayOf(t time.Time) int64 {
	y, m, d := t.In(r.loc).Date()
	switch {
	case y < 0:
		return minDay - 2
	case y > 10000:
		return maxDay + 2
	}
	day := dayNumber(y, m, d)
	for t.Before(r.dayStart(day)) {
		day--
	}
	for !t.Before(r.dayStart(day + 1)) {
		day++
	}
	return day
}

// periods appends to buf the working periods of a date, in order, not
// overlapping, and within [dayStart(day), dayStart(day+1)].
func (r *rules) periods(day int64, buf []period) []period {
	out := buf[:0]
	if !r.isWorkingDay(day) {
		return out
	}
	y, m, d := civil(day)
	floor := time.Date(y, m, d, 0, 0, 0, 0, r.loc)
	ceiling := time.Date(y, m, d+1, 0, 0, 0, 0, r.loc)
	for _, s := range r.ranges {
		start := time.Date(y, m, d, 0, s.start, 0, 0, r.loc)
		end := time.Date(y, m, d, 0, s.end, 0, 0, r.loc)
		if start.Before(floor) {
			start = floor
		}
		if end.After(ceiling) {
			end = ceiling
		}
		if end.After(start) {
			out = append(out, period{start: start, end: end})
			floor = end
		}
	}
	return out
}

// nextSpecial returns the first holiday or workday on or after day.
func (r *rules) nextSpecial(day int64) (int64, bool) {
	i, _ := slices.BinarySearch(r.specialDays, day)
	if i == len(r.specialDays) {
		return 0, false
	}
	return r.specialDays[i], true
}

// wholeWeeks returns how many whole weeks, at most limit, starting on day can
// be counted as weekLen each without looking at their days: weeks with no
// holiday or workday, before 9999-12-31, and at least zoneMargin away from
// any change of the zone's UTC offset, so that every range has its nominal
// length and periods would return exactly those ranges.
func (r *rules) wholeWeeks(day, limit int64) int64 {
	k := min(limit, (maxDay+1-day)/7)
	if next, ok := r.nextSpecial(day); ok {
		k = min(k, (next-day)/7)
	}
	if k <= 0 {
		return 0
	}
	first := r.dayStart(day)
	zoneStart, zoneEnd := first.ZoneBounds()
	if !zoneStart.IsZero() && first.Sub(zoneStart) < zoneMargin {
		return 0
	}
	if !zoneEnd.IsZero() {
		k = min(k, int64((zoneEnd.Sub(first)-zoneMargin)/week))
	}
	return max(k, 0)
}

// skipIdle returns the first day on or after day that can be a working day
// of a calendar with no working weekdays: its next workday, or a day after
// 9999-12-31 if it has none.
func (r *rules) skipIdle(day int64) int64 {
	for {
		next, ok := r.nextSpecial(day)
		if !ok {
			return maxDay + 1
		}
		if r.special[next] {
			return next
		}
		day = next + 1
	}
}

// Add returns the instant at which d of working time has elapsed, counting
// from start: counting begins at the first working instant at or after start,
// and Add returns the earliest instant at which the count reaches d. So a
// count that ends exactly at the end of a range returns that end (12:00), not
// the start of the next range (13:30); d == 0 returns the first working
// instant at or after start, which is start itself during working time. The
// result is in UTC and Between(start, result) == d.
//
// Add returns [ErrNegativeDuration] for d < 0 and [ErrNoWorkingTime] when the
// calendar runs out of working time first (see its documentation). It never
// loops forever: it skips non-working days and whole weeks, and stops after
// 9999-12-31.
func (c *Calendar) Add(start time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrNegativeDuration
	}
	r := c.rules
	if r == nil {
		return time.Time{}, ErrNoWorkingTime
	}
	var buf [MaxRanges]period
	first := r.dayOf(start)
	remaining := d
	for day := max(first, minDay); day <= maxDay; {
		if day > first {
			if r.weekLen == 0 {
				if day = r.skipIdle(day); day > maxDay {
					break
				}
			} else if k := r.wholeWeeks(day, int64((remaining-1)/r.weekLen)); k > 0 {
				remaining -= time.Duration(k) * r.weekLen
				day += 7 * k
				continue
			}
		}
		for _, p := range r.periods(day, buf[:0]) {
			if !p.end.After(start) {
				continue
			}
			from := p.start
			if start.After(from) {
				from = start
			}
			if remaining == 0 {
				return from.UTC(), nil
			}
			if left := p.end.Sub(from); remaining > left {
				remaining -= left
				continue
			}
			return from.Add(remaining).UTC(), nil
		}
		day++
	}
	return time.Time{}, ErrNoWorkingTime
}

// Between returns the working time in [a, b): 0 when b is not after a. A
// result that would exceed the largest Duration (about 292 years) is that
// largest Duration.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	r := c.rules
	if r == nil || !a.Before(b) {
		return 0
	}
	var buf [MaxRanges]period
	first, last := r.dayOf(a), r.dayOf(b)
	var total time.Duration
	end := min(last, maxDay)
	for day := max(first, minDay); day <= end; {
		if day > first {
			if r.weekLen == 0 {
				if day = r.skipIdle(day); day > end {
					break
				}
			} else if k := r.wholeWeeks(day, (last-day)/7); k > 0 {
				if k > int64((math.MaxInt64-total)/r.weekLen) {
					return math.MaxInt64
				}
				total += time.Duration(k) * r.weekLen
				day += 7 * k
				continue
			}
		}
		for _, p := range r.periods(day, buf[:0]) {
			from, to := p.start, p.end
			if a.After(from) {
				from = a
			}
			if b.Before(to) {
				to = b
			}
			if !to.After(from) {
				continue
			}
			part := to.Sub(from)
			if total > math.MaxInt64-part {
				return math.MaxInt64
			}
			total += part
		}
		day++
	}
	return total
}

// IsWorking reports whether t is working time: whether it falls in a range
// of a working day, end excluded.
func (c *Calendar) IsWorking(t time.Time) bool {
	r := c.rules
	if r == nil {
		return false
	}
	var buf [MaxRanges]period
	for _, p := range r.periods(r.dayOf(t), buf[:0]) {
		if !t.Before(p.start) && t.Before(p.end) {
			return true
		}
	}
	return false
}

// NextWorkingStart returns the first working instant at or after t, in UTC:
// t itself during working time, else the start of the next working period.
// It is Add(t, 0). It returns the zero Time when the calendar has no working
// time left at or after t (see [ErrNoWorkingTime]).
func (c *Calendar) NextWorkingStart(t time.Time) time.Time {
	next, err := c.Add(t, 0)
	if err != nil {
		return time.Time{}
	}
	return next
}
