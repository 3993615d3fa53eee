package workcal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-crm/custos/ent/schema/caldate"
)

// Problem is one thing wrong with a calendar setting.
type Problem struct {
	// Pointer is the JSON Pointer (RFC 6901) of the offending value, such as
	// "/hours/1/start"; the empty Pointer is the whole setting.
	Pointer string
	// Message says what is wrong, in English.
	Message string
}

// Problems is the error [Parse] and [Calendar.Validate] return: every problem
// found, in the order of the setting's fields.
type Problems []Problem

// Error joins the problems into one line, each as "pointer: message".
func (ps Problems) Error() string {
	var b strings.Builder
	b.WriteString("workcal: invalid calendar: ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		if p.Pointer != "" {
			b.WriteString(p.Pointer)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// outside returns the problems of ps whose pointer is neither one of those in
// found nor inside one of them, so that a value that could not be decoded is
// not reported a second time as invalid.
func (ps Problems) outside(found Problems) Problems {
	var out Problems
	for _, p := range ps {
		covered := false
		for _, f := range found {
			if p.Pointer == f.Pointer || strings.HasPrefix(p.Pointer, f.Pointer+"/") {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks every field of c and returns all the problems it finds as
// a [Problems] error: a missing or unknown time zone ("Local" is refused: a
// tenant's zone must not depend on the server), an unknown or repeated
// weekday, no weekdays and no workdays at all, no hour ranges or more than
// [MaxRanges], a time that is not "HH:MM" (see the package documentation), a
// range that does not end after it starts or that starts before the previous
// range ends, more than [MaxDates] holidays or workdays, a zero or repeated
// date, and a date that is both a holiday and a workday.
//
// When it finds no problem Validate also prepares c for the time methods from
// its current fields; when it finds one, c has no working time until a later
// Validate succeeds. If c is already prepared and TimeZone still names the
// location it holds, that location is kept rather than loaded again (see
// [Default]).
func (c *Calendar) Validate() error {
	var held *time.Location
	if c.rules != nil {
		held = c.rules.loc
	}
	if problems := c.validate(held); problems != nil {
		return problems
	}
	return nil
}

// validate checks and prepares c, using held as the zone when TimeZone names
// it, and returns the problems it finds (nil if none).
func (c *Calendar) validate(held *time.Location) Problems {
	var ps Problems
	add := func(pointer, message string) { ps = append(ps, Problem{Pointer: pointer, Message: message}) }
	r := &rules{}

	switch {
	case c.TimeZone == "":
		add("/timeZone", "is required")
	case held != nil && held.String() == c.TimeZone:
		r.loc = held
	case c.TimeZone == "Local":
		add("/timeZone", `must name a zone such as "Asia/Shanghai", not the server's "Local" zone`)
	default:
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			add("/timeZone", fmt.Sprintf("unknown time zone %q", c.TimeZone))
		} else {
			r.loc = loc
		}
	}

	seenWeekday := map[time.Weekday]int{}
	for i, name := range c.Weekdays {
		p := fmt.Sprintf("/weekdays/%d", i)
		wd, ok := parseWeekday(name)
		if !ok {
			add(p, fmt.Sprintf("unknown weekday %q: use mon, tue, wed, thu, fri, sat or sun", name))
			continue
		}
		if j, dup := seenWeekday[wd]; dup {
			add(p, fmt.Sprintf("repeats /weekdays/%d", j))
			continue
		}
		seenWeekday[wd] = i
		r.weekdays[wd] = true
	}
	if len(c.Weekdays) == 0 && len(c.Workdays) == 0 {
		add("/weekdays", "at least one weekday is required when no workdays are listed")
	}

	switch {
	case len(c.Hours) == 0:
		add("/hours", "at least one range is required")
	case len(c.Hours) > MaxRanges:
		add("/hours", fmt.Sprintf("at most %d ranges are allowed", MaxRanges))
	}
	var dayLen time.Duration
	prev := -1 // index of the last well-formed range
	for i, h := range c.Hours {
		start, startOK := parseClock(h.Start, false)
		end, endOK := parseClock(h.End, true)
		if !startOK {
			add(fmt.Sprintf("/hours/%d/start", i), `must be a time "HH:MM" from "00:00" to "23:59", such as "09:00"`)
		}
		if !endOK {
			add(fmt.Sprintf("/hours/%d/end", i), `must be a time "HH:MM" from "00:00" to "24:00", such as "18:00"`)
		}
		if !startOK || !endOK {
			continue
		}
		if end <= start {
			add(fmt.Sprintf("/hours/%d/end", i), fmt.Sprintf("must be after the start, %s", h.Start))
			continue
		}
		if prev >= 0 && start < r.ranges[len(r.ranges)-1].end {
			add(fmt.Sprintf("/hours/%d/start", i), fmt.Sprintf(
				"must not be before %s, the end of /hours/%d: ranges must be sorted and must not overlap", c.Hours[prev].End, prev))
		}
		r.ranges = append(r.ranges, span{start: start, end: end})
		dayLen += time.Duration(end-start) * time.Minute
		prev = i
	}
	for wd := range r.weekdays {
		if r.weekdays[wd] {
			r.weekLen += dayLen
		}
	}

	holidays := dateIndex(c.Holidays, "/holidays", add)
	workdays := dateIndex(c.Workdays, "/workdays", add)
	r.special = make(map[int64]bool, len(holidays)+len(workdays))
	for day := range holidays {
		r.special[day] = false
	}
	for i, d := range c.Workdays {
		if d.IsZero() {
			continue
		}
		day := dateNumber(d)
		if workdays[day] != i {
			continue // a repeat, already reported
		}
		if j, both := holidays[day]; both {
			add(fmt.Sprintf("/workdays/%d", i), fmt.Sprintf("is also a holiday, /holidays/%d", j))
		}
		r.special[day] = true
	}
	for day := range r.special {
		r.specialDays = append(r.specialDays, day)
	}
	slices.Sort(r.specialDays)

	if len(ps) > 0 {
		c.rules = nil
		return ps
	}
	c.rules = r
	return nil
}

// dateIndex checks a list of dates at pointer, reporting problems with add,
// and returns the index of each distinct date by its day number.
func dateIndex(dates []caldate.Date, pointer string, add func(pointer, message string)) map[int64]int {
	if len(dates) > MaxDates {
		add(pointer, fmt.Sprintf("at most %d dates are allowed", MaxDates))
	}
	index := make(map[int64]int, len(dates))
	for i, d := range dates {
		p := fmt.Sprintf("%s/%d", pointer, i)
		if d.IsZero() {
			add(p, `must be a date "YYYY-MM-DD"`)
			continue
		}
		day := dateNumber(d)
		if j, dup := index[day]; dup {
			add(p, fmt.Sprintf("repeats %s/%d", pointer, j))
			continue
		}
		index[day] = i
	}
	return index
}

// parseWeekday reads a weekday written as its lower-case three-letter
// English abbreviation, such as "mon".
func parseWeekday(s string) (time.Weekday, bool) {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if s == strings.ToLower(wd.String()[:3]) {
			return wd, true
		}
	}
	return 0, false
}

// parseClock reads an "HH:MM" wall-clock time as minutes after midnight.
// Hours and minutes must both have two digits; "24:00" is accepted only when
// asEnd is set.
func parseClock(s string, asEnd bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case m > 59, h > 24, h == 24 && (m != 0 || !asEnd):
		return 0, false
	}
	return h*60 + m, true
}

// decode reads a calendar setting strictly, without validating it: it
// reports unknown keys and values of the wrong JSON type as problems and
// leaves such values zero. It returns a nil Calendar when the setting is not
// a JSON object at all.
func decode(data []byte) (*Calendar, Problems) {
	if !json.Valid(data) {
		return nil, Problems{{Pointer: "", Message: "is not valid JSON"}}
	}
	var ps Problems
	fields := decodeObject(data, "", []string{"timeZone", "weekdays", "hours", "holidays", "workdays"}, &ps)
	if fields == nil {
		return nil, Problems{{Pointer: "", Message: "must be a JSON object"}}
	}
	c := &Calendar{}
	if raw, ok := fields["timeZone"]; ok {
		c.TimeZone = decodeString(raw, "/timeZone", &ps)
	}
	if raw, ok := fields["weekdays"]; ok {
		for i, item := range decodeArray(raw, "/weekdays", &ps) {
			c.Weekdays = append(c.Weekdays, decodeString(item, fmt.Sprintf("/weekdays/%d", i), &ps))
		}
	}
	if raw, ok := fields["hours"]; ok {
		for i, item := range decodeArray(raw, "/hours", &ps) {
			p := fmt.Sprintf("/hours/%d", i)
			var h Range
			o := decodeObject(item, p, []string{"start", "end"}, &ps)
			if raw, ok := o["start"]; ok {
				h.Start = decodeString(raw, p+"/start", &ps)
			}
			if raw, ok := o["end"]; ok {
				h.End = decodeString(raw, p+"/end", &ps)
			}
			c.Hours = append(c.Hours, h)
		}
	}
	c.Holidays = decodeDates(fields, "holidays", &ps)
	c.Workdays = decodeDates(fields, "workdays", &ps)
	return c, ps
}

// decodeDates decodes the list of dates under key, if present.
func decodeDates(fields map[string]json.RawMessage, key string, ps *Problems) []caldate.Date {
	raw, ok := fields[key]
	if !ok {
		return nil
	}
	var dates []caldate.Date
	for i, item := range decodeArray(raw, "/"+key, ps) {
		p := fmt.Sprintf("/%s/%d", key, i)
		var d caldate.Date
		var s string
		if err := json.Unmarshal(item, &s); err != nil {
			*ps = append(*ps, Problem{Pointer: p, Message: "must be a string"})
		} else if d, err = caldate.Parse(s); err != nil {
			*ps = append(*ps, Problem{Pointer: p, Message: `must be a date "YYYY-MM-DD"`})
		}
		dates = append(dates, d)
	}
	return dates
}

// decodeObject decodes a JSON object at pointer, reporting every key not in
// keys as a problem. It reports a problem and returns nil when raw is not an
// object (null included).
func decodeObject(raw json.RawMessage, pointer string, keys []string, ps *Problems) map[string]json.RawMessage {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		*ps = append(*ps, Problem{Pointer: pointer, Message: "must be an object"})
		return nil
	}
	var unknown []string
	for k := range o {
		if !slices.Contains(keys, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		*ps = append(*ps, Problem{Pointer: pointer + "/" + escapePointer(k), Message: "unknown key"})
	}
	return o
}

// decodeArray decodes a JSON array at pointer; null is an empty array.
func decodeArray(raw json.RawMessage, pointer string, ps *Problems) []json.RawMessage {
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		*ps = append(*ps, Problem{Pointer: pointer, Message: "must be an array"})
		return nil
	}
	return a
}

// decodeString decodes a JSON string at pointer; null is the empty string.
func decodeString(raw json.RawMessage, pointer string, ps *Problems) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		*ps = append(*ps, Problem{Pointer: pointer, Message: "must be a string"})
	}
	return s
}

// escapePointer escapes a key for use as a JSON Pointer reference token.
func escapePointer(key string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(key)
}
