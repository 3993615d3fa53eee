// Package settings owns the typed settings document each tenant keeps: its
// defaults, its validation and the field names clients use to change it.
// Later modules add their own sections here.
package settings

import (
	"fmt"
	"regexp"
	"time"
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
}

// Defaults returns the documented defaults.
func Defaults() Tenant {
	return Tenant{TimeZone: "Asia/Shanghai", Locale: "zh-CN", PhoneRegion: "86"}
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
