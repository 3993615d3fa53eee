// Package settings owns the typed settings document each tenant keeps: its
// defaults, its validation and the field names clients use to change it.
// Later modules add their own sections here.
package settings

import (
	"fmt"
	"regexp"
	"time"

	"github.com/custos-crm/custos/internal/workcal"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

var phoneRegion = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)

// Locales lists the locales Custos speaks.
var supportedLocales = []string{"zh-CN", "en"}

// SupportedLocale reports whether l is a locale Custos has messages for.
func SupportedLocale(l string) bool {
	for _, s := range supportedLocales {
		if s == l {
			return true
		}
	}
	return false
}

// Tenant is a tenant's settings document.
type Tenant struct {
	// TimeZone is the IANA time zone the tenant's calendar runs in.
	TimeZone string `json:"timeZone"`
	// Locale is the default locale for users who have not chosen one.
	Locale string `json:"locale"`
	// PhoneRegion is the calling code (without +) that phone numbers
	// written without one belong to.
	PhoneRegion string `json:"phoneRegion"`
	// Auth holds the sign-in rules.
	Auth Auth `json:"auth"`
	// ReminderHour is the local hour (0–23) at which follow-up reminders
	// go out; nil means the default, 9.
	ReminderHour *int `json:"reminderHour,omitempty"`
	// WorkingCalendar is the working time SLA timers count (weekdays,
	// hours, holidays, extra workdays); nil means Monday to Friday, 09:00
	// to 18:00 in TimeZone.
	WorkingCalendar *workcal.Calendar `json:"workingCalendar,omitempty"`
}

// Calendar returns the tenant's working calendar.
func (s Tenant) Calendar() *workcal.Calendar {
	if s.WorkingCalendar != nil {
		return s.WorkingCalendar
	}
	return workcal.Default(s.Location())
}

// DefaultReminderHour is when follow-up reminders go out unless a tenant
// chooses another hour.
const DefaultReminderHour = 9

// RemindAt returns the local hour at which follow-up reminders go out.
func (s Tenant) RemindAt() int {
	if s.ReminderHour == nil {
		return DefaultReminderHour
	}
	return *s.ReminderHour
}

// Auth holds a tenant's sign-in rules.
type Auth struct {
	// Lockout locks an account's password after repeated failures.
	Lockout Lockout `json:"lockout"`
	// Password is the password policy.
	Password PasswordPolicy `json:"password"`
	// MFA says who must have a second factor: "optional" (default),
	// "admins" (holders of the admin role) or "everyone".
	MFA string `json:"mfa"`
	// Sessions bounds how long a session lives.
	Sessions Sessions `json:"sessions"`
	// SSOOnly turns local passwords off, except for BreakGlassUserIDs.
	SSOOnly bool `json:"ssoOnly"`
	// BreakGlassUserIDs may still sign in with a password when SSOOnly is
	// set.
	BreakGlassUserIDs []pulid.ID `json:"breakGlassUserIDs"`
}

// Lockout locks the password factor after MaxFailures consecutive failures
// for LockMinutes, doubling on each repeated lock up to MaxLockHours.
type Lockout struct {
	MaxFailures  int `json:"maxFailures"`
	LockMinutes  int `json:"lockMinutes"`
	MaxLockHours int `json:"maxLockHours"`
}

// PasswordPolicy is the tenant's password policy: a minimum length (at
// least 8), no composition rules, a check against common passwords, and an
// optional maximum age (0 = passwords do not expire).
type PasswordPolicy struct {
	MinLength  int `json:"minLength"`
	MaxAgeDays int `json:"maxAgeDays"`
}

// Sessions bounds sessions: idle timeout and absolute lifetime.
type Sessions struct {
	IdleMinutes   int `json:"idleMinutes"`
	AbsoluteHours int `json:"absoluteHours"`
}

// The MFA requirements.
const (
	MFAOptional = "optional"
	MFAAdmins   = "admins"
	MFAEveryone = "everyone"
)

