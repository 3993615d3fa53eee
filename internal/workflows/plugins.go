package workflows

import (
	"encoding/json"
	"fmt"

	"github.com/custos-crm/custos/forms"
)

// action is a built-in transition action. Running actions comes with the
// projects and tickets engine; here they are named, configured and
// checked when a workflow is saved.
type action struct {
	id    string
	check func(config json.RawMessage) error
}

// ID implements forms.Plugin.
func (a action) ID() string { return a.id }

// CheckConfig implements forms.Action.
func (a action) CheckConfig(config json.RawMessage) error { return a.check(config) }

// resolver is a built-in approver resolver.
type resolver struct {
	id    string
	check func(config json.RawMessage) error
}

// ID implements forms.Plugin.
func (r resolver) ID() string { return r.id }

// CheckConfig implements forms.ApproverResolver.
func (r resolver) CheckConfig(config json.RawMessage) error { return r.check(config) }

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
		}},
		action{"action.assign", func(c json.RawMessage) error {
			var to string
			return forms.DecodeConfig("action.assign", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true})
		}},
		action{"action.notify", func(c json.RawMessage) error {
			var to, kind string
			if err := forms.DecodeConfig("action.notify", c, forms.ConfigKey{Name: "to", Dst: &to, Required: true},
				forms.ConfigKey{Name: "kind", Dst: &kind}); err != nil {
				return err
			}
			return oneOf("action.notify", "/to", to, "assignee", "owner", "submitter")
		}},
		action{"action.webhook", func(c json.RawMessage) error {
			var event string
			return forms.DecodeConfig("action.webhook", c, forms.ConfigKey{Name: "event", Dst: &event, Required: true})
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
		}},
		resolver{"approver.role", func(c json.RawMessage) error {
			var role string
			return forms.DecodeConfig("approver.role", c, forms.ConfigKey{Name: "role", Dst: &role, Required: true})
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
		}},
		resolver{"approver.chosen", func(c json.RawMessage) error {
			return forms.DecodeConfig("approver.chosen", c)
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
