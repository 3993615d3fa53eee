package flows

// ticketFlow is the definition DefaultTicketFlow returns.
const ticketFlow = `{
  "initial": "new",
  "states": [
    {"key": "new", "category": "todo", "name": {"en": "New", "zh-CN": "新建"}},
    {"key": "in_progress", "category": "in_progress", "name": {"en": "In progress", "zh-CN": "处理中"}},
    {"key": "resolved", "category": "done", "name": {"en": "Resolved", "zh-CN": "已解决"}},
    {"key": "closed", "category": "done", "name": {"en": "Closed", "zh-CN": "已关闭"}}
  ],
  "transitions": [
    {"key": "start", "from": ["new"], "to": "in_progress", "name": {"en": "Start", "zh-CN": "开始处理"}},
    {"key": "resolve", "from": ["in_progress"], "to": "resolved", "name": {"en": "Resolve", "zh-CN": "解决"}},
    {"key": "close", "from": ["resolved"], "to": "closed", "name": {"en": "Close", "zh-CN": "关闭"}},
    {"key": "reopen", "from": ["resolved", "closed"], "to": "in_progress", "name": {"en": "Reopen", "zh-CN": "重新打开"},
     "form": {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "title": "Reason"}}}}
  ],
  "sla": [
    {"key": "first_response", "start": {"enter": ["new"]}, "stop": {"enter": ["in_progress"]},
     "target": "4h", "calendar": "working", "warnAt": [0.5, 0.8]},
    {"key": "resolution", "start": {"enter": ["new", "in_progress"]}, "stop": {"enter": ["resolved"]},
     "target": "3d", "calendar": "calendar", "warnAt": [0.8]}
  ]
}
`

// projectFlow is the definition DefaultProjectFlow returns.
const projectFlow = `{
  "initial": "draft",
  "states": [
    {"key": "draft", "category": "todo", "name": {"en": "Draft", "zh-CN": "草稿"}},
    {"key": "pending_approval", "category": "in_progress", "name": {"en": "Pending approval", "zh-CN": "待审批"}},
    {"key": "active", "category": "in_progress", "name": {"en": "Active", "zh-CN": "进行中"}},
    {"key": "completed", "category": "done", "final": true, "name": {"en": "Completed", "zh-CN": "已完成"}},
    {"key": "cancelled", "category": "done", "final": true, "name": {"en": "Cancelled", "zh-CN": "已取消"}}
  ],
  "transitions": [
    {"key": "submit", "from": ["draft"], "to": "pending_approval", "approval": "manager_approval",
     "name": {"en": "Submit for approval", "zh-CN": "提交审批"}},
    {"key": "complete", "from": ["active"], "to": "completed", "name": {"en": "Complete", "zh-CN": "完成"}},
    {"key": "cancel", "from": ["draft", "active"], "to": "cancelled", "name": {"en": "Cancel", "zh-CN": "取消"},
     "guards": {"roles": ["admin", "manager"]}}
  ],
  "approvals": [
    {"key": "manager_approval", "mode": "any",
     "approvers": {"type": "approver.role", "config": {"role": "manager"}},
     "fallback": {"type": "approver.role", "config": {"role": "admin"}},
     "allowSelfApproval": false, "onApprove": "active", "onReject": "draft"}
  ],
  "sla": [
    {"key": "approval", "start": {"enter": ["pending_approval"]}, "stop": {"enter": ["active", "draft"]},
     "target": "16h", "calendar": "working", "warnAt": [0.5]}
  ]
}
`

// DefaultTicketFlow returns the definition of the built-in ticket workflow:
// new → in_progress → resolved → closed, with reopen (from resolved or
// closed back to in_progress, giving a reason). Closed is a done state but
// not final, since a ticket can be reopened. Its SLAs: first response
// within 4 working hours (warnings at 50% and 80%) and resolution within 3
// calendar days, restarted when a ticket is reopened. It names no roles,
// permissions or plugins. Each call returns a fresh copy.
func DefaultTicketFlow() []byte {
	return []byte(ticketFlow)
}

// DefaultProjectFlow returns the definition of the built-in project
// workflow: draft → pending_approval (a manager approval in mode any, the
// submitter excluded, falling back to the admins when no manager is left)
// → active → completed, back to draft when rejected, and cancel from draft
// or active for admins and managers. It names the roles admin and manager
// and the plugin approver.role (config {"role": …}), and has a 16 working
// hour SLA on the approval. Each call returns a fresh copy.
func DefaultProjectFlow() []byte {
	return []byte(projectFlow)
}
