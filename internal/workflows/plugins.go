package workflows

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/mail"
)

// action is a built-in transition action: checked when a workflow is
// saved, run in the transaction of the transition.
type action struct {
	id    string
	check func(config json.RawMessage) error
	run   func(ctx context.Context, env ActionEnv, config json.RawMessage) error
}

// ID implements forms.Plugin.
func (a action) ID() string { return a.id }

// CheckConfig implements forms.Action.
func (a action) CheckConfig(config json.RawMessage) error { return a.check(config) }

// Run implements Runner.
func (a action) Run(ctx context.Context, env ActionEnv, config json.RawMessage) error {
	return a.run(ctx, env, config)
}

// resolver is a built-in approver resolver.
type resolver struct {
	id      string
	check   func(config json.RawMessage) error
	resolve func(ctx context.Context, env ResolverEnv, config json.RawMessage) ([]pulid.ID, error)
}

// ID implements forms.Plugin.
func (r resolver) ID() string { return r.id }

// CheckConfig implements forms.ApproverResolver.
func (r resolver) CheckConfig(config json.RawMessage) error { return r.check(config) }

// Resolve implements Resolving.
func (r resolver) Resolve(ctx context.Context, env ResolverEnv, config json.RawMessage) ([]pulid.ID, error) {
	return r.resolve(ctx, env, config)
}

// person returns the user a "to" setting names for the record.
func person(t Target, to string) pulid.ID {
	switch to {
	case "assignee":
		return t.AssigneeID
	case "owner":
		return t.OwnerID
	case "submitter":
		return t.SubmitterID
	}
	return pulid.ID(to)
}

