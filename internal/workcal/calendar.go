// Package workcal owns working calendars: a tenant's working days and hours,
// and the arithmetic SLA timers do in working time. It is a leaf package of
// pure functions: it does no I/O other than loading the calendar's time zone
// when a calendar is parsed or validated, and it never reads the clock, so
// callers pass every instant in.
//
// # Calendars
//
// A [Calendar] is a tenant setting, stored and sent as JSON:
//
//	{
//	  "timeZone": "Asia/Shanghai",
//	  "weekdays": ["mon", "tue", "wed", "thu", "fri"],
//	  "hours": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
//	  "holidays": ["2026-10-01", "2026-10-02"],
//	  "workdays": ["2026-09-27"]
//	}
//
// A date is a working day when it is listed in workdays, or when its weekday
// is listed in weekdays and the date is not listed in holidays. Workdays are
// the extra working days that fall on a weekend, such as China's make-up days
// (调休); holidays remove days that would otherwise be worked. Every working
// day has the same hours: local wall-clock ranges in the calendar's time
// zone, written "HH:MM" with two-digit hours and minutes ("09:00", never
// "9:00"), sorted, not overlapping, each starting before it ends; "24:00" is
// allowed as an end and means the following midnight. A range may end exactly
// where the next one starts.
//
// [Parse] decodes a calendar strictly (an unknown key is a problem) and
// validates it; [Calendar.Validate] checks a calendar built in Go. Both
// report every problem they find as a [Problems] error, each [Problem] naming
// the offending value by its JSON Pointer, such as "/hours/1/start". A
// calendar has at most [MaxRanges] hour ranges and at most [MaxDates]
// holidays and [MaxDates] workdays.
//
// # Working time
//
// Working time is a set of half-open periods [start, end): on each working
// date, each hour range is turned into instants with time.Date in the
// calendar's zone. An instant at exactly the end of a range is therefore not
// working time (unless the next range starts there), and the start of a range
// is. A range counts the real time between its two wall-clock instants: on
// the days daylight saving time starts or ends, 09:00–17:00 is still 8 hours,
// and only a range that spans the change itself (such as 00:00–24:00) is an
// hour shorter or longer.
//
// A range boundary that falls into a daylight saving gap (a wall-clock time
// that does not exist that day, such as 02:30 on 2026-03-08 in New York) or
// that occurs twice is resolved as time.Date resolves it, which Go does not
// specify: today 02:30 becomes 01:30 EST on 2026-03-08 in New York but 03:30
// AEDT on 2026-10-04 in Sydney, and the twice-occurring 01:30 on 2026-11-01
// in New York is the first, EDT one. Whatever time.Date returns, the periods
// of a day are then clipped to the day and to each other, in order, so that
// they never overlap and no instant is counted twice; a range that ends up
// empty is dropped.
//
// [Calendar.Add] starts counting at the first working instant at or after
// its start and returns the earliest instant at which the given working time
// has elapsed: a count that ends exactly at the end of a range returns that
// end, not the start of the next range, and a zero duration returns the first
// working instant at or after the start ([Calendar.NextWorkingStart]).
// [Calendar.Between] counts the working time in [a, b), so that for every
// start and every d >= 0 that Add accepts, Between(start, Add(start, d)) == d.
//
// Instants may be in any location; the instants returned are in UTC. Working
// time exists only on dates from 0001-01-01 to 9999-12-31 in the calendar's
// zone, which bounds every computation: Add and NextWorkingStart report that
// there is no working time left instead of running on. They walk day by day
// near holidays, workdays and daylight saving changes, and skip whole weeks
// elsewhere, so a year of working time takes microseconds.
package workcal

import (
	"errors"
	"time"

	"github.com/custos-crm/custos/ent/schema/caldate"
)

// MaxRanges is the largest number of hour ranges a calendar may have.
const MaxRanges = 8

// MaxDates is the largest number of holidays, and separately of workdays, a
// calendar may list.
const MaxDates = 1000

// ErrNoWorkingTime is returned by [Calendar.Add] when the calendar has no
// working time left at or after the start: the calendar has no working
// weekdays and its last workday has passed, the answer would fall after
// 9999-12-31, or the Calendar was never prepared by [Parse], [Default] or a
// successful [Calendar.Validate].
var ErrNoWorkingTime = errors.New("workcal: no working time left in the calendar")

// ErrNegativeDuration is returned by [Calendar.Add] for a negative duration:
// working time is only counted forward.
var ErrNegativeDuration = errors.New("workcal: negative working duration")

// Calendar is a tenant's working calendar. Its exported fields are the JSON
// setting described in the package documentation.
//
// The time methods (Add, Between, IsWorking, NextWorkingStart) use the form
// of the calendar that [Parse], [Default], [Calendar.UnmarshalJSON] and a
// successful [Calendar.Validate] prepare from the fields; changing a field
// afterwards has no effect on them until Validate is called again. A Calendar
// that was never prepared (such as the zero Calendar) has no working time.
// The time methods are safe for concurrent use; Validate and UnmarshalJSON
// change the Calendar and must not run concurrently with any other method.
type Calendar struct {
	// TimeZone is the IANA name of the zone the hours are read in, such as
	// "Asia/Shanghai".
	TimeZone string `json:"timeZone"`
	// Weekdays are the days of the week that are worked, as "mon", "tue",
	// "wed", "thu", "fri", "sat" and "sun", in any order.
	Weekdays []string `json:"weekdays"`
	// Hours are the working ranges of every working day.
	Hours []Range `json:"hours"`
	// Holidays are dates that are not worked although their weekday is.
	Holidays []caldate.Date `json:"holidays"`
	// Workdays are dates that are worked although their weekday is not.
	Workdays []caldate.Date `json:"workdays"`

	rules *rules // prepared from the fields; nil until prepared
}

// Range is one working period of a day, from Start to End in local wall-clock
// time, each written "HH:MM".
type Range struct {
	// Start is the first minute of the range, from "00:00" to "23:59".
	Start string `json:"start"`
	// End is the minute the range ends at, after Start, up to "24:00".
	End string `json:"end"`
}

// Parse decodes and validates a calendar from its JSON setting. A key that is
// not part of the setting, a value of the wrong JSON type and every problem
// Validate finds are reported together as a [Problems] error. The returned
// calendar is prepared for the time methods.
func Parse(data []byte) (*Calendar, error) {
	c, problems := decode(data)
	if c == nil {
		return nil, problems
	}
	problems = append(problems, c.validate(nil).outside(problems)...)
	if len(problems) > 0 {
		c.rules = nil
		return nil, problems
	}
	return c, nil
}

// UnmarshalJSON decodes and validates c like [Parse], so that a calendar
// embedded in a larger setting is checked and prepared when that setting is
// decoded. A JSON null leaves c unchanged. On error c is left unchanged.
func (c *Calendar) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*c = *parsed
	return nil
}

// Default returns a prepared calendar working Monday to Friday, 09:00 to
// 18:00, in loc (UTC when loc is nil), with no holidays or workdays. Its
// TimeZone is loc's name; pass a location from time.LoadLocation (or time.UTC)
// so that the calendar can be stored and parsed again. Validate keeps loc
// itself while TimeZone still names it, so a calendar built on time.Local or a
// time.FixedZone remains valid in Go but would not parse from its JSON.
func Default(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{
		TimeZone: loc.String(),
		Weekdays: []string{"mon", "tue", "wed", "thu", "fri"},
		Hours:    []Range{{Start: "09:00", End: "18:00"}},
	}
	if problems := c.validate(loc); problems != nil {
		panic(problems) // unreachable: the fields above are valid
	}
	return c
}
