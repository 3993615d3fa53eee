package flows

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/custos-crm/custos/internal/workcal"
)

// Clock says how an SLA counts time.
type Clock string

// The clocks of an SLA.
const (
	// ClockCalendar counts every instant (the default).
	ClockCalendar Clock = "calendar"
	// ClockWorking counts the working time of a workcal.Calendar.
	ClockWorking Clock = "working"
)

// Errors of the SLA arithmetic.
var (
	// ErrNoCalendar means a working-time SLA was given no calendar.
	ErrNoCalendar = errors.New("flows: a working-time SLA needs a calendar")
	// ErrPaused means the timer is paused, so its deadline is not known yet.
	ErrPaused = errors.New("flows: the SLA timer is paused")
	// ErrInvalidInterval means a pause ends before it starts.
	ErrInvalidInterval = errors.New("flows: invalid pause interval")
)

// SLA is a timer: it starts when the record enters one of the Start states,
// stops when it enters one of the Stop states, and is paused while the
// record is in one of the Pause states. It breaches when Target of counted
// time has elapsed, and warns at the WarnAt fractions of Target.
type SLA struct {
	// Key identifies the timer.
	Key string
	// Start, Stop and Pause are the states whose entry starts, stops and
	// pauses the timer; a state is in at most one of them.
	Start []string
	Stop  []string
	Pause []string
	// Target is how much counted time the timer allows.
	Target time.Duration
	// Clock says whether calendar time or working time is counted.
	Clock Clock
	// WarnAt are fractions of Target, ascending, each in (0, 1), at which
	// the caller warns.
	WarnAt []float64
	// Breach are the actions to run when the timer breaches.
	Breach []Plugin
}

// Interval is a stretch of time [Start, End) during which a timer was
// paused. A zero End means the timer is still paused.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Deadline returns the instant at which the timer started at startedAt
// breaches: when Target of counted time, calendar or working time by Clock
// (cal is only needed for working time), has elapsed outside the paused
// intervals. Pauses before startedAt are ignored, and overlapping pauses
// count once. It returns ErrPaused when the timer is paused (an interval has
// no End) before its deadline, ErrNoCalendar, ErrInvalidInterval, or the
// calendar's error when its working time runs out.
func (s *SLA) Deadline(startedAt time.Time, paused []Interval, cal *workcal.Calendar) (time.Time, error) {
	return s.after(startedAt, paused, cal, s.Target)
}

// Warnings returns the instants at which the timer warns, one for each
// WarnAt fraction, counted like Deadline (a fraction of Target rounded to
// the nearest nanosecond), with the same errors.
func (s *SLA) Warnings(startedAt time.Time, paused []Interval, cal *workcal.Calendar) ([]time.Time, error) {
	out := make([]time.Time, 0, len(s.WarnAt))
	for _, f := range s.WarnAt {
		at, err := s.after(startedAt, paused, cal, time.Duration(math.Round(f*float64(s.Target))))
		if err != nil {
			return nil, err
		}
		out = append(out, at)
	}
	return out, nil
}

// Elapsed returns the counted time of the timer from startedAt to now,
// outside the paused intervals; a pause without End lasts until now. It is
// 0 when now is not after startedAt.
func (s *SLA) Elapsed(startedAt time.Time, paused []Interval, cal *workcal.Calendar, now time.Time) (time.Duration, error) {
	c, err := s.counter(cal)
	if err != nil {
		return 0, err
	}
	pauses, err := mergePauses(startedAt, paused)
	if err != nil {
		return 0, err
	}
	var total time.Duration
	cursor := startedAt
	for _, p := range pauses {
		if !p.Start.Before(now) {
			break
		}
		total += c.between(cursor, p.Start)
		if p.End.IsZero() || !p.End.Before(now) {
			return total, nil
		}
		cursor = p.End
	}
	return total + c.between(cursor, now), nil
}