// Plugins returns the built-in actions and approver resolvers:
//
//   - action.set_field {"field", "value"}: set a field of the record;
//   - action.assign {"to": "submitter" | "owner" | a user id}: set the assignee;
//   - action.notify {"to": "assignee" | "owner" | "submitter", "kind"}: an inbox notice and e-mail through the outbox;
//   - action.webhook {"event"}: a signed webhook through the outbox;
//   - action.create_follow_up {"type", "inDays"}: a follow-up on the linked customer;
//   - approver.users {"userIDs": [...]}: named users;
//   - approver.role {"role": "manager"}: the holders of a role (built-in key or role id);
//   - approver.supervisor {"level": n}: the n-th level supervisor (reports-to chain, then department leaders);
//   - approver.chosen {}: users the submitter chooses.
func Plugins() []forms.Plugin {
	return []forms.Plugin{
		action{"action.set_field", func(c json.RawMessage) error {
			var field string
			var value any
			return forms.DecodeConfig("action.set_field", c, forms.ConfigKey{Name: "field", Dst: &field, Required: true},
				forms.ConfigKey{Name: "value", Dst: &value, Required: true})
		}, func(ctx context.Context, env ActionEnv, c json.RawMessage) error {
			var field string
			var value any
			if err := forms.DecodeConfig("action.set_field", c, forms.ConfigKey{Name: "field", Dst: &field, Required: true},
				forms.ConfigKey{Name: "value", Dst: &value, Required: true}); err != nil {
				return err
			}
			return env.SetField(ctx, field, value)
		}},
		action{"action.assign", func(c json.RawMessage) error {
			var to string
			return forms.DecodeConfig("action.assign", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true})
		}, func(ctx context.Context, env ActionEnv, c json.RawMessage) error {
			var to string
			if err := forms.DecodeConfig("action.assign", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true}); err != nil {
				return err
			}
			if id := person(env.Target(), to); id != "" {
				return env.Assign(ctx, id)
			}
			return nil
		}},
		action{"action.notify", func(c json.RawMessage) error {
			var to, kind string
			if err := forms.DecodeConfig("action.notify", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true},
				forms.ConfigKey{Name: "kind", Dst: &kind}); err != nil {
				return err
			}
			return oneOf("action.notify", "/to", to, "assignee", "owner", "submitter")
		}, func(ctx context.Context, env ActionEnv, c json.RawMessage) error {
			var to, kind string
			if err := forms.DecodeConfig("action.notify", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true},
				forms.ConfigKey{Name: "kind", Dst: &kind}); err != nil {
				return err
			}
			if kind == "" {
				kind = mail.KindWorkItem
			}
			if id := person(env.Target(), to); id != "" {
				return env.Notify(ctx, id, kind)
			}
			return nil
		}},
		action{"action.webhook", func(c json.RawMessage) error {
			var event string
			return forms.DecodeConfig("action.webhook", c, forms.ConfigKey{Name: "event", Dst: &event, Required: true})
		}, func(ctx context.Context, env ActionEnv, c json.RawMessage) error {
			var event string
			if err := forms.DecodeConfig("action.webhook", c, forms.ConfigKey{Name: "event", Dst: &event, Required: true}); err != nil {
				return err
			}
			return env.Webhook(ctx, event)
		}},
		action{"action.create_follow_up", func(c json.RawMessage) error {
			var typ string
			var days int
			if err := forms.DecodeConfig("action.create_follow_up", c, forms.ConfigKey{Name: "type", Dst: &typ, Required: true},
				forms.ConfigKey{Name: "inDays", Dst: &days}); err != nil {
				return err
			}
			if days < 0 || days > 365 {
				return &forms.ConfigError{Plugin: "action.create_follow_up", Pointer: "/inDays", Reason: "must be between 0 and 365"}
			}
			return nil
		}, func(ctx context.Context, env ActionEnv, c json.RawMessage) error {
			var typ string
			var days int
			if err := forms.DecodeConfig("action.create_follow_up", c, forms.ConfigKey{Name: "type", Dst: &typ, Required: true},
				forms.ConfigKey{Name: "inDays", Dst: &days}); err != nil {
				return err
			}
			return env.CreateFollowUp(ctx, typ, days)
		}},
		resolver{"approver.users", func(c json.RawMessage) error {
			var ids []string
			if err := forms.DecodeConfig("approver.users", c, forms.ConfigKey{Name: "userIDs", Dst: &ids, Required: true}); err != nil {
				return err
			}
			if len(ids) == 0 {
				return &forms.ConfigError{Plugin: "approver.users", Pointer: "/userIDs", Reason: "must name at least one user"}
			}
			return nil
		}, func(ctx context.Context, env ResolverEnv, c json.RawMessage) ([]pulid.ID, error) {
			var ids []pulid.ID
			err := forms.DecodeConfig("approver.users", c, forms.ConfigKey{Name: "userIDs", Dst: &ids, Required: true})
			return ids, err
		}},
		resolver{"approver.role", func(c json.RawMessage) error {
			var role string
			return forms.DecodeConfig("approver.role", c, forms.ConfigKey{Name: "role", Dst: &role, Required: true})
		}, func(ctx context.Context, env ResolverEnv, c json.RawMessage) ([]pulid.ID, error) {
			var role string
			if err := forms.DecodeConfig("approver.role", c, forms.ConfigKey{Name: "role", Dst: &role, Required: true}); err != nil {
				return nil, err
			}
			return RoleHolders(ctx, env.Client(), env.Target().TenantID, role)
		}},
		resolver{"approver.supervisor", func(c json.RawMessage) error {
			level := 1
			if err := forms.DecodeConfig("approver.supervisor", c, forms.ConfigKey{Name: "level", Dst: &level}); err != nil {
				return err
			}
			if level < 1 || level > 10 {
				return &forms.ConfigError{Plugin: "approver.supervisor", Pointer: "/level", Reason: "must be between 1 and 10"}
			}
			return nil
		}, func(ctx context.Context, env ResolverEnv, c json.RawMessage) ([]pulid.ID, error) {
			level := 1
			if err := forms.DecodeConfig("approver.supervisor", c, forms.ConfigKey{Name: "level", Dst: &level}); err != nil {
				return nil, err
			}
			if env.Target().SubmitterID == "" {
				return nil, nil
			}
			id, err := Supervisor(ctx, env.Client(), env.Target().SubmitterID, level)
			if err != nil || id == "" {
				return nil, err
			}
			return []pulid.ID{id}, nil
		}},
		resolver{"approver.chosen", func(c json.RawMessage) error {
			return forms.DecodeConfig("approver.chosen", c)
		}, func(_ context.Context, env ResolverEnv, _ json.RawMessage) ([]pulid.ID, error) {
			return env.Chosen(), nil
		}},
	}
}

// RegisterPlugins adds the built-in actions and approver resolvers to reg.
func RegisterPlugins(reg *forms.Registry) error {
	for _, p := range Plugins() {
		if err := reg.Register(p); err != nil {
			return fmt.Errorf("workflows: %w", err)
		}
	}
	return nil
}

func oneOf(plugin, pointer, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &forms.ConfigError{Plugin: plugin, Pointer: pointer, Reason: fmt.Sprintf("must be one of %v", allowed)}
}
