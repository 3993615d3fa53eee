package graph

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/apierr"
)

// TestPresenterLogsAbandonedRequestsApart checks that a request the client
// gave up on is not logged as a server failure, while the same error on a
// live request is, and that neither shows the client internal text.
func TestPresenterLogsAbandonedRequestsApart(t *testing.T) {
	var log bytes.Buffer
	p := presenter{logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	cancelled := resolverError{fmt.Errorf("listing customers: %w", context.Canceled)}

	gone, cancel := context.WithCancel(context.Background())
	cancel()
	got := p.present(gone, cancelled)
	if code := fmt.Sprint(got.Extensions["code"]); code != string(apierr.Internal) {
		t.Errorf("code = %v, want %s", code, apierr.Internal)
	}
	if strings.Contains(got.Message, "listing customers") {
		t.Errorf("the message shows internal text: %q", got.Message)
	}
	if !strings.Contains(log.String(), "level=INFO") || !strings.Contains(log.String(), "abandoned by the client") {
		t.Errorf("an abandoned request logged %q, want one INFO line", log.String())
	}

	log.Reset()
	p.present(context.Background(), cancelled)
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "listing customers") {
		t.Errorf("a cancellation on a live request logged %q, want an ERROR with the cause", log.String())
	}

	log.Reset()
	p.present(gone, resolverError{errors.New("disk on fire")})
	if !strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("another failure on an abandoned request logged %q, want an ERROR", log.String())
	}
}

// TestTransactionerLogsAbandonedMutationsApart checks the same for a
// mutation whose transaction could not be opened or committed because the
// client went away.
func TestTransactionerLogsAbandonedMutationsApart(t *testing.T) {
	var log bytes.Buffer
	tr := transactioner{logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	rsp := tr.internal(gone, "committing transaction", context.Canceled)
	if len(rsp.Errors) != 1 || fmt.Sprint(rsp.Errors[0].Extensions["code"]) != string(apierr.Internal) {
		t.Errorf("response errors = %v, want one INTERNAL", rsp.Errors)
	}
	if !strings.Contains(log.String(), "level=INFO") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("an abandoned mutation logged %q, want one INFO line", log.String())
	}
	// A commit racing database/sql's rollback of the cancelled transaction.
	log.Reset()
	tr.internal(gone, "committing transaction", fmt.Errorf("committing: %w", sql.ErrTxDone))
	if !strings.Contains(log.String(), "level=INFO") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("a commit after the abandoned transaction's rollback logged %q, want one INFO line", log.String())
	}
	log.Reset()
	tr.internal(context.Background(), "committing transaction", sql.ErrTxDone)
	if !strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("sql.ErrTxDone on a live request logged %q, want an ERROR", log.String())
	}
	log.Reset()
	tr.internal(context.Background(), "committing transaction", errors.New("could not serialize access"))
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "could not serialize") {
		t.Errorf("a failed commit logged %q, want an ERROR with the cause", log.String())
	}
}
