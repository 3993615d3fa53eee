package forms

// definitionMessageKeys lists every message key of form definitions and
// their rules, in the order DefinitionMessages reports them.
func definitionMessageKeys() []string {
	return []string{
		"form.definition.json", "form.definition.tooLarge", "form.definition.type",
		"form.definition.unknownKey", "form.definition.missing", "form.definition.duplicate",
		"form.definition.schema", "form.definition.externalRef", "form.definition.propertyKey",
		"form.definition.format", "form.definition.fieldType", "form.definition.fieldConfig",
		"form.definition.typeConflict", "form.definition.pluginNotListed",
		"form.definition.pluginMissing", "form.definition.validator", "form.definition.validatorConfig",
		"form.definition.provision", "form.definition.extension", "form.definition.sensitive",
		"form.definition.sensitiveCompute",
		"form.definition.searchable", "form.definition.elementType", "form.definition.scope",
		"form.definition.unknownField", "form.definition.topLevel", "form.definition.ruleKind",
		"form.definition.expression", "form.definition.requiredIf", "form.definition.locale",
		"form.definition.pointer", "form.definition.stepOp", "form.definition.fieldExists",
		"form.check",
	}
}

// definitionMessageTexts returns the en and zh-CN texts of a definition
// message key, with {param} placeholders; an unknown key gets the generic
// text.
func definitionMessageTexts(key string) (en, zh string) {
	switch key {
	case "form.definition.json":
		return "Is not valid JSON: {detail}.", "不是有效的 JSON：{detail}。"
	case "form.definition.tooLarge":
		return "The form definition is larger than {max} bytes.", "表单定义超过 {max} 字节。"
	case "form.definition.type":
		return "Must be of type {expected}.", "类型应为 {expected}。"
	case "form.definition.unknownKey":
		return "This key is not allowed here.", "此处不允许该键。"
	case "form.definition.missing":
		return "This value is required.", "此项为必填项。"
	case "form.definition.duplicate":
		return "Is listed more than once.", "重复列出。"
	case "form.definition.schema":
		return "The schema is not valid: {detail}.", "Schema 无效：{detail}。"
	case "form.definition.externalRef":
		return "Only references within the schema (#/…) are allowed.", "只允许引用 Schema 内部的内容（#/…）。"
	case "form.definition.propertyKey":
		return "A field name must be an identifier: a letter or _, then letters, digits or _, at most 64 characters.",
			"字段名必须是标识符：以字母或 _ 开头，其后为字母、数字或 _，最多 64 个字符。"
	case "form.definition.format":
		return "The format {format} is not available.", "格式 {format} 不可用。"
	case "form.definition.fieldType":
		return "The field type {plugin} is not available.", "字段类型 {plugin} 不可用。"
	case "form.definition.fieldConfig":
		return "The configuration of {plugin} is not valid: {detail}.", "{plugin} 的配置无效：{detail}。"
	case "form.definition.typeConflict":
		return "The type contradicts the field type {plugin}, whose values are of type {expected}.",
			"类型与字段类型 {plugin} 矛盾，其取值类型为 {expected}。"
	case "form.definition.pluginNotListed":
		return "The plugin {plugin} is used but not listed in plugins.", "使用了插件 {plugin}，但未在 plugins 中列出。"
	case "form.definition.pluginMissing":
		return "The plugin {plugin} is not installed.", "插件 {plugin} 未安装。"
	case "form.definition.validator":
		return "The validator {plugin} is not available.", "校验器 {plugin} 不可用。"
	case "form.definition.validatorConfig":
		return "The configuration of {plugin} is not valid: {detail}.", "{plugin} 的配置无效：{detail}。"
	case "form.definition.provision":
		return "Publishing cannot prepare what {plugin} needs: {detail}.", "发布时无法为 {plugin} 完成准备：{detail}。"
	case "form.definition.extension":
		return "The keyword {keyword} is not supported here.", "此处不支持关键字 {keyword}。"
	case "form.definition.sensitive":
		return "Only top-level fields can be marked sensitive.", "只有顶层字段可以标记为敏感字段。"
	case "form.definition.sensitiveCompute":
		return "A computed field stored in clear cannot be computed from the personal field {field}; mark it x-sensitive.",
			"明文存储的计算字段不能由个人信息字段 {field} 计算得出；请将其标记为 x-sensitive。"
	case "form.definition.searchable":
		return "Only top-level text, number and yes/no fields can be searchable.", "只有顶层的文本、数字和是/否字段可以设为可搜索。"
	case "form.definition.elementType":
		return "The layout element type {type} is not supported; use VerticalLayout, HorizontalLayout, Group, Control or Label.",
			"不支持布局元素类型 {type}；请使用 VerticalLayout、HorizontalLayout、Group、Control 或 Label。"
	case "form.definition.scope":
		return "A control's scope must be #/properties/<field>, such as #/properties/amount.",
			"控件的 scope 必须形如 #/properties/<字段>，例如 #/properties/amount。"
	case "form.definition.unknownField":
		return "The schema has no field {field}.", "Schema 中没有字段 {field}。"
	case "form.definition.topLevel":
		return "Must name a top-level field.", "必须是顶层字段。"
	case "form.definition.ruleKind":
		return "The rule kind must be visible, required, compute or check.", "规则类型必须是 visible、required、compute 或 check。"
	case "form.definition.expression":
		return "The expression is not valid: {detail}.", "表达式无效：{detail}。"
	case "form.definition.requiredIf":
		return "The condition of a required rule must compare top-level fields with literals (==, !=, <, <=, >, >= or in [...]), joined by &&: {detail}.",
			"必填规则的条件只能是顶层字段与字面量的比较（==、!=、<、<=、>、>= 或 in [...]），以 && 连接：{detail}。"
	case "form.definition.locale":
		return "The locale {locale} is not supported; use zh-CN or en.", "不支持语言 {locale}；请使用 zh-CN 或 en。"
	case "form.definition.pointer":
		return "Must be a JSON Pointer to a field, such as /amount.", "必须是指向字段的 JSON Pointer，例如 /amount。"
	case "form.definition.stepOp":
		return "The step must be rename, set_default or drop.", "迁移步骤必须是 rename、set_default 或 drop。"
	case "form.definition.fieldExists":
		return "The field {field} already exists.", "字段 {field} 已存在。"
	case "form.check":
		return "Does not meet the form's rules.", "不符合表单规则。"
	}
	return "Is not valid.", "无效。"
}

// DefinitionMessages returns the zh-CN and en texts of every message key the
// definition layer produces: "form.definition.*" for problems with a
// definition or migration steps, and "form.check" for failing check rules
// (whose items carry the rule's own messages; the key's text is the
// fallback). They are keyed by message key and then by locale, with {param}
// placeholders in apierr's syntax, for the client-facing catalogue next to
// Messages. Each call returns a fresh map.
func DefinitionMessages() map[string]map[string]string {
	keys := definitionMessageKeys()
	m := make(map[string]map[string]string, len(keys))
	for _, key := range keys {
		en, zh := definitionMessageTexts(key)
		m[key] = map[string]string{"en": en, "zh-CN": zh}
	}
	return m
}
