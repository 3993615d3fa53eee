package webhooks_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/webhooks"
)

func TestSignAndVerify(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"obx1","event":"customer.created"}`)
	h := http.Header{}
	webhooks.SetHeaders(h, now, body, "new-secret", "old-secret")

	// The value any receiver computes, checked with
	// printf '1764331200.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
	if got := webhooks.Sign("whsec_test", time.Unix(1764331200, 0), []byte(`{"a":1}`)); got != "cbd8ec97f470871b49603f5ab0d14277505e48aa692eaea4d6416845e083f5f4" {
		t.Fatalf("signature %q differs from openssl's", got)
	}
	for _, secret := range []string{"new-secret", "old-secret"} {
		if err := webhooks.Verify(h, body, secret, now.Add(time.Minute), 5*time.Minute); err != nil {
			t.Errorf("secret %s: %v", secret, err)
		}
	}
	cases := []struct {
		name   string
		body   []byte
		secret string
		now    time.Time
		want   error
	}{
		{"tampered body", []byte(`{"id":"obx1","event":"customer.deleted"}`), "new-secret", now, webhooks.ErrSignature},
		{"wrong secret", body, "other", now, webhooks.ErrSignature},
		{"replayed later", body, "new-secret", now.Add(6 * time.Minute), webhooks.ErrStale},
	}
	for _, c := range cases {
		if err := webhooks.Verify(h, c.body, c.secret, c.now, 5*time.Minute); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if err := webhooks.Verify(http.Header{}, body, "new-secret", now, time.Minute); !errors.Is(err, webhooks.ErrNoSignature) {
		t.Errorf("no headers: %v", err)
	}
	// A signature over another timestamp does not verify with this one.
	h2 := h.Clone()
	h2.Set(webhooks.HeaderTimestamp, "1764331260")
	if err := webhooks.Verify(h2, body, "new-secret", time.Unix(1764331260, 0), time.Minute); !errors.Is(err, webhooks.ErrSignature) {
		t.Errorf("moved timestamp: %v", err)
	}
}
