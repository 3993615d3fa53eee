package apierr

import (
	"strings"

	"golang.org/x/text/language"
)

// DefaultLocale is used when nothing better is known.
const DefaultLocale = "zh-CN"

// catalogue holds every message in zh-CN and en. Params appear as {name}.
var catalogue = map[string]map[string]string{
	"unauthenticated":            {"en": "Sign-in is required, or the credentials are not valid.", "zh-CN": "需要登录，或凭据无效。"},
	"invalid_credentials":        {"en": "The tenant, email or password is not correct.", "zh-CN": "租户、邮箱或密码不正确。"},
	"forbidden":                  {"en": "You do not have permission to do this.", "zh-CN": "您没有执行此操作的权限。"},
	"not_found":                  {"en": "The record does not exist, or you cannot see it.", "zh-CN": "记录不存在，或您无权查看。"},
	"bad_user_input":             {"en": "Some of the input is not valid.", "zh-CN": "部分输入无效。"},
	"conflict":                   {"en": "The change conflicts with existing data.", "zh-CN": "该更改与现有数据冲突。"},
	"rate_limited":               {"en": "Too many requests; try again later.", "zh-CN": "请求过于频繁，请稍后再试。"},
	"limit_exceeded":             {"en": "The request is too large.", "zh-CN": "请求过大。"},
	"reauth_required":            {"en": "Confirm your identity again to continue.", "zh-CN": "请重新验证身份后继续。"},
	"internal":                   {"en": "Something went wrong on our side. Quote the request id when you report it.", "zh-CN": "服务器内部错误。报告问题时请提供请求编号。"},
	"csrf":                       {"en": "Cross-site requests are not accepted.", "zh-CN": "不接受跨站请求。"},
	"json_required":              {"en": "Send the request as POST with Content-Type application/json.", "zh-CN": "请以 POST 方式、Content-Type 为 application/json 发送请求。"},
	"body_too_large":             {"en": "The request body is too large.", "zh-CN": "请求体过大。"},
	"depth_exceeded":             {"en": "The query is nested too deeply (at most {max} levels).", "zh-CN": "查询嵌套过深（最多 {max} 层）。"},
	"cost_exceeded":              {"en": "The query is too expensive ({cost}, at most {max}).", "zh-CN": "查询开销过大（{cost}，上限 {max}）。"},
	"graphql_invalid":            {"en": "{detail}", "zh-CN": "查询无效：{detail}"},
	"required":                   {"en": "is required", "zh-CN": "为必填项"},
	"empty":                      {"en": "must not be empty", "zh-CN": "不能为空"},
	"too_long":                   {"en": "must be at most {max} characters", "zh-CN": "不能超过 {max} 个字符"},
	"too_short":                  {"en": "must be at least {min} characters", "zh-CN": "不能少于 {min} 个字符"},
	"invalid":                    {"en": "is not valid", "zh-CN": "无效"},
	"invalid_json":               {"en": "is not valid JSON", "zh-CN": "不是有效的 JSON"},
	"unknown_field":              {"en": "is not a known field", "zh-CN": "不是可识别的字段"},
	"unknown_reference":          {"en": "refers to a record that does not exist or that you cannot see", "zh-CN": "引用的记录不存在或您无权查看"},
	"page_size":                  {"en": "must be between 0 and {max}", "zh-CN": "必须在 0 到 {max} 之间"},
	"taken":                      {"en": "is already in use", "zh-CN": "已被占用"},
	"invalid_time_zone":          {"en": "is not an IANA time zone", "zh-CN": "不是有效的 IANA 时区"},
	"unsupported_locale":         {"en": "must be zh-CN or en", "zh-CN": "必须为 zh-CN 或 en"},
	"unknown_permission":         {"en": "{value} is not a known permission", "zh-CN": "{value} 不是可识别的权限"},
	"builtin_role":               {"en": "built-in roles cannot be changed; create a role of your own", "zh-CN": "内置角色不可修改，请新建角色"},
	"department_cycle":           {"en": "would make the department its own ancestor", "zh-CN": "会使部门成为自身的上级"},
	"reports_to_cycle":           {"en": "would make the user report to themselves", "zh-CN": "会使用户成为自己的上级"},
	"owner_out_of_scope":         {"en": "is a user whose records you may not assign", "zh-CN": "您无权将记录分配给该用户"},
	"invalid_format":             {"en": "does not have the expected format", "zh-CN": "格式不正确"},
	"unknown_option":             {"en": "{value} is not an active choice of this list", "zh-CN": "{value} 不是此列表中可用的选项"},
	"contact_of_other_customer":  {"en": "is a contact of another customer", "zh-CN": "是其他客户的联系人"},
	"file_too_large":             {"en": "is larger than {max} bytes", "zh-CN": "超过 {max} 字节"},
	"file_type":                  {"en": "files of type {type} are not accepted", "zh-CN": "不接受 {type} 类型的文件"},
	"invalid_filename":           {"en": "has no usable file name", "zh-CN": "文件名无效"},
	"one_parent":                 {"en": "give exactly one parent: customerID (or followUpID), ticketID or projectID", "zh-CN": "必须且只能指定一个所属对象：customerID（或 followUpID）、ticketID 或 projectID"},
	"preflight_required":         {"en": "Multipart requests with a session cookie need the header GraphQL-Require-Preflight: 1.", "zh-CN": "使用会话 Cookie 的 multipart 请求必须带有 GraphQL-Require-Preflight: 1 请求头。"},
	"password_change_required":   {"en": "Change your password to continue.", "zh-CN": "请先修改密码。"},
	"mfa_enrolment_required":     {"en": "Set up a second factor (an authenticator app or a passkey) to continue.", "zh-CN": "请先设置第二重验证（验证器应用或通行密钥）。"},
	"common_password":            {"en": "is one of the most common passwords; choose another", "zh-CN": "是常见密码，请换一个"},
	"wrong_password":             {"en": "is not your current password", "zh-CN": "不是当前密码"},
	"wrong_code":                 {"en": "is not a valid code", "zh-CN": "验证码无效"},
	"out_of_range":               {"en": "is out of range", "zh-CN": "超出允许范围"},
	"mfa_required":               {"en": "your tenant requires a second factor", "zh-CN": "所在租户要求启用第二重验证"},
	"not_enrolled":               {"en": "no second factor is set up", "zh-CN": "尚未设置第二重验证"},
	"user_verification_required": {"en": "the authenticator did not verify the user (PIN or biometrics)", "zh-CN": "验证器未验证用户身份（PIN 或生物识别）"},
	"expired":                    {"en": "must be in the future", "zh-CN": "必须是将来的时间"},
	"https_required":             {"en": "must be an https:// URL", "zh-CN": "必须是 https:// 地址"},
	"form_version_frozen":        {"en": "is a published version: it cannot change; start a new draft", "zh-CN": "是已发布的版本，不能修改；请新建草稿"},
	"form_not_attachable":        {"en": "only customer and contact forms hold custom fields", "zh-CN": "只有客户和联系人表单可用于自定义字段"},
	"form_not_published":         {"en": "has no published version yet", "zh-CN": "尚无已发布的版本"},
	"form_not_active":            {"en": "is not the published version of the module's active form", "zh-CN": "不是该模块当前启用表单的已发布版本"},
	"no_custom_form":             {"en": "no custom-field form is active for these records", "zh-CN": "这类记录没有启用自定义字段表单"},
	"not_searchable":             {"en": "is not a searchable custom field", "zh-CN": "不是可搜索的自定义字段"},
	"not_dead":                   {"en": "is not a failed webhook delivery", "zh-CN": "不是推送失败的 Webhook 记录"},
	"unknown_event":              {"en": "{value} is not a known event", "zh-CN": "{value} 不是可识别的事件"},
	"read_only":                  {"en": "cannot be changed in this state", "zh-CN": "在当前状态下不可修改"},
	"no_approvers":               {"en": "the approval step has no approver, not even a fallback one", "zh-CN": "该审批环节没有审批人（包括兜底审批人）"},
	"no_pending_approval":        {"en": "has no approval waiting for a decision", "zh-CN": "没有待处理的审批"},
	"not_approver":               {"en": "you are not an approver of this step", "zh-CN": "您不是该审批环节的审批人"},
	"self_approval":              {"en": "you may not approve your own request", "zh-CN": "不能审批自己提交的申请"},
	"not_your_turn":              {"en": "it is not your turn to decide yet", "zh-CN": "尚未轮到您审批"},
	"already_decided":            {"en": "you have already decided", "zh-CN": "您已处理过该审批"},
	"invalid_delegate":           {"en": "cannot take over this approval", "zh-CN": "无法转交给该用户"},
}

// Message returns the message for key in locale, with params filled in. An
// unknown key yields the key itself, so a missing message is visible but
// harmless.
func Message(locale, key string, params map[string]string) string {
	msgs, ok := catalogue[key]
	if !ok {
		return key
	}
	msg, ok := msgs[locale]
	if !ok {
		msg = msgs["en"]
	}
	for k, v := range params {
		msg = strings.ReplaceAll(msg, "{"+k+"}", v)
	}
	return msg
}

var supported = []language.Tag{language.MustParse("zh-CN"), language.English}

// NegotiateLocale picks the locale for a request: the user's own, then the
// tenant's default, then the Accept-Language header, then DefaultLocale.
func NegotiateLocale(userLocale, tenantLocale, acceptLanguage string) string {
	for _, l := range []string{userLocale, tenantLocale} {
		if l == "zh-CN" || l == "en" {
			return l
		}
	}
	if acceptLanguage != "" {
		tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(tags) > 0 {
			_, idx, conf := language.NewMatcher(supported).Match(tags...)
			if conf != language.No {
				if idx == 0 {
					return "zh-CN"
				}
				return "en"
			}
		}
	}
	return DefaultLocale
}
