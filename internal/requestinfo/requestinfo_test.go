package requestinfo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

func TestAbandoned(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"cancelled request, its cancellation", gone, fmt.Errorf("listing: %w", context.Canceled), true},
		{"cancelled request, a commit racing the rollback", gone, fmt.Errorf("committing: %w", sql.ErrTxDone), true},
		{"cancelled request, another failure", gone, errors.New("disk on fire"), false},
		{"live request, a cancellation from elsewhere", live, context.Canceled, false},
		{"live request, a finished transaction", live, sql.ErrTxDone, false},
	}
	for _, c := range cases {
		if got := Abandoned(c.ctx, c.err); got != c.want {
			t.Errorf("%s: Abandoned = %v, want %v", c.name, got, c.want)
		}
	}
}
