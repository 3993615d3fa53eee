package forms

import "strings"

// messageKeywords lists every keyword with its own message, in the order
// Messages reports them.
func messageKeywords() []string {
	return []string{
		"json", "required", "type", "minimum", "maximum", "exclusiveMinimum",
		"exclusiveMaximum", "minLength", "maxLength", "pattern", "enum", "const",
		"format", "minItems", "maxItems", "uniqueItems", "additionalProperties",
		"multipleOf", "minProperties", "maxProperties", "dependencies",
		"propertyNames", "additionalItems", "contains", "anyOf", "oneOf",
		"allOf", "not", "then", "else", "false",
	}
}

// messageText returns the text for a message key in locale ("en" or
// "zh-CN"), with {param} placeholders as apierr's catalogue writes them. A
// key without its own text gets the generic one.
func messageText(key, locale string) string {
	en, zh := messageTexts(key)
	if locale == "zh-CN" {
		return zh
	}
	return en
}

func messageTexts(key string) (en, zh string) {
	switch key {
	case "form.json":
		return "The data is not valid JSON.", "数据不是有效的 JSON。"
	case "form.required":
		return "This field is required.", "此项为必填项。"
	case "form.type":
		return "Must be of type {expected}, not {given}.", "类型应为 {expected}，而不是 {given}。"
	case "form.minimum":
		return "Must be at least {min}.", "不能小于 {min}。"
	case "form.maximum":
		return "Must be at most {max}.", "不能大于 {max}。"
	case "form.exclusiveMinimum":
		return "Must be greater than {min}.", "必须大于 {min}。"
	case "form.exclusiveMaximum":
		return "Must be less than {max}.", "必须小于 {max}。"
	case "form.minLength":
		return "Must have at least {min} character(s).", "长度不能少于 {min} 个字符。"
	case "form.maxLength":
		return "Must have at most {max} character(s).", "长度不能超过 {max} 个字符。"
	case "form.pattern":
		return "Is not in the expected format.", "格式不正确。"
	case "form.enum":
		return "Is not one of the allowed values.", "不是允许的取值。"
	case "form.const":
		return "Must be {allowed}.", "必须为 {allowed}。"
	case "form.format":
		return "Is not in the {format} format.", "不符合 {format} 格式。"
	case "form.minItems":
		return "Must have at least {min} item(s).", "至少需要 {min} 项。"
	case "form.maxItems":
		return "Must have at most {max} item(s).", "最多只能有 {max} 项。"
	case "form.uniqueItems":
		return "Must not contain the same item twice.", "不能包含重复项。"
	case "form.additionalProperties":
		return "This field is not allowed here.", "此处不允许该字段。"
	case "form.multipleOf":
		return "Must be a multiple of {multiple}.", "必须是 {multiple} 的倍数。"
	case "form.minProperties":
		return "Must have at least {min} field(s).", "至少需要 {min} 个字段。"
	case "form.maxProperties":
		return "Must have at most {max} field(s).", "最多只能有 {max} 个字段。"
	case "form.dependencies":
		return "This field is required when a related field is filled in.", "填写相关字段后，此项为必填项。"
	case "form.propertyNames":
		return "This field name is not allowed.", "不允许使用该字段名。"
	case "form.additionalItems":
		return "Has more items than allowed.", "项数超出允许范围。"
	case "form.contains":
		return "Does not contain a required item.", "缺少必需的项。"
	case "form.anyOf", "form.oneOf", "form.allOf", "form.not", "form.then", "form.else", "form.false":
		return "Does not meet the form's rules.", "不符合表单规则。"
	}
	return "Is not valid.", "无效。"
}

// Messages returns the zh-CN and en texts of every message key this package
// produces ("form.required", "form.maxLength", …), keyed by message key and
// then by locale, with {param} placeholders in apierr's syntax, so the
// integration can add them to the client-facing catalogue. Each call
// returns a fresh map.
func Messages() map[string]map[string]string {
	kws := messageKeywords()
	m := make(map[string]map[string]string, len(kws))
	for _, kw := range kws {
		key := "form." + kw
		en, zh := messageTexts(key)
		m[key] = map[string]string{"en": en, "zh-CN": zh}
	}
	return m
}

// render fills the {placeholders} of msg from params.
func render(msg string, params map[string]string) string {
	if len(params) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	for k, v := range params {
		msg = strings.ReplaceAll(msg, "{"+k+"}", v)
	}
	return msg
}
