package formdefs

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/tenancy"
)

// provisionHost is the forms.ProvisionHost of one publication. It creates
// what the version's plugins need in the version's tenant through the
// publishing client (the request's transaction), as the system: a form
// designer needs no tenant:manage to get the new lists a form names, while
// changing an existing list still does (updatePicklist). The audit trail
// records the reason, which names the form, the version and the publisher.
type provisionHost struct {
	client   *ent.Client
	tenantID pulid.ID
	reason   string
	now      time.Time
}

// provisionHost returns the host provisioning version v of definition d.
func (s *Service) provisionHost(ctx context.Context, client *ent.Client, d *ent.FormDefinition, v *ent.FormVersion) provisionHost {
	reason := fmt.Sprintf("publish form %s version %d", d.Key, v.Version)
	if vw := viewer.FromContext(ctx); vw != nil && vw.UserID != "" {
		reason += " by " + string(vw.UserID)
	}
	return provisionHost{client: client, tenantID: d.TenantID, reason: reason, now: s.clock.Now()}
}

// EnsurePicklist implements forms.ProvisionHost.
func (h provisionHost) EnsurePicklist(ctx context.Context, kind choices.Kind, options []choices.Option) error {
	sys := viewer.NewSystemContext(ctx, h.tenantID, h.reason, h.now)
	_, err := tenancy.EnsurePicklist(sys, h.client, kind, options)
	return err
}

var _ forms.ProvisionHost = provisionHost{}
