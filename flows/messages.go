package flows

import "strings"

// The machine keys of the reasons a transition is refused.
const (
	// ReasonState means the transition does not leave the record's state.
	ReasonState = "state"
	// ReasonRole means the viewer has none of the roles the guard lists.
	ReasonRole = "guard.role"
	// ReasonPermission means the viewer lacks a permission the guard lists.
	ReasonPermission = "guard.permission"
	// ReasonAssignee means the viewer is not the record's assignee.
	ReasonAssignee = "guard.assignee"
	// ReasonExpr means the guard's expression is false or could not be evaluated.
	ReasonExpr = "guard.expr"
	// ReasonRequires means a required field of the record is not filled in.
	ReasonRequires = "requires"
	// ReasonSchema means the record's data does not satisfy the transition's schema.
	ReasonSchema = "schema"
	// ReasonForm means the input does not satisfy the transition's form, or
	// was given to a transition without one.
	ReasonForm = "form"
)

// reasonTexts returns the English and Chinese texts of a message, with
// {param} placeholders.
func reasonTexts(key string) (en, zh string) {
	switch key {
	case ReasonState:
		return "This transition cannot be taken from the state {state}.", "当前状态 {state} 下不能执行此操作。"
	case ReasonRole:
		return "Requires one of the roles {roles}.", "需要以下角色之一：{roles}。"
	case ReasonPermission:
		return "Requires the permission {permission}.", "需要权限 {permission}。"
	case ReasonAssignee:
		return "Only the assignee may do this.", "只有处理人可以执行此操作。"
	case ReasonExpr:
		return "The conditions for this transition are not met.", "不满足执行此操作的条件。"
	case ReasonRequires:
		return "The field {field} must be filled in.", "必须填写字段 {field}。"
	case ReasonSchema:
		return "The record does not meet the conditions of this transition at {field}.", "记录不满足此操作的条件：{field}。"
	case ReasonForm:
		return "The input does not meet the transition's form at {field}.", "输入不符合此操作的表单：{field}。"
	case "form.none":
		return "This transition takes no input.", "此操作不接受输入。"
	case "required":
		return "This field is required.", "此项为必填项。"
	case "type":
		return "Must be of type {expected}.", "类型应为 {expected}。"
	}
	return "Is not valid.", "无效。"
}

// localize renders the texts of a message by locale.
func localize(key string, params map[string]string) map[string]string {
	en, zh := reasonTexts(key)
	return map[string]string{"en": render(en, params), "zh-CN": render(zh, params)}
}

// violationText renders the message of a violation the built-in checker finds.
func violationText(keyword string, params map[string]string) map[string]string {
	return localize(keyword, params)
}

// render fills the {placeholders} of msg from params.
func render(msg string, params map[string]string) string {
	for k, v := range params {
		msg = strings.ReplaceAll(msg, "{"+k+"}", v)
	}
	return msg
}
