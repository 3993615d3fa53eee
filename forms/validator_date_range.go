package forms

import (
	"encoding/json"
	"strconv"
	"time"
)

// maxRangeDays bounds the offsets of a date range: about a hundred years.
const maxRangeDays = 36500

// dateRangeValidator is "validator.date_range": a date (format "date") or
// date and time (format "date-time") falls within days counted from the day
// the record is submitted. Configuration: {"minDays": n} (the earliest day,
// as an offset from today: 0 is today, so {"minDays": 0} refuses dates in
// the past), {"maxDays": n} (the latest day), at least one of them, each
// between -36500 and 36500, minDays ≤ maxDays; {"timeZone": "Asia/Shanghai"}
// (the default: the tenants' default time zone) says which day today is and
// which day a date and time falls on.
type dateRangeValidator struct{}

// ID implements Plugin.
func (dateRangeValidator) ID() string { return "validator.date_range" }

// Messages implements RecordValidator.
func (dateRangeValidator) Messages() map[string]map[string]string {
	return map[string]map[string]string{
		"form.validator.date_range.min": {"en": "Must be on or after {date}.", "zh-CN": "不能早于 {date}。"},
		"form.validator.date_range.max": {"en": "Must be on or before {date}.", "zh-CN": "不能晚于 {date}。"},
	}
}

// Configure implements RecordValidator.
func (v dateRangeValidator) Configure(config, schema json.RawMessage) (ValueCheck, error) {
	var (
		minDays, maxDays *int
		zone             = "Asia/Shanghai"
	)
	err := decodeConfig(v.ID(), config,
		configField{name: "minDays", dst: &minDays},
		configField{name: "maxDays", dst: &maxDays},
		configField{name: "timeZone", dst: &zone},
	)
	if err != nil {
		return nil, err
	}
	if minDays == nil && maxDays == nil {
		return nil, &ConfigError{Plugin: v.ID(), Pointer: "/minDays", Reason: "needs minDays, maxDays or both"}
	}
	for _, b := range []struct {
		ptr  string
		days *int
	}{{"/minDays", minDays}, {"/maxDays", maxDays}} {
		if b.days != nil && (*b.days < -maxRangeDays || *b.days > maxRangeDays) {
			return nil, &ConfigError{Plugin: v.ID(), Pointer: b.ptr, Reason: "must be between -" + strconv.Itoa(maxRangeDays) + " and " + strconv.Itoa(maxRangeDays)}
		}
	}
	if minDays != nil && maxDays != nil && *minDays > *maxDays {
		return nil, &ConfigError{Plugin: v.ID(), Pointer: "/maxDays", Reason: "must not be less than minDays"}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" || zone == "Local" {
		return nil, &ConfigError{Plugin: v.ID(), Pointer: "/timeZone", Reason: "is not an IANA time zone, such as Asia/Shanghai"}
	}
	var target map[string]any
	if err := json.Unmarshal(schema, &target); err != nil {
		return nil, &ConfigError{Plugin: v.ID(), Reason: "the property's schema is not an object", Err: err}
	}
	layout := ""
	if scalarType(target) == "string" {
		switch target["format"] {
		case "date":
			layout = time.DateOnly
		case "date-time":
			layout = time.RFC3339
		}
	}
	if layout == "" {
		return nil, &ConfigError{Plugin: v.ID(), Reason: "applies only to dates and dates with times (strings of format date or date-time)"}
	}
	return dateRange{minDays: minDays, maxDays: maxDays, loc: loc, layout: layout}, nil
}

// dateRange is a configured date_range check.
type dateRange struct {
	minDays, maxDays *int
	loc              *time.Location
	layout           string
}

// Validate implements ValueCheck.
func (d dateRange) Validate(value any, _ map[string]any, now time.Time) []Failure {
	s, ok := value.(string)
	if !ok {
		return nil
	}
	t, err := time.Parse(d.layout, s)
	if err != nil {
		// The schema's format check refuses what does not parse.
		return nil
	}
	if d.layout == time.RFC3339 {
		t = t.In(d.loc)
	}
	day := civilDay(t)
	n := now.In(d.loc)
	today := civilDay(n)
	if d.minDays != nil {
		if lo := today.AddDate(0, 0, *d.minDays); day.Before(lo) {
			return []Failure{{MessageKey: "form.validator.date_range.min", Params: map[string]string{"date": lo.Format(time.DateOnly)}}}
		}
	}
	if d.maxDays != nil {
		if hi := today.AddDate(0, 0, *d.maxDays); day.After(hi) {
			return []Failure{{MessageKey: "form.validator.date_range.max", Params: map[string]string{"date": hi.Format(time.DateOnly)}}}
		}
	}
	return nil
}

// civilDay returns t's calendar day as midnight UTC, so that days compare
// and add without time zone transitions getting in the way.
func civilDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var (
	_ RecordValidator = dateRangeValidator{}
	_ ValueCheck      = dateRange{}
)
