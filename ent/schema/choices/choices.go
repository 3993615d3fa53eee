// Package choices owns the value types of tenant picklists: the kinds of
// list, an option's shape, its validation and the defaults every tenant
// starts with. It is a leaf package for the schema, hooks and GraphQL.
package choices

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// Kind names a picklist.
type Kind string

// The picklists of this batch.
const (
	CustomerLevel    Kind = "customer_level"
	CustomerSource   Kind = "customer_source"
	CustomerIndustry Kind = "customer_industry"
	FollowUpType     Kind = "follow_up_type"
)

// Values lists the kinds for ent's enum.
func (Kind) Values() []string {
	return []string{string(CustomerLevel), string(CustomerSource), string(CustomerIndustry), string(FollowUpType)}
}

// MarshalGQL writes k as a GraphQL enum value.
func (k Kind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads k from a GraphQL enum value.
func (k *Kind) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	for _, known := range Kind("").Values() {
		if s == known {
			*k = Kind(s)
			return nil
		}
	}
	return fmt.Errorf("%q is not a picklist kind", s)
}

// Option is one choice.
type Option struct {
	// Key is what records store: lower-case letters, digits and underscores.
	Key string `json:"key"`
	// LabelZh and LabelEn are what people see.
	LabelZh string `json:"labelZh"`
	LabelEn string `json:"labelEn"`
	// Active options can be chosen; inactive ones stay readable on old
	// records.
	Active bool `json:"active"`
}

var keyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Problem is one invalid option, named by its JSON Pointer below the list.
type Problem struct{ Pointer, MessageKey string }

// Check reports every problem of options: bad or repeated keys, missing
// labels.
func Check(options []Option) []Problem {
	var out []Problem
	seen := map[string]bool{}
	for i, o := range options {
		p := "/" + strconv.Itoa(i)
		switch {
		case !keyPattern.MatchString(o.Key):
			out = append(out, Problem{p + "/key", "invalid_format"})
		case seen[o.Key]:
			out = append(out, Problem{p + "/key", "taken"})
		}
		seen[o.Key] = true
		if o.LabelZh == "" {
			out = append(out, Problem{p + "/labelZh", "required"})
		}
		if o.LabelEn == "" {
			out = append(out, Problem{p + "/labelEn", "required"})
		}
	}
	return out
}

// Allows reports whether key is an active option.
func Allows(options []Option, key string) bool {
	for _, o := range options {
		if o.Key == key && o.Active {
			return true
		}
	}
	return false
}

// Defaults returns the options a new tenant starts with.
func Defaults() map[Kind][]Option {
	o := func(key, zh, en string) Option { return Option{Key: key, LabelZh: zh, LabelEn: en, Active: true} }
	return map[Kind][]Option{
		CustomerLevel: {o("key_account", "重点客户", "Key account"), o("regular", "普通客户", "Regular"), o("prospect", "潜在客户", "Prospect")},
		CustomerSource: {o("referral", "客户介绍", "Referral"), o("exhibition", "展会", "Exhibition"), o("website", "官网", "Website"),
			o("cold_call", "电话开发", "Cold call"), o("wechat", "微信", "WeChat")},
		CustomerIndustry: {o("manufacturing", "制造业", "Manufacturing"), o("retail", "零售", "Retail"), o("it", "信息技术", "IT"),
			o("finance", "金融", "Finance"), o("logistics", "物流", "Logistics"), o("other", "其他", "Other")},
		FollowUpType: {o("call", "电话", "Call"), o("visit", "拜访", "Visit"), o("wechat", "微信", "WeChat"),
			o("email", "邮件", "Email"), o("note", "备注", "Note")},
	}
}
