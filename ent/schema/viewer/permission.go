package viewer

// The permissions of this batch. Later modules append theirs to
// AllPermissions; built-in roles are brought up to date by `custos migrate`.
const (
	PermCustomerRead     = "customer:read"
	PermCustomerCreate   = "customer:create"
	PermCustomerUpdate   = "customer:update"
	PermCustomerDelete   = "customer:delete"
	PermUserManage       = "user:manage"
	PermRoleManage       = "role:manage"
	PermDepartmentManage = "department:manage"
	PermTenantManage     = "tenant:manage"
	PermAuditRead        = "audit:read"
	// PermWebhookManage lets a viewer register webhook endpoints and read
	// their delivery log.
	PermWebhookManage = "webhook:manage"
	// PermFormDesign lets a viewer design and publish forms and workflows.
	PermFormDesign = "form:design"
	// Tickets (work orders) and projects, each within a data scope.
	PermTicketRead    = "ticket:read"
	PermTicketCreate  = "ticket:create"
	PermTicketUpdate  = "ticket:update"
	PermTicketDelete  = "ticket:delete"
	PermProjectRead   = "project:read"
	PermProjectCreate = "project:create"
	PermProjectUpdate = "project:update"
	PermProjectDelete = "project:delete"
)

// AllPermissions returns every permission Custos knows, in a stable order.
func AllPermissions() []string {
	return []string{
		PermCustomerRead, PermCustomerCreate, PermCustomerUpdate, PermCustomerDelete,
		PermUserManage, PermRoleManage, PermDepartmentManage, PermTenantManage,
		PermAuditRead, PermWebhookManage, PermFormDesign,
		PermTicketRead, PermTicketCreate, PermTicketUpdate, PermTicketDelete,
		PermProjectRead, PermProjectCreate, PermProjectUpdate, PermProjectDelete,
	}
}

// KnownPermission reports whether p is a permission Custos knows.
func KnownPermission(p string) bool {
	for _, q := range AllPermissions() {
		if p == q {
			return true
		}
	}
	return false
}
