package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// withRequestInfo gives every request an id (echoed as X-Request-ID), the
// client's address and its Accept-Language.
func withRequestInfo(trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var raw [12]byte
		_, _ = rand.Read(raw[:])
		info := &requestinfo.Info{
			ID:             hex.EncodeToString(raw[:]),
			ClientIP:       ClientIP(r, trusted),
			AcceptLanguage: r.Header.Get("Accept-Language"),
		}
		info.Locale = apierr.NegotiateLocale("", "", info.AcceptLanguage)
		w.Header().Set("X-Request-ID", info.ID)
		next.ServeHTTP(w, r.WithContext(requestinfo.NewContext(r.Context(), info)))
	})
}

// ClientIP returns the address of the client. X-Forwarded-For is believed
// only as far as it was written by trusted proxies: it is read from the
// right, skipping trusted addresses, and the first untrusted one is the
// client.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(addr) {
		return addr.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		hop = hop.Unmap()
		addr = hop
		if !isTrusted(hop) {
			break
		}
	}
	return addr.String()
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "custos_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "custos_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests writes one structured log line per request (no query strings,
// bodies or credentials) and records metrics.
func logRequests(logger *slog.Logger, m *metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
		info := requestinfo.FromContext(r.Context())
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", info.ID),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", elapsed),
		)
	})
}

// recoverPanics turns a panic into an INTERNAL answer and a log line.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				info := requestinfo.FromContext(r.Context())
				logger.ErrorContext(r.Context(), "handler panicked", "request_id", info.ID, "panic", v)
				apierr.WriteHTTP(w, apierr.New(apierr.Internal), info.Locale, info.ID)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds every request body: multipart uploads by upload, the
// rest by n.
func limitBody(n, upload int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := n
		if isMultipart(r) {
			limit = upload
		}
		if r.ContentLength > limit {
			info := requestinfo.FromContext(r.Context())
			apierr.WriteHTTP(w, &apierr.Error{Code: apierr.LimitExceeded, MessageKey: "body_too_large"}, info.Locale, info.ID)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// isMultipart reports whether the request body is multipart form data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// isJSON reports whether the request body is declared as JSON.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// guardCookieRequests applies the CSRF rules to requests authenticated by
// the session cookie: they must pass Go's cross-origin protection and be
// POST application/json, or multipart uploads carrying the header
// GraphQL-Require-Preflight: 1 (which a cross-site form cannot send).
// Bearer-token requests carry no ambient credentials and pass.
func guardCookieRequests(csrf *http.CrossOriginProtection, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if authn.MethodFrom(r.Context()) == authn.MethodCookie {
			info := requestinfo.FromContext(r.Context())
			if err := csrf.Check(r); err != nil {
				apierr.WriteHTTP(w, &apierr.Error{Code: apierr.Forbidden, MessageKey: "csrf"}, info.Locale, info.ID)
				return
			}
			if r.Method == http.MethodPost && isMultipart(r) {
				if r.Header.Get("GraphQL-Require-Preflight") != "1" {
					apierr.WriteHTTP(w, &apierr.Error{Code: apierr.Forbidden, MessageKey: "preflight_required"}, info.Locale, info.ID)
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if r.Method != http.MethodPost || !isJSON(r) {
				apierr.WriteHTTP(w, &apierr.Error{Code: apierr.Forbidden, MessageKey: "json_required"}, info.Locale, info.ID)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// guardLogin refuses cross-site and non-JSON sign-in attempts (login CSRF).
func guardLogin(csrf *http.CrossOriginProtection, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		if err := csrf.Check(r); err != nil {
			apierr.WriteHTTP(w, &apierr.Error{Code: apierr.Forbidden, MessageKey: "csrf"}, info.Locale, info.ID)
			return
		}
		if !isJSON(r) {
			apierr.WriteHTTP(w, apierr.BadInput(apierr.Field("", "json_required")), info.Locale, info.ID)
			return
		}
		next.ServeHTTP(w, r)
	})
}
