package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestEvictLocked(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := NewClient(&http.Client{})
	for i := range maxCachedProviders {
		c.providers[fmt.Sprint(i)] = &discovered{fetchedAt: now.Add(-time.Duration(maxCachedProviders-i) * time.Second)}
	}
	c.evictLocked(now)
	if len(c.providers) != maxCachedProviders-1 || c.providers["0"] != nil {
		t.Fatalf("after evicting from a full fresh cache: %d entries, oldest kept: %v", len(c.providers), c.providers["0"] != nil)
	}
	c.providers["stale1"] = &discovered{fetchedAt: now.Add(-providerCacheTTL)}
	c.providers["stale2"] = &discovered{fetchedAt: now.Add(-2 * providerCacheTTL)}
	c.evictLocked(now)
	if c.providers["stale1"] != nil || c.providers["stale2"] != nil || c.providers["1"] == nil {
		t.Fatal("stale entries kept or a fresh one dropped")
	}
}

func TestCheckAuthTime(t *testing.T) {
	t.Parallel()
	req := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := req.Add(2 * time.Minute)
	tests := []struct {
		authTime time.Time
		maxAge   int
		want     error
	}{
		{req, 0, nil},
		{req.Add(-authTimeSkew), 0, nil},
		{req.Add(-authTimeSkew - time.Second), 0, ErrAuthTooOld},
		{req.Add(-300*time.Second - authTimeSkew), 300, nil},
		{req.Add(-301*time.Second - authTimeSkew), 300, ErrAuthTooOld},
		{now.Add(authTimeSkew), 0, nil},
		{now.Add(authTimeSkew + time.Second), 0, ErrInvalidToken},
		{time.Time{}, 300, ErrAuthTooOld},
	}
	for _, tt := range tests {
		err := checkAuthTime(tt.authTime, tt.maxAge, req, now)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("checkAuthTime(%v, %d) = %v, want %v", tt.authTime, tt.maxAge, err, tt.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	if got := stringList([]any{"a", 1, "b"}); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("stringList(array) = %v", got)
	}
	if got := stringList("a"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("stringList(string) = %v", got)
	}
	if got := stringList(map[string]any{}); got != nil {
		t.Errorf("stringList(object) = %v", got)
	}
	for in, want := range map[string]string{
		"access_denied":          "access_denied",
		"bad\ncode":              "(invalid error code)",
		`quote"d`:                "(invalid error code)",
		string(make([]byte, 65)): "(invalid error code)",
	} {
		if got := errorCode(in); got != want {
			t.Errorf("errorCode(%q) = %q, want %q", in, got, want)
		}
	}
}
