package flows

import (
	"errors"
	"fmt"
	"time"
)

// MaxDuration is the longest duration ParseDuration accepts: 3650 days.
const MaxDuration = 3650 * 24 * time.Hour

// ParseDuration parses an SLA duration: one or more parts, each a decimal
// count and a unit, with the units in the order d (days of 24 hours), h
// (hours), m (minutes) and each at most once, as in "4h", "90m", "2d" or
// "1d12h30m". There are no signs, spaces or fractions, and the result must be
// positive and at most MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	d, _, err := parseDuration(s)
	return d, err
}

// parseDuration is ParseDuration that also reports whether s counts days.
func parseDuration(s string) (time.Duration, bool, error) {
	if s == "" {
		return 0, false, errors.New("flows: empty duration")
	}
	units := []struct {
		sym  byte
		size time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}}
	var total time.Duration
	days := false
	next := 0 // index of the first unit still allowed
	for i := 0; i < len(s); {
		start := i
		var n int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			n = n*10 + int64(s[i]-'0')
			if n > int64(MaxDuration/time.Minute) {
				return 0, false, fmt.Errorf("flows: duration %q is longer than %d days", s, MaxDuration/(24*time.Hour))
			}
			i++
		}
		if i == start {
			return 0, false, fmt.Errorf("flows: duration %q: expected a number at offset %d (write it like 4h, 90m, 2d or 1d12h)", s, start)
		}
		if i == len(s) {
			return 0, false, fmt.Errorf("flows: duration %q: the number at offset %d has no unit (d, h or m)", s, start)
		}
		u := next
		for u < len(units) && units[u].sym != s[i] {
			u++
		}
		if u == len(units) {
			return 0, false, fmt.Errorf("flows: duration %q: unit %q at offset %d is not d, h or m, or is out of order", s, s[i], i)
		}
		if units[u].sym == 'd' {
			days = true
		}
		total += time.Duration(n) * units[u].size
		if total > MaxDuration {
			return 0, false, fmt.Errorf("flows: duration %q is longer than %d days", s, MaxDuration/(24*time.Hour))
		}
		next = u + 1
		i++
	}
	if total <= 0 {
		return 0, false, fmt.Errorf("flows: duration %q is not positive", s)
	}
	return total, days, nil
}
