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

// Kind names a picklist: lower-case letters, digits and underscores,
// starting with a letter, at most 64 characters (^[a-z][a-z0-9_]{0,63}$).
// Every tenant has the built-in kinds below; publishing a form whose select
// fields name other kinds creates those lists.
type Kind string

// The built-in picklists.
const (
	CustomerLevel    Kind = "customer_level"
	CustomerSource   Kind = "customer_source"
	CustomerIndustry Kind = "customer_industry"
	FollowUpType     Kind = "follow_up_type"
)

// MarshalGQL writes k as a GraphQL string.
func (k Kind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads k from a GraphQL string, refusing one that cannot name
// a picklist.
func (k *Kind) UnmarshalGQL(v any) error {
	s, _ := v.(string)
	if !Kind(s).Valid() {
		return fmt.Errorf("%q is not a picklist kind: use lower-case letters, digits and _, starting with a letter, at most 64 characters", s)
	}
	*k = Kind(s)
	return nil
}

// ValidateKind returns an error unless s may name a picklist; the schema
// checks every kind written with it.
func ValidateKind(s string) error {
	if !Kind(s).Valid() {
		return fmt.Errorf("picklist kind %q does not match ^[a-z][a-z0-9_]{0,63}$", s)
	}
	return nil
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

// Valid reports whether k may name a picklist: it matches
// ^[a-z][a-z0-9_]{0,63}$, like option keys.
func (k Kind) Valid() bool { return keyPattern.MatchString(string(k)) }

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
