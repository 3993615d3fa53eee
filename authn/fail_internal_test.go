package authn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFailLogsAbandonedRequestsApart checks that a request whose client went
// away while its session was looked up is logged at info level, and that
// the same error on a live request is still an error with its cause.
func TestFailLogsAbandonedRequestsApart(t *testing.T) {
	var log bytes.Buffer
	s := &Service{logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	cancelled := fmt.Errorf("looking up session: %w", context.Canceled)

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	s.fail(w, httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(gone), cancelled)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	if !strings.Contains(log.String(), "level=INFO") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("an abandoned request logged %q, want one INFO line", log.String())
	}

	log.Reset()
	s.fail(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil), cancelled)
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "looking up session") {
		t.Errorf("a cancellation on a live request logged %q, want an ERROR with the cause", log.String())
	}

	log.Reset()
	s.fail(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/graphql", nil).WithContext(gone), errors.New("driver: bad connection"))
	if !strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("another failure on an abandoned request logged %q, want an ERROR", log.String())
	}
}