// Defaults returns the documented defaults.
func Defaults() Tenant {
	return Tenant{
		TimeZone: "Asia/Shanghai", Locale: "zh-CN", PhoneRegion: "86",
		Auth: Auth{
			Lockout:  Lockout{MaxFailures: 3, LockMinutes: 15, MaxLockHours: 24},
			Password: PasswordPolicy{MinLength: 8},
			MFA:      MFAOptional,
			Sessions: Sessions{IdleMinutes: 30, AbsoluteHours: 12},
		},
	}
}

// WithDefaults returns s with every unset setting at its default, so that
// documents written before a setting existed read as the default.
func (s Tenant) WithDefaults() Tenant {
	d := Defaults()
	if s.TimeZone == "" {
		s.TimeZone = d.TimeZone
	}
	if s.Locale == "" {
		s.Locale = d.Locale
	}
	if s.PhoneRegion == "" {
		s.PhoneRegion = d.PhoneRegion
	}
	a, da := &s.Auth, d.Auth
	for _, f := range []struct {
		v *int
		d int
	}{
		{&a.Lockout.MaxFailures, da.Lockout.MaxFailures}, {&a.Lockout.LockMinutes, da.Lockout.LockMinutes},
		{&a.Lockout.MaxLockHours, da.Lockout.MaxLockHours}, {&a.Password.MinLength, da.Password.MinLength},
		{&a.Sessions.IdleMinutes, da.Sessions.IdleMinutes}, {&a.Sessions.AbsoluteHours, da.Sessions.AbsoluteHours},
	} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
	if a.MFA == "" {
		a.MFA = da.MFA
	}
	return s
}

// FieldError names one invalid setting by its JSON Pointer.
type FieldError struct {
	Pointer    string
	MessageKey string
	Message    string
}

// Error implements error.
func (e FieldError) Error() string { return e.Pointer + ": " + e.Message }

// Problems reports every invalid value in s; it is empty when s is valid.
func (s Tenant) Problems() []FieldError {
	var out []FieldError
	if s.TimeZone == "" {
		out = append(out, FieldError{"/timeZone", "required", "time zone is required"})
	} else if _, err := time.LoadLocation(s.TimeZone); err != nil {
		out = append(out, FieldError{"/timeZone", "invalid_time_zone", fmt.Sprintf("%q is not an IANA time zone", s.TimeZone)})
	}
	if !phoneRegion.MatchString(s.PhoneRegion) {
		out = append(out, FieldError{"/phoneRegion", "invalid_format", "phone region must be a calling code such as 86"})
	}
	a := s.Auth
	ranges := []struct {
		pointer   string
		v, lo, hi int
	}{
		{"/auth/lockout/maxFailures", a.Lockout.MaxFailures, 1, 100},
		{"/auth/lockout/lockMinutes", a.Lockout.LockMinutes, 1, 24 * 60},
		{"/auth/lockout/maxLockHours", a.Lockout.MaxLockHours, 1, 24 * 30},
		{"/auth/password/minLength", a.Password.MinLength, 8, 64},
		{"/auth/password/maxAgeDays", a.Password.MaxAgeDays, 0, 3650},
		{"/auth/sessions/idleMinutes", a.Sessions.IdleMinutes, 1, 24 * 60},
		{"/auth/sessions/absoluteHours", a.Sessions.AbsoluteHours, 1, 24 * 30},
	}
	for _, r := range ranges {
		if r.v < r.lo || r.v > r.hi {
			out = append(out, FieldError{r.pointer, "out_of_range", fmt.Sprintf("must be between %d and %d", r.lo, r.hi)})
		}
	}
	if a.MFA != MFAOptional && a.MFA != MFAAdmins && a.MFA != MFAEveryone {
		out = append(out, FieldError{"/auth/mfa", "invalid", "must be optional, admins or everyone"})
	}
	if h := s.ReminderHour; h != nil && (*h < 0 || *h > 23) {
		out = append(out, FieldError{"/reminderHour", "out_of_range", "must be between 0 and 23"})
	}
	if !SupportedLocale(s.Locale) {
		out = append(out, FieldError{"/locale", "unsupported_locale", fmt.Sprintf("locale must be one of %v", supportedLocales)})
	}
	return out
}

// Location returns the tenant's time zone, falling back to the default.
func (s Tenant) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil {
		return loc
	}
	loc, _ := time.LoadLocation(Defaults().TimeZone)
	return loc
}
