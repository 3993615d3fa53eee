package bench_test

import (
	"context"
	"testing"
	"time"
)

// TestLoadAtRateSendsAtTheRate checks the open-loop driver on a small bench
// tenant: it sends about rate × duration requests of the mix whatever their
// latency, and all of them succeed.
func TestLoadAtRateSendsAtTheRate(t *testing.T) {
	env := openSmallTenant(t)
	ctx := context.Background()
	const rate, d = 40.0, 2 * time.Second
	res, err := env.LoadAtRate(ctx, rate, d, 4, 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 0 {
		for k, s := range res.Kinds {
			if s.FirstErr != nil {
				t.Errorf("%s: %d errors, first: %v", k, s.Errors, s.FirstErr)
			}
		}
	}
	if want := int(rate * d.Seconds()); res.Total < want*9/10 || res.Total > want+1 {
		t.Errorf("sent %d requests in %s at %.0f/s, want about %d", res.Total, d, rate, want)
	}
	if res.Reads.Ops == 0 || res.Kinds["update"].Ops == 0 {
		t.Errorf("the mix lacks reads or updates: %+v", res.Kinds)
	}
}
