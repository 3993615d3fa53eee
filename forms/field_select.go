package forms

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/custos-crm/custos/ent/schema/choices"
)

// Limits of select fields.
const (
	// maxSelected bounds how many options a multi-select configuration may
	// allow.
	maxSelected = 1000
	// maxProvisionedOptions bounds the options a configuration may give a
	// picklist it provisions.
	maxProvisionedOptions = 500
)

// selectField is "field.select" (one option, a string) and
// "field.multi_select" (distinct options, an array of strings).
// Configuration: {"picklist": "customer_level"}, required, a picklist name
// (^[a-z][a-z0-9_]{0,63}$); {"options": [{"key", "labelZh", "labelEn"},
// …]}, at most 500, the options of the picklist when publishing creates
// it; for multi-select also {"maxItems": n}. The schema names the picklist
// in "x-picklist" for the caller that checks values against the tenant's
// options.
//
// It is a Provisioner: publishing a version makes sure the tenant has the
// picklist, creating it with the configuration's options (active; none
// when the configuration gives none) when it does not exist, and leaving
// an existing list, its options included, as it is.
type selectField struct {
	id    string
	multi bool
}

// selectConfig is a select field's decoded configuration.
type selectConfig struct {
	picklist string
	options  []choices.Option
	maxItems *int
}

// optionConfig is one option a configuration gives its picklist.
type optionConfig struct {
	Key     string `json:"key"`
	LabelZh string `json:"labelZh"`
	LabelEn string `json:"labelEn"`
}

// ID implements Plugin.
func (f selectField) ID() string { return f.id }

// decode decodes and checks config.
func (f selectField) decode(config json.RawMessage) (selectConfig, error) {
	var (
		out     selectConfig
		options []optionConfig
	)
	fields := []configField{
		{name: "picklist", dst: &out.picklist, required: true},
		{name: "options", dst: &options},
	}
	if f.multi {
		fields = append(fields, configField{name: "maxItems", dst: &out.maxItems})
	}
	if err := decodeConfig(f.id, config, fields...); err != nil {
		return out, err
	}
	if !choices.Kind(out.picklist).Valid() {
		return out, &ConfigError{Plugin: f.id, Pointer: "/picklist", Reason: "is not a picklist name ([a-z][a-z0-9_]*, at most 64 characters)"}
	}
	if len(options) > maxProvisionedOptions {
		return out, &ConfigError{Plugin: f.id, Pointer: "/options", Reason: "must hold at most " + strconv.Itoa(maxProvisionedOptions) + " options"}
	}
	for _, o := range options {
		out.options = append(out.options, choices.Option{Key: o.Key, LabelZh: o.LabelZh, LabelEn: o.LabelEn, Active: true})
	}
	if probs := choices.Check(out.options); len(probs) > 0 {
		return out, &ConfigError{Plugin: f.id, Pointer: "/options" + probs[0].Pointer, Reason: "is not a valid option (" + probs[0].MessageKey + ")"}
	}
	if out.maxItems != nil && (*out.maxItems < 1 || *out.maxItems > maxSelected) {
		return out, &ConfigError{Plugin: f.id, Pointer: "/maxItems", Reason: "must be between 1 and " + strconv.Itoa(maxSelected)}
	}
	return out, nil
}

// Schema implements FieldType.
func (f selectField) Schema(config json.RawMessage) (json.RawMessage, error) {
	c, err := f.decode(config)
	if err != nil {
		return nil, err
	}
	if !f.multi {
		return marshalSchema(f.id, map[string]any{"type": "string", "x-picklist": c.picklist})
	}
	s := map[string]any{
		"type":        "array",
		"items":       map[string]any{"type": "string"},
		"uniqueItems": true,
		"x-picklist":  c.picklist,
	}
	if c.maxItems != nil {
		s["maxItems"] = *c.maxItems
	}
	return marshalSchema(f.id, s)
}

// Provision implements Provisioner: the tenant's picklist exists once the
// version is published.
func (f selectField) Provision(ctx context.Context, host ProvisionHost, config json.RawMessage) error {
	c, err := f.decode(config)
	if err != nil {
		return err
	}
	options := c.options
	if options == nil {
		options = []choices.Option{}
	}
	return host.EnsurePicklist(ctx, choices.Kind(c.picklist), options)
}

var (
	_ FieldType   = selectField{}
	_ Provisioner = selectField{}
)