// after returns the instant at which d of counted time has elapsed since
// startedAt outside the paused intervals.
func (s *SLA) after(startedAt time.Time, paused []Interval, cal *workcal.Calendar, d time.Duration) (time.Time, error) {
	c, err := s.counter(cal)
	if err != nil {
		return time.Time{}, err
	}
	pauses, err := mergePauses(startedAt, paused)
	if err != nil {
		return time.Time{}, err
	}
	cursor, remaining := startedAt, d
	for _, p := range pauses {
		at, err := c.add(cursor, remaining)
		if err != nil {
			return time.Time{}, err
		}
		if !at.After(p.Start) {
			return at, nil
		}
		remaining -= c.between(cursor, p.Start)
		if p.End.IsZero() {
			return time.Time{}, ErrPaused
		}
		cursor = p.End
	}
	return c.add(cursor, remaining)
}

// counter is a clock's arithmetic.
type counter struct {
	cal *workcal.Calendar // nil for calendar time
}

// counter returns the arithmetic of the SLA's clock.
func (s *SLA) counter(cal *workcal.Calendar) (counter, error) {
	switch s.Clock {
	case ClockWorking:
		if cal == nil {
			return counter{}, ErrNoCalendar
		}
		return counter{cal: cal}, nil
	case ClockCalendar, "":
		return counter{}, nil
	default:
		return counter{}, fmt.Errorf("flows: unknown SLA clock %q", s.Clock)
	}
}

// add returns the instant at which d of counted time has elapsed from t.
func (c counter) add(t time.Time, d time.Duration) (time.Time, error) {
	if c.cal == nil {
		return t.Add(d), nil
	}
	return c.cal.Add(t, d)
}

// between returns the counted time in [a, b).
func (c counter) between(a, b time.Time) time.Duration {
	if !a.Before(b) {
		return 0
	}
	if c.cal == nil {
		return b.Sub(a)
	}
	return c.cal.Between(a, b)
}

// mergePauses sorts the pauses, clips them to start at from or later, drops
// the empty ones and merges those that overlap or touch; an open pause
// swallows every later one.
func mergePauses(from time.Time, paused []Interval) ([]Interval, error) {
	var out []Interval
	for _, p := range paused {
		if !p.End.IsZero() && p.End.Before(p.Start) {
			return nil, fmt.Errorf("%w: ends at %s, before its start %s", ErrInvalidInterval, p.End.Format(time.RFC3339), p.Start.Format(time.RFC3339))
		}
		if p.Start.Before(from) {
			p.Start = from
		}
		if !p.End.IsZero() && !p.End.After(p.Start) {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	merged := out[:0]
	for _, p := range out {
		if n := len(merged); n > 0 {
			last := &merged[n-1]
			if last.End.IsZero() {
				break
			}
			if !p.Start.After(last.End) {
				if p.End.IsZero() || p.End.After(last.End) {
					last.End = p.End
				}
				continue
			}
		}
		merged = append(merged, p)
	}
	return merged, nil
}

// TimerChanges says what a change of state does to the SLA timers, by SLA
// key. Stopping, pausing or resuming a timer that is not running does
// nothing.
type TimerChanges struct {
	// Start are the timers to start: the new state is one of their Start
	// states. A timer that is already running for the record keeps running.
	Start []string
	// Stop are the timers to stop: the new state is one of their Stop states.
	Stop []string
	// Pause are the timers to pause: the record enters one of their Pause
	// states from a state that is not one.
	Pause []string
	// Resume are the timers to resume: the record leaves their Pause states
	// for a state that neither pauses nor stops them.
	Resume []string
}

// TimersFor says which SLA timers the change of state from → to starts,
// stops, pauses and resumes, in definition order. from is "" when a record
// is created in its initial state. A transition from a state to itself
// changes nothing.
func (w *Workflow) TimersFor(from, to string) TimerChanges {
	var out TimerChanges
	if from == to {
		return out
	}
	for _, s := range w.slas {
		wasPaused, paused := slices.Contains(s.Pause, from), slices.Contains(s.Pause, to)
		stop := slices.Contains(s.Stop, to)
		if slices.Contains(s.Start, to) {
			out.Start = append(out.Start, s.Key)
		}
		if stop {
			out.Stop = append(out.Stop, s.Key)
		}
		if paused && !wasPaused {
			out.Pause = append(out.Pause, s.Key)
		}
		if wasPaused && !paused && !stop {
			out.Resume = append(out.Resume, s.Key)
		}
	}
	return out
}
