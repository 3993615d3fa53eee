package forms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custos-crm/custos/ent/schema/choices"
)

// Provisioner is a plugin that prepares what a form version needs when the
// version is published, such as the tenant's picklist a select field
// names. Field types and record validators may implement it.
type Provisioner interface {
	Plugin
	// Provision prepares, through host, what one use of the plugin with
	// config needs. Form.Provision calls it inside the publishing
	// transaction, once for each place the version uses the plugin, after
	// Designer.Check accepted config, so a failure undoes everything. A
	// *ConfigError (its pointer into config) refuses the publication with
	// a problem at that place of the document; any other error is a
	// technical failure. Provisioning the same thing twice must be
	// harmless: each publication of each version provisions again.
	Provision(ctx context.Context, host ProvisionHost, config json.RawMessage) error
}

// ProvisionHost is what the publishing service lets provisioners do, for the
// tenant of the version being published and inside its transaction.
type ProvisionHost interface {
	// EnsurePicklist makes sure the tenant has the picklist kind (a name
	// matching ^[a-z][a-z0-9_]{0,63}$). When the tenant has no such list,
	// it creates one holding options, which may be empty; an existing list
	// is left as it is.
	EnsurePicklist(ctx context.Context, kind choices.Kind, options []choices.Option) error
}

// provisionUse is a place a checked form version uses a Provisioner.
type provisionUse struct {
	p Provisioner
	// ptr is the pointer in the definition of the plugin's configuration,
	// such as /schema/properties/category/x-config.
	ptr    string
	config json.RawMessage
}

// Provision runs the Provision step of every plugin the form uses that is a
// Provisioner, in the order of the document, through host. The publishing
// service calls it inside the transaction that publishes the version.
// Problems the plugins report as *ConfigErrors come back together in a
// *DefinitionError (message key "form.definition.provision") whose
// pointers point into the definition; other errors stop at once and come
// back wrapped.
func (f *Form) Provision(ctx context.Context, host ProvisionHost) error {
	var probs problemList
	for _, u := range f.provisions {
		err := u.p.Provision(ctx, host, u.config)
		if err == nil {
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			return fmt.Errorf("forms: provisioning %s for %s: %w", u.p.ID(), u.ptr, err)
		}
		probs.add(u.ptr+ce.Pointer, "form.definition.provision", err, "plugin", u.p.ID(), "detail", ce.Reason)
	}
	return probs.err()
}
