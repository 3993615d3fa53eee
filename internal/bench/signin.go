package bench

import (
	"context"
	"sync"
	"time"
)

// SignIn returns an operation that signs in a different seeded user on
// every call, with the product's argon2id parameters.
func (e *Env) SignIn() Op {
	client := HTTPClient(16)
	people := e.Seeded.People.People
	return func(ctx context.Context, worker, n int) error {
		p := people[(worker*7919+n)%len(people)]
		_, err := e.Login(ctx, client, p.Email)
		return err
	}
}

// A1 returns the arms of A1: the G1 list as the manager while perSecond
// password sign-ins of distinct users run beside it (A), and alone (B).
// The sign-ins beside it are counted in signIns.
func (e *Env) A1(ctx context.Context, perSecond int, signIns *Sample) (a, b Arm, err error) {
	client := HTTPClient(4)
	token, err := e.Login(ctx, client, e.Manager())
	if err != nil {
		return a, b, err
	}
	list := func(ctx context.Context, _, _ int) error {
		_, err := GraphQL(ctx, client, e.Server.URL, token, ListQuery, map[string]any{"n": 50})
		return err
	}
	signIn := e.SignIn()
	var mu sync.Mutex
	beside := func() func() {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / time.Duration(perSecond))
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					t := time.Now()
					err := signIn(ctx, 1, n)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case ctx.Err() != nil:
					case err != nil:
						signIns.Errors++
						if signIns.FirstErr == nil {
							signIns.FirstErr = err
						}
					default:
						signIns.Latencies = append(signIns.Latencies, time.Since(t))
					}
				}()
			}
		}()
		return func() { cancel(); wg.Wait() }
	}
	return Arm{Op: list, Around: beside}, Arm{Op: list}, nil
}
