// Package webhooks owns tenants' webhook endpoints and the format of what is
// sent to them: the events they may subscribe to, the JSON envelope (ids,
// never personal data), and the HMAC-SHA256 signature receivers verify.
// Deliveries themselves go through the outbox.
package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	HeaderEvent     = "Custos-Event"
	HeaderDelivery  = "Custos-Delivery"
	HeaderTimestamp = "Custos-Timestamp"
	HeaderSignature = "Custos-Signature"
)

// signatureVersion prefixes each signature in the signature header, so the
// scheme can change without breaking receivers.
const signatureVersion = "v1"

// Sign returns the v1 signature of body sent at ts with secret: hex of
// HMAC-SHA256(secret, "<unix seconds>.<body>").
func Sign(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// SetHeaders sets the timestamp and signature headers of a delivery of body
// at ts, signed with every secret given (the current one, and during a
// rotation the previous one too).
func SetHeaders(h http.Header, ts time.Time, body []byte, secrets ...string) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sigs = append(sigs, signatureVersion+"="+Sign(s, ts, body))
	}
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, strings.Join(sigs, ", "))
}

// Errors of Verify.
var (
	ErrNoSignature = errors.New("webhooks: missing or malformed signature headers")
	ErrStale       = errors.New("webhooks: timestamp outside the tolerance")
	ErrSignature   = errors.New("webhooks: no signature matches")
)

// Verify checks a delivery as a receiver should: the timestamp is within
// tolerance of now (stopping replays) and one of the v1 signatures matches
// body under secret. It compares in constant time.
func Verify(h http.Header, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	tsText := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || h.Get(HeaderSignature) == "" {
		return ErrNoSignature
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := []byte(Sign(secret, ts, body))
	for _, part := range strings.Split(h.Get(HeaderSignature), ",") {
		version, sig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && version == signatureVersion && hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return ErrSignature
}
