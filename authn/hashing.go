package authn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/internal/apierr"
)

// PasswordHasher hashes and verifies passwords. *password.Hasher is the one
// the server uses; tests may wrap it to observe the load.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (bool, error)
	VerifyDummy(ctx context.Context, password string) error
}

var _ PasswordHasher = (*password.Hasher)(nil)

// DefaultHashMaxWait is how long a request waits for a free hashing slot
// before it is refused.
const DefaultHashMaxWait = time.Second

// HashLimits bound the argon2id work that requests start: sign-in, step-up
// and password changes each need a slot, and a request that cannot get one
// within MaxWait is refused with RATE_LIMITED, as a throttle refuses it,
// instead of queueing behind a second of work and starving the rest of the
// API of CPU.
type HashLimits struct {
	// Concurrent is the most hashes requests run at once; zero means half
	// the CPUs (GOMAXPROCS), at least 1.
	Concurrent int
	// MaxWait is how long a request may wait for a slot; zero means
	// DefaultHashMaxWait.
	MaxWait time.Duration
}

// hashGate is the Service's bound on request hashing: a fixed number of
// slots and a bounded wait for one. It is separate from any bound inside the
// hasher so that a request can hold its slot across the lockout claim and
// the verification: an attempt refused for load is never counted against
// the account.
type hashGate struct {
	slots   chan struct{}
	maxWait time.Duration
	// refused counts the requests turned away for load.
	refused atomic.Uint64
}

func newHashGate(l HashLimits) *hashGate {
	n := l.Concurrent
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)/2)
	}
	wait := l.MaxWait
	if wait <= 0 {
		wait = DefaultHashMaxWait
	}
	return &hashGate{slots: make(chan struct{}, n), maxWait: wait}
}

// acquire takes a slot, waiting at most the gate's bound, and returns the
// function that gives it back (safe to call more than once). Past the bound
// it answers RATE_LIMITED with a Retry-After of the bound, rounded up to a
// second.
func (g *hashGate) acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	default:
	}
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.releaser(), nil
	case <-timer.C:
		g.refused.Add(1)
		e := apierr.New(apierr.RateLimited)
		e.RetryAfterSeconds = int(math.Ceil(g.maxWait.Seconds()))
		e.Cause = errHashBusy
		return nil, e
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for a hashing slot: %w", ctx.Err())
	}
}

func (g *hashGate) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { <-g.slots }) }
}

// errHashBusy is the cause, kept for the log, of a request refused because
// every hashing slot stayed busy for the whole wait.
var errHashBusy = errors.New("authn: every password hashing slot busy")

// HashRefusals returns how many requests were refused because no hashing
// slot came free in time, for metrics.
func (s *Service) HashRefusals() uint64 { return s.hashes.refused.Load() }

// HashPassword hashes a password that a request sets for someone else (an
// administrator creating a user or resetting a password) within the same
// bound as sign-ins: past the wait it is refused with RATE_LIMITED.
func (s *Service) HashPassword(ctx context.Context, pw string) (string, error) {
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return s.hasher.Hash(ctx, pw)
}
