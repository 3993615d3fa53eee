-- Create "customers" table
CREATE TABLE `customers` (`id` text NOT NULL, `created_by` text NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `name` text NOT NULL, `tenant_id` text NOT NULL, `owner_id` text NULL, `department_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `customers_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `customers_users_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `customers_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL);
-- Create index "customer_tenant_id_owner_id" to table: "customers"
CREATE INDEX `customer_tenant_id_owner_id` ON `customers` (`tenant_id`, `owner_id`);
-- Create index "customer_tenant_id_department_id" to table: "customers"
CREATE INDEX `customer_tenant_id_department_id` ON `customers` (`tenant_id`, `department_id`);
-- Create index "customer_tenant_id_created_at" to table: "customers"
CREATE INDEX `customer_tenant_id_created_at` ON `customers` (`tenant_id`, `created_at`);
-- Create "departments" table
CREATE TABLE `departments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `tenant_id` text NOT NULL, `parent_id` text NULL, `leader_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `departments_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `departments_departments_children` FOREIGN KEY (`parent_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL, CONSTRAINT `departments_users_leader` FOREIGN KEY (`leader_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "department_tenant_id_parent_id" to table: "departments"
CREATE INDEX `department_tenant_id_parent_id` ON `departments` (`tenant_id`, `parent_id`);
-- Create "roles" table
CREATE TABLE `roles` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `builtin` text NULL, `permissions` json NOT NULL, `scope` text NOT NULL DEFAULT ('self'), `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `roles_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "role_tenant_id_name" to table: "roles"
CREATE UNIQUE INDEX `role_tenant_id_name` ON `roles` (`tenant_id`, `name`);
-- Create "role_grants" table
CREATE TABLE `role_grants` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `granted_by` text NULL, `expires_at` datetime NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, `role_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `role_grants_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `role_grants_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION, CONSTRAINT `role_grants_roles_role` FOREIGN KEY (`role_id`) REFERENCES `roles` (`id`) ON DELETE NO ACTION);
-- Create index "rolegrant_user_id_role_id" to table: "role_grants"
CREATE UNIQUE INDEX `rolegrant_user_id_role_id` ON `role_grants` (`user_id`, `role_id`);
-- Create index "rolegrant_tenant_id_role_id" to table: "role_grants"
CREATE INDEX `rolegrant_tenant_id_role_id` ON `role_grants` (`tenant_id`, `role_id`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` blob NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "session_token_hash" to table: "sessions"
CREATE UNIQUE INDEX `session_token_hash` ON `sessions` (`token_hash`);
-- Create index "session_tenant_id_user_id" to table: "sessions"
CREATE INDEX `session_tenant_id_user_id` ON `sessions` (`tenant_id`, `user_id`);
-- Create "tenants" table
CREATE TABLE `tenants` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `slug` text NOT NULL, `name` text NOT NULL, `status` text NOT NULL DEFAULT ('active'), `settings` json NOT NULL, PRIMARY KEY (`id`));
-- Create index "tenants_slug_key" to table: "tenants"
CREATE UNIQUE INDEX `tenants_slug_key` ON `tenants` (`slug`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `email_lookup` text NOT NULL, `name` text NOT NULL, `locale` text NULL, `status` text NOT NULL DEFAULT ('active'), `password_hash` text NULL, `must_change_password` bool NOT NULL DEFAULT (false), `tenant_id` text NOT NULL, `department_id` text NOT NULL, `reports_to_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `users_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `users_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE NO ACTION, CONSTRAINT `users_users_subordinates` FOREIGN KEY (`reports_to_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "user_tenant_id_email_lookup" to table: "users"
CREATE UNIQUE INDEX `user_tenant_id_email_lookup` ON `users` (`tenant_id`, `email_lookup`);
-- Create index "user_tenant_id_department_id" to table: "users"
CREATE INDEX `user_tenant_id_department_id` ON `users` (`tenant_id`, `department_id`);
-- Create index "user_tenant_id_reports_to_id" to table: "users"
CREATE INDEX `user_tenant_id_reports_to_id` ON `users` (`tenant_id`, `reports_to_id`);
