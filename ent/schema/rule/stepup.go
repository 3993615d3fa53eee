package rule

import (
	"context"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
)

// StepUpWindow is how recent a strong authentication must be for a
// sensitive operation.
const StepUpWindow = 5 * time.Minute

// RecentAuth returns a REAUTH_REQUIRED error unless the viewer in ctx
// proved a strong factor within StepUpWindow. API tokens never qualify; the
// system and the pre-authentication path pass.
func RecentAuth(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	if v == nil || v.System {
		return nil
	}
	if v.APIToken || v.StrongAuthAt.IsZero() || v.Now.Sub(v.StrongAuthAt) > StepUpWindow {
		return apierr.New(apierr.ReauthRequired)
	}
	return nil
}

// RequireRecentAuth applies RecentAuth to the mutations of ops.
func RequireRecentAuth(ops ent.Op) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ops) {
			return privacy.Skip
		}
		if err := RecentAuth(ctx); err != nil {
			return err
		}
		return privacy.Skip
	})
}
