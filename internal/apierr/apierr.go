// Package apierr owns what clients see when something goes wrong: the error
// codes, the field-level error items with JSON Pointers, and the zh-CN and en
// message catalogue. Everything that answers a client (the GraphQL error
// presenter, REST handlers) turns errors into a Body here; any error that is
// not an *Error is reported as INTERNAL and its text never leaves the server.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Code classifies an error for clients.
type Code string

// The error codes clients can rely on.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	LimitExceeded   Code = "LIMIT_EXCEEDED"
	ReauthRequired  Code = "REAUTH_REQUIRED"
	Internal        Code = "INTERNAL"
)

// HTTPStatus returns the status a REST endpoint answers with for c.
func (c Code) HTTPStatus() int {
	switch c {
	case Unauthenticated, ReauthRequired:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case BadUserInput:
		return http.StatusBadRequest
	case Conflict:
		return http.StatusConflict
	case RateLimited:
		return http.StatusTooManyRequests
	case LimitExceeded:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// FieldError names one bad input by its JSON Pointer.
type FieldError struct {
	// Pointer is a JSON Pointer into the input, such as "/input/name".
	Pointer string
	// Keyword is the JSON Schema keyword that failed, when there is one.
	Keyword string
	// MessageKey selects the message in the catalogue.
	MessageKey string
	// Params fill the message's {placeholders}.
	Params map[string]string
	// Messages, when set, are the rendered texts by locale ("en",
	// "zh-CN"), for errors whose catalogue lives with their producer (form
	// validation); they win over MessageKey.
	Messages map[string]string
}

// Field returns a FieldError; params are key, value pairs.
func Field(pointer, messageKey string, params ...string) FieldError {
	fe := FieldError{Pointer: pointer, MessageKey: messageKey}
	if len(params) > 0 {
		fe.Params = make(map[string]string, len(params)/2)
		for i := 0; i+1 < len(params); i += 2 {
			fe.Params[params[i]] = params[i+1]
		}
	}
	return fe
}

// Error is an error whose code, message and fields may be shown to clients.
type Error struct {
	Code       Code
	MessageKey string
	// Params fill the message's {placeholders}.
	Params map[string]string
	Fields []FieldError
	// RetryAfterSeconds is set for RATE_LIMITED answers.
	RetryAfterSeconds int
	// Cause is kept for the log; it is never shown to clients.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s:%s", f.Pointer, f.MessageKey)
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with code and the code's default message.
func New(code Code) *Error { return &Error{Code: code, MessageKey: defaultKey(code)} }

// Wrap returns an error with code whose cause is kept for the log only.
func Wrap(code Code, cause error) *Error {
	e := New(code)
	e.Cause = cause
	return e
}

// BadInput returns a BAD_USER_INPUT error listing fields.
func BadInput(fields ...FieldError) *Error {
	e := New(BadUserInput)
	e.Fields = fields
	return e
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func defaultKey(c Code) string { return strings.ToLower(string(c)) }

// Item is one field error as clients see it.
type Item struct {
	Pointer    string `json:"pointer"`
	Keyword    string `json:"keyword,omitempty"`
	MessageKey string `json:"messageKey"`
	Message    string `json:"message"`
}

// Body is the error object clients see: the GraphQL error extensions, and the
// whole body of a REST error answer.
type Body struct {
	Code      Code   `json:"code"`
	RequestID string `json:"requestId"`
	Message   string `json:"message"`
	Errors    []Item `json:"errors,omitempty"`
}

// Present renders err for a client in locale. Errors that are not *Error
// become INTERNAL with no detail.
func Present(err error, locale, requestID string) Body {
	e := As(err)
	if e == nil {
		e = New(Internal)
	}
	key := e.MessageKey
	if key == "" {
		key = defaultKey(e.Code)
	}
	body := Body{Code: e.Code, RequestID: requestID, Message: Message(locale, key, e.Params)}
	for _, f := range e.Fields {
		msg, ok := f.Messages[locale]
		if !ok {
			if msg, ok = f.Messages["en"]; !ok {
				msg = Message(locale, f.MessageKey, f.Params)
			}
		}
		body.Errors = append(body.Errors, Item{
			Pointer:    f.Pointer,
			Keyword:    f.Keyword,
			MessageKey: f.MessageKey,
			Message:    msg,
		})
	}
	return body
}

// Map returns b as a map, the shape gqlgen wants for extensions.
func (b Body) Map() map[string]any {
	m := map[string]any{"code": b.Code, "requestId": b.RequestID}
	if len(b.Errors) > 0 {
		items := make([]map[string]any, len(b.Errors))
		for i, it := range b.Errors {
			item := map[string]any{"pointer": it.Pointer, "messageKey": it.MessageKey, "message": it.Message}
			if it.Keyword != "" {
				item["keyword"] = it.Keyword
			}
			items[i] = item
		}
		m["errors"] = items
	}
	return m
}

// MessageKeys returns every key of the catalogue, sorted, for tests.
func MessageKeys() []string {
	keys := make([]string, 0, len(catalogue))
	for k := range catalogue {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteHTTP answers a REST request with err rendered as a Body, with the
// status its code maps to.
func WriteHTTP(w http.ResponseWriter, err error, locale, requestID string) {
	body := Present(err, locale, requestID)
	if e := As(err); e != nil && e.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(body.Code.HTTPStatus())
	_ = json.NewEncoder(w).Encode(body)
}
