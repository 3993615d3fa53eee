-- Create "api_tokens" table
CREATE TABLE `api_tokens` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `token_hash` blob NOT NULL, `permissions` json NOT NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `last_used_at` datetime NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `api_tokens_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `api_tokens_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "api_tokens_token_hash_key" to table: "api_tokens"
CREATE UNIQUE INDEX `api_tokens_token_hash_key` ON `api_tokens` (`token_hash`);
-- Create index "apitoken_tenant_id_user_id" to table: "api_tokens"
CREATE INDEX `apitoken_tenant_id_user_id` ON `api_tokens` (`tenant_id`, `user_id`);
-- Create "approval_requests" table
CREATE TABLE `approval_requests` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `record_id` text NOT NULL, `module` text NOT NULL, `workflow_version_id` text NOT NULL, `approval` text NOT NULL, `transition` text NOT NULL, `submitter_id` text NULL, `approvers` json NOT NULL, `fallback` bool NOT NULL DEFAULT (false), `votes` json NULL, `outcome` text NOT NULL DEFAULT ('pending'), `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `approval_requests_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "approvalrequest_tenant_id_record_id_outcome" to table: "approval_requests"
CREATE INDEX `approvalrequest_tenant_id_record_id_outcome` ON `approval_requests` (`tenant_id`, `record_id`, `outcome`);
-- Create "approval_tasks" table
CREATE TABLE `approval_tasks` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `request_id` text NOT NULL, `record_id` text NOT NULL, `module` text NOT NULL, `approval` text NOT NULL, `approver_id` text NOT NULL, `submitter_id` text NULL, `status` text NOT NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `approval_tasks_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "approvaltask_request_id_approver_id" to table: "approval_tasks"
CREATE UNIQUE INDEX `approvaltask_request_id_approver_id` ON `approval_tasks` (`request_id`, `approver_id`);
-- Create index "approvaltask_tenant_id_approver_id_status" to table: "approval_tasks"
CREATE INDEX `approvaltask_tenant_id_approver_id_status` ON `approval_tasks` (`tenant_id`, `approver_id`, `status`);
-- Create "attachments" table
CREATE TABLE `attachments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `data_key` blob NULL, `filename` blob NULL, `content_type` text NOT NULL, `size` integer NOT NULL, `storage` text NOT NULL, `uploaded_by` text NULL, `tenant_id` text NOT NULL, `customer_id` text NULL, `follow_up_id` text NULL, `ticket_id` text NULL, `project_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `attachments_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `attachments_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `attachments_follow_ups_follow_up` FOREIGN KEY (`follow_up_id`) REFERENCES `follow_ups` (`id`) ON DELETE SET NULL, CONSTRAINT `attachments_tickets_ticket` FOREIGN KEY (`ticket_id`) REFERENCES `tickets` (`id`) ON DELETE NO ACTION, CONSTRAINT `attachments_projects_project` FOREIGN KEY (`project_id`) REFERENCES `projects` (`id`) ON DELETE NO ACTION);
-- Create index "attachment_tenant_id_customer_id" to table: "attachments"
CREATE INDEX `attachment_tenant_id_customer_id` ON `attachments` (`tenant_id`, `customer_id`);
-- Create index "attachment_tenant_id_follow_up_id" to table: "attachments"
CREATE INDEX `attachment_tenant_id_follow_up_id` ON `attachments` (`tenant_id`, `follow_up_id`);
-- Create index "attachment_tenant_id_ticket_id" to table: "attachments"
CREATE INDEX `attachment_tenant_id_ticket_id` ON `attachments` (`tenant_id`, `ticket_id`);
-- Create index "attachment_tenant_id_project_id" to table: "attachments"
CREATE INDEX `attachment_tenant_id_project_id` ON `attachments` (`tenant_id`, `project_id`);
-- Create "attachment_chunks" table
CREATE TABLE `attachment_chunks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `attachment_id` text NOT NULL, `seq` integer NOT NULL, `data` blob NOT NULL);
-- Create index "attachmentchunk_attachment_id_seq" to table: "attachment_chunks"
CREATE UNIQUE INDEX `attachmentchunk_attachment_id_seq` ON `attachment_chunks` (`attachment_id`, `seq`);
-- Create "audit_chains" table
CREATE TABLE `audit_chains` (`tenant_id` text NOT NULL, `seq` integer NOT NULL, `hash` blob NULL, PRIMARY KEY (`tenant_id`));
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` text NOT NULL, `seq` integer NULL, `prev_hash` blob NULL, `hash` blob NULL, `category` text NOT NULL, `actor_id` text NULL, `actor` text NOT NULL, `action` text NOT NULL, `entity_type` text NULL, `entity_id` text NULL, `changes` text NOT NULL DEFAULT ('[]'), `request_id` text NULL, `ip` text NULL, `created_at` datetime NOT NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `audit_events_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "auditevent_tenant_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX `auditevent_tenant_id_seq` ON `audit_events` (`tenant_id`, `seq`);
-- Create index "auditevent_seq" to table: "audit_events"
CREATE INDEX `auditevent_seq` ON `audit_events` (`seq`) WHERE seq IS NULL;
-- Create index "auditevent_tenant_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_tenant_id_created_at` ON `audit_events` (`tenant_id`, `created_at`);
-- Create index "auditevent_tenant_id_entity_id" to table: "audit_events"
CREATE INDEX `auditevent_tenant_id_entity_id` ON `audit_events` (`tenant_id`, `entity_id`);
-- Create index "auditevent_tenant_id_actor_id" to table: "audit_events"
CREATE INDEX `auditevent_tenant_id_actor_id` ON `audit_events` (`tenant_id`, `actor_id`);
-- Create "auth_flows" table
CREATE TABLE `auth_flows` (`id` text NOT NULL, `kind` text NOT NULL, `data` blob NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "authflow_expires_at" to table: "auth_flows"
CREATE INDEX `authflow_expires_at` ON `auth_flows` (`expires_at`);
-- Create "contacts" table
CREATE TABLE `contacts` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `custom_fields` json NULL, `custom_form_version_id` text NULL, `name_tokens` text NULL, `data_key` blob NULL, `mobile` blob NULL, `mobile_bidx` blob NULL, `telephone` blob NULL, `telephone_bidx` blob NULL, `wechat` blob NULL, `wechat_bidx` blob NULL, `email` blob NULL, `email_bidx` blob NULL, `notes` blob NULL, `name` text NOT NULL, `title` text NULL, `tenant_id` text NOT NULL, `customer_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `contacts_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `contacts_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION);
-- Create index "contact_name_tokens" to table: "contacts"
CREATE INDEX `contact_name_tokens` ON `contacts` (`name_tokens`);
-- Create index "contact_tenant_id_mobile_bidx" to table: "contacts"
CREATE INDEX `contact_tenant_id_mobile_bidx` ON `contacts` (`tenant_id`, `mobile_bidx`);
-- Create index "contact_tenant_id_telephone_bidx" to table: "contacts"
CREATE INDEX `contact_tenant_id_telephone_bidx` ON `contacts` (`tenant_id`, `telephone_bidx`);
-- Create index "contact_tenant_id_wechat_bidx" to table: "contacts"
CREATE INDEX `contact_tenant_id_wechat_bidx` ON `contacts` (`tenant_id`, `wechat_bidx`);
-- Create index "contact_tenant_id_email_bidx" to table: "contacts"
CREATE INDEX `contact_tenant_id_email_bidx` ON `contacts` (`tenant_id`, `email_bidx`);
-- Create index "contact_tenant_id_customer_id" to table: "contacts"
CREATE INDEX `contact_tenant_id_customer_id` ON `contacts` (`tenant_id`, `customer_id`);
-- Create index "contact_tenant_id_name" to table: "contacts"
CREATE INDEX `contact_tenant_id_name` ON `contacts` (`tenant_id`, `name`);
-- Create "customers" table
CREATE TABLE `customers` (`id` text NOT NULL, `created_by` text NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `custom_fields` json NULL, `custom_form_version_id` text NULL, `name_tokens` text NULL, `data_key` blob NULL, `mobile` blob NULL, `mobile_bidx` blob NULL, `telephone` blob NULL, `telephone_bidx` blob NULL, `wechat` blob NULL, `wechat_bidx` blob NULL, `email` blob NULL, `email_bidx` blob NULL, `address` blob NULL, `notes` blob NULL, `name` text NOT NULL, `kind` text NOT NULL DEFAULT ('company'), `region_province` text NULL, `region_city` text NULL, `region_district` text NULL, `level` text NULL, `source` text NULL, `industry` text NULL, `last_follow_up_at` datetime NULL, `tenant_id` text NOT NULL, `owner_id` text NULL, `department_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `customers_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `customers_users_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `customers_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL);
-- Create index "customer_tenant_id_owner_id" to table: "customers"
CREATE INDEX `customer_tenant_id_owner_id` ON `customers` (`tenant_id`, `owner_id`);
-- Create index "customer_tenant_id_department_id" to table: "customers"
CREATE INDEX `customer_tenant_id_department_id` ON `customers` (`tenant_id`, `department_id`);
-- Create index "customer_name_tokens" to table: "customers"
CREATE INDEX `customer_name_tokens` ON `customers` (`name_tokens`);
-- Create index "customer_tenant_id_mobile_bidx" to table: "customers"
CREATE INDEX `customer_tenant_id_mobile_bidx` ON `customers` (`tenant_id`, `mobile_bidx`);
-- Create index "customer_tenant_id_telephone_bidx" to table: "customers"
CREATE INDEX `customer_tenant_id_telephone_bidx` ON `customers` (`tenant_id`, `telephone_bidx`);
-- Create index "customer_tenant_id_wechat_bidx" to table: "customers"
CREATE INDEX `customer_tenant_id_wechat_bidx` ON `customers` (`tenant_id`, `wechat_bidx`);
-- Create index "customer_tenant_id_email_bidx" to table: "customers"
CREATE INDEX `customer_tenant_id_email_bidx` ON `customers` (`tenant_id`, `email_bidx`);
-- Create index "customer_tenant_id_created_at" to table: "customers"
CREATE INDEX `customer_tenant_id_created_at` ON `customers` (`tenant_id`, `created_at`);
-- Create index "customer_tenant_id_name" to table: "customers"
CREATE INDEX `customer_tenant_id_name` ON `customers` (`tenant_id`, `name`);
-- Create "departments" table
CREATE TABLE `departments` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `tenant_id` text NOT NULL, `parent_id` text NULL, `leader_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `departments_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `departments_departments_children` FOREIGN KEY (`parent_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL, CONSTRAINT `departments_users_leader` FOREIGN KEY (`leader_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "department_tenant_id_parent_id" to table: "departments"
CREATE INDEX `department_tenant_id_parent_id` ON `departments` (`tenant_id`, `parent_id`);
-- Create "external_identities" table
CREATE TABLE `external_identities` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `user_id` text NOT NULL, `provider_id` text NOT NULL, `issuer` text NOT NULL, `subject` text NOT NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `external_identities_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "externalidentity_tenant_id_issuer_subject" to table: "external_identities"
CREATE UNIQUE INDEX `externalidentity_tenant_id_issuer_subject` ON `external_identities` (`tenant_id`, `issuer`, `subject`);
-- Create "follow_ups" table
CREATE TABLE `follow_ups` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `data_key` blob NULL, `content` blob NULL, `type` text NOT NULL, `next_follow_up_on` text NULL, `tenant_id` text NOT NULL, `customer_id` text NOT NULL, `contact_id` text NULL, `author_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `follow_ups_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `follow_ups_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION, CONSTRAINT `follow_ups_contacts_contact` FOREIGN KEY (`contact_id`) REFERENCES `contacts` (`id`) ON DELETE SET NULL, CONSTRAINT `follow_ups_users_author` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "followup_tenant_id_customer_id_created_at" to table: "follow_ups"
CREATE INDEX `followup_tenant_id_customer_id_created_at` ON `follow_ups` (`tenant_id`, `customer_id`, `created_at`);
-- Create index "followup_tenant_id_author_id_next_follow_up_on" to table: "follow_ups"
CREATE INDEX `followup_tenant_id_author_id_next_follow_up_on` ON `follow_ups` (`tenant_id`, `author_id`, `next_follow_up_on`);
-- Create "form_definitions" table
CREATE TABLE `form_definitions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `module` text NOT NULL, `name_zh` text NOT NULL, `name_en` text NOT NULL, `active` bool NOT NULL DEFAULT (false), `created_by` text NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `form_definitions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "formdefinition_tenant_id_key" to table: "form_definitions"
CREATE UNIQUE INDEX `formdefinition_tenant_id_key` ON `form_definitions` (`tenant_id`, `key`);
-- Create index "formdefinition_tenant_id_module" to table: "form_definitions"
CREATE INDEX `formdefinition_tenant_id_module` ON `form_definitions` (`tenant_id`, `module`);
-- Create index "formdefinition_one_active_per_module" to table: "form_definitions"
CREATE UNIQUE INDEX `formdefinition_one_active_per_module` ON `form_definitions` (`tenant_id`, `module`) WHERE active;
-- Create "form_versions" table
CREATE TABLE `form_versions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL, `state` text NOT NULL DEFAULT ('draft'), `document` json NOT NULL, `published_at` datetime NULL, `published_by` text NULL, `dry_run` json NULL, `migration` json NULL, `tenant_id` text NOT NULL, `definition_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `form_versions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `form_versions_form_definitions_definition` FOREIGN KEY (`definition_id`) REFERENCES `form_definitions` (`id`) ON DELETE NO ACTION);
-- Create index "formversion_tenant_id_definition_id_version" to table: "form_versions"
CREATE UNIQUE INDEX `formversion_tenant_id_definition_id_version` ON `form_versions` (`tenant_id`, `definition_id`, `version`);
-- Create "identity_providers" table
CREATE TABLE `identity_providers` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `data_key` blob NULL, `client_secret` blob NULL, `name` text NOT NULL, `issuer` text NOT NULL, `client_id` text NOT NULL, `scopes` json NULL, `email_claim` text NOT NULL DEFAULT ('email'), `name_claim` text NOT NULL DEFAULT ('name'), `groups_claim` text NOT NULL DEFAULT ('groups'), `group_roles` json NULL, `jit_provisioning` bool NOT NULL DEFAULT (false), `enforces_mfa` bool NOT NULL DEFAULT (false), `trusted_for_email` bool NOT NULL DEFAULT (false), `allowed_domains` json NULL, `enabled` bool NOT NULL DEFAULT (true), `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `identity_providers_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "identityprovider_tenant_id_name" to table: "identity_providers"
CREATE UNIQUE INDEX `identityprovider_tenant_id_name` ON `identity_providers` (`tenant_id`, `name`);
-- Create "login_throttles" table
CREATE TABLE `login_throttles` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` blob NOT NULL, `window_start` integer NOT NULL, `count` integer NOT NULL);
-- Create index "loginthrottle_key_window_start" to table: "login_throttles"
CREATE UNIQUE INDEX `loginthrottle_key_window_start` ON `login_throttles` (`key`, `window_start`);
-- Create index "loginthrottle_window_start" to table: "login_throttles"
CREATE INDEX `loginthrottle_window_start` ON `login_throttles` (`window_start`);
-- Create "notifications" table
CREATE TABLE `notifications` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `record_id` text NULL, `params` json NULL, `dedupe_key` text NOT NULL, `read_at` datetime NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `notifications_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `notifications_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "notification_tenant_id_dedupe_key" to table: "notifications"
CREATE UNIQUE INDEX `notification_tenant_id_dedupe_key` ON `notifications` (`tenant_id`, `dedupe_key`);
-- Create index "notification_tenant_id_user_id_created_at" to table: "notifications"
CREATE INDEX `notification_tenant_id_user_id_created_at` ON `notifications` (`tenant_id`, `user_id`, `created_at`);
-- Create index "notification_tenant_id_user_id_read_at" to table: "notifications"
CREATE INDEX `notification_tenant_id_user_id_read_at` ON `notifications` (`tenant_id`, `user_id`, `read_at`);
-- Create "notification_preferences" table
CREATE TABLE `notification_preferences` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `inbox` bool NOT NULL DEFAULT (true), `email` bool NOT NULL DEFAULT (true), `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `notification_preferences_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `notification_preferences_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "notificationpreference_tenant_id_user_id_kind" to table: "notification_preferences"
CREATE UNIQUE INDEX `notificationpreference_tenant_id_user_id_kind` ON `notification_preferences` (`tenant_id`, `user_id`, `kind`);
-- Create "outbox_messages" table
CREATE TABLE `outbox_messages` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `event` text NOT NULL, `subject_id` text NULL, `user_id` text NULL, `payload` json NOT NULL, `idempotency_key` text NOT NULL, `state` text NOT NULL DEFAULT ('pending'), `attempts` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NOT NULL, `last_status` integer NULL, `last_error` text NULL, `last_duration_ms` integer NULL, `delivered_at` datetime NULL, `tenant_id` text NOT NULL, `endpoint_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `outbox_messages_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `outbox_messages_webhook_endpoints_endpoint` FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints` (`id`) ON DELETE SET NULL);
-- Create index "outboxmessage_idempotency_key" to table: "outbox_messages"
CREATE UNIQUE INDEX `outboxmessage_idempotency_key` ON `outbox_messages` (`idempotency_key`);
-- Create index "outboxmessage_tenant_id_endpoint_id_created_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_tenant_id_endpoint_id_created_at` ON `outbox_messages` (`tenant_id`, `endpoint_id`, `created_at`);
-- Create index "outboxmessage_state_next_attempt_at" to table: "outbox_messages"
CREATE INDEX `outboxmessage_state_next_attempt_at` ON `outbox_messages` (`state`, `next_attempt_at`);
-- Create "passkeys" table
CREATE TABLE `passkeys` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL DEFAULT ('Passkey'), `credential_id` blob NOT NULL, `public_key` blob NOT NULL, `attestation_type` text NULL, `aaguid` blob NULL, `sign_count` integer NOT NULL DEFAULT (0), `transports` json NULL, `backup_eligible` bool NOT NULL DEFAULT (false), `backup_state` bool NOT NULL DEFAULT (false), `last_used_at` datetime NULL, `blocked_at` datetime NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `passkeys_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `passkeys_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "passkeys_credential_id_key" to table: "passkeys"
CREATE UNIQUE INDEX `passkeys_credential_id_key` ON `passkeys` (`credential_id`);
-- Create index "passkey_tenant_id_user_id" to table: "passkeys"
CREATE INDEX `passkey_tenant_id_user_id` ON `passkeys` (`tenant_id`, `user_id`);
-- Create "picklists" table
CREATE TABLE `picklists` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kind` text NOT NULL, `options` json NOT NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `picklists_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "picklist_tenant_id_kind" to table: "picklists"
CREATE UNIQUE INDEX `picklist_tenant_id_kind` ON `picklists` (`tenant_id`, `kind`);
-- Create "projects" table
CREATE TABLE `projects` (`id` text NOT NULL, `created_by` text NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `custom_fields` json NULL, `custom_form_version_id` text NULL, `data_key` blob NULL, `title` text NOT NULL, `state` text NOT NULL, `workflow_version_id` text NOT NULL, `due_on` text NULL, `revision` integer NOT NULL DEFAULT (0), `tenant_id` text NOT NULL, `owner_id` text NULL, `department_id` text NULL, `assignee_id` text NULL, `customer_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `projects_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `projects_users_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `projects_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL, CONSTRAINT `projects_users_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `projects_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE SET NULL);
-- Create index "project_tenant_id_owner_id" to table: "projects"
CREATE INDEX `project_tenant_id_owner_id` ON `projects` (`tenant_id`, `owner_id`);
-- Create index "project_tenant_id_department_id" to table: "projects"
CREATE INDEX `project_tenant_id_department_id` ON `projects` (`tenant_id`, `department_id`);
-- Create index "project_tenant_id_state" to table: "projects"
CREATE INDEX `project_tenant_id_state` ON `projects` (`tenant_id`, `state`);
-- Create index "project_tenant_id_assignee_id" to table: "projects"
CREATE INDEX `project_tenant_id_assignee_id` ON `projects` (`tenant_id`, `assignee_id`);
-- Create index "project_tenant_id_customer_id" to table: "projects"
CREATE INDEX `project_tenant_id_customer_id` ON `projects` (`tenant_id`, `customer_id`);
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
-- Create "sla_timers" table
CREATE TABLE `sla_timers` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `record_id` text NOT NULL, `module` text NOT NULL, `workflow_version_id` text NOT NULL, `sla` text NOT NULL, `started_at` datetime NOT NULL, `paused` json NULL, `status` text NOT NULL, `deadline` datetime NULL, `generation` integer NOT NULL DEFAULT (0), `warnings_fired` integer NOT NULL DEFAULT (0), `breached_at` datetime NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sla_timers_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "slatimer_record_id_sla" to table: "sla_timers"
CREATE UNIQUE INDEX `slatimer_record_id_sla` ON `sla_timers` (`record_id`, `sla`);
-- Create index "slatimer_tenant_id_status_deadline" to table: "sla_timers"
CREATE INDEX `slatimer_tenant_id_status_deadline` ON `sla_timers` (`tenant_id`, `status`, `deadline`);
-- Create "sessions" table
CREATE TABLE `sessions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `token_hash` blob NOT NULL, `last_seen_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `revoked_at` datetime NULL, `strong_auth_at` datetime NULL, `restriction` text NULL, `method` text NOT NULL DEFAULT ('password'), `ip` text NULL, `user_agent` text NULL, `tenant_id` text NOT NULL, `user_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `sessions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `sessions_users_sessions` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- Create index "session_token_hash" to table: "sessions"
CREATE UNIQUE INDEX `session_token_hash` ON `sessions` (`token_hash`);
-- Create index "session_tenant_id_user_id" to table: "sessions"
CREATE INDEX `session_tenant_id_user_id` ON `sessions` (`tenant_id`, `user_id`);
-- Create "tenants" table
CREATE TABLE `tenants` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `slug` text NOT NULL, `name` text NOT NULL, `status` text NOT NULL DEFAULT ('active'), `settings` json NOT NULL, PRIMARY KEY (`id`));
-- Create index "tenants_slug_key" to table: "tenants"
CREATE UNIQUE INDEX `tenants_slug_key` ON `tenants` (`slug`);
-- Create "tenant_keys" table
CREATE TABLE `tenant_keys` (`tenant_id` text NOT NULL, `key_id` text NOT NULL, `wrapped_data_key` blob NOT NULL, `wrapped_index_key` blob NOT NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`tenant_id`));
-- Create "tickets" table
CREATE TABLE `tickets` (`id` text NOT NULL, `created_by` text NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `deleted_at` datetime NULL, `deleted_by` text NULL, `delete_batch_id` text NULL, `custom_fields` json NULL, `custom_form_version_id` text NULL, `data_key` blob NULL, `title` text NOT NULL, `state` text NOT NULL, `workflow_version_id` text NOT NULL, `due_on` text NULL, `revision` integer NOT NULL DEFAULT (0), `tenant_id` text NOT NULL, `owner_id` text NULL, `department_id` text NULL, `assignee_id` text NULL, `customer_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `tickets_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `tickets_users_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `tickets_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE SET NULL, CONSTRAINT `tickets_users_assignee` FOREIGN KEY (`assignee_id`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `tickets_customers_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE SET NULL);
-- Create index "ticket_tenant_id_owner_id" to table: "tickets"
CREATE INDEX `ticket_tenant_id_owner_id` ON `tickets` (`tenant_id`, `owner_id`);
-- Create index "ticket_tenant_id_department_id" to table: "tickets"
CREATE INDEX `ticket_tenant_id_department_id` ON `tickets` (`tenant_id`, `department_id`);
-- Create index "ticket_tenant_id_state" to table: "tickets"
CREATE INDEX `ticket_tenant_id_state` ON `tickets` (`tenant_id`, `state`);
-- Create index "ticket_tenant_id_assignee_id" to table: "tickets"
CREATE INDEX `ticket_tenant_id_assignee_id` ON `tickets` (`tenant_id`, `assignee_id`);
-- Create index "ticket_tenant_id_customer_id" to table: "tickets"
CREATE INDEX `ticket_tenant_id_customer_id` ON `tickets` (`tenant_id`, `customer_id`);
-- Create "transition_events" table
CREATE TABLE `transition_events` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `data_key` blob NULL, `comment` blob NULL, `record_id` text NOT NULL, `actor_id` text NULL, `from_state` text NULL, `to_state` text NOT NULL, `transition` text NOT NULL, `changes` json NULL, `seq` integer NOT NULL DEFAULT (0), `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `transition_events_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "transitionevent_tenant_id_record_id_seq" to table: "transition_events"
CREATE INDEX `transitionevent_tenant_id_record_id_seq` ON `transition_events` (`tenant_id`, `record_id`, `seq`);
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `data_key` blob NULL, `email` blob NULL, `email_bidx` blob NULL, `totp_secret` blob NULL, `name` text NOT NULL, `locale` text NULL, `status` text NOT NULL DEFAULT ('active'), `password_hash` text NULL, `must_change_password` bool NOT NULL DEFAULT (false), `password_changed_at` datetime NULL, `failed_logins` integer NOT NULL DEFAULT (0), `lock_count` integer NOT NULL DEFAULT (0), `locked_until` datetime NULL, `totp_last_step` integer NOT NULL DEFAULT (0), `totp_enabled_at` datetime NULL, `recovery_codes` json NULL, `tenant_id` text NOT NULL, `department_id` text NOT NULL, `reports_to_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `users_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `users_departments_department` FOREIGN KEY (`department_id`) REFERENCES `departments` (`id`) ON DELETE NO ACTION, CONSTRAINT `users_users_subordinates` FOREIGN KEY (`reports_to_id`) REFERENCES `users` (`id`) ON DELETE SET NULL);
-- Create index "user_tenant_id_email_bidx" to table: "users"
CREATE UNIQUE INDEX `user_tenant_id_email_bidx` ON `users` (`tenant_id`, `email_bidx`);
-- Create index "user_tenant_id_department_id" to table: "users"
CREATE INDEX `user_tenant_id_department_id` ON `users` (`tenant_id`, `department_id`);
-- Create index "user_tenant_id_reports_to_id" to table: "users"
CREATE INDEX `user_tenant_id_reports_to_id` ON `users` (`tenant_id`, `reports_to_id`);
-- Create "vault_meta" table
CREATE TABLE `vault_meta` (`name` text NOT NULL, `value` blob NOT NULL, PRIMARY KEY (`name`));
-- Create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `data_key` blob NULL, `secret` blob NULL, `previous_secret` blob NULL, `url` text NOT NULL, `description` text NULL, `events` json NOT NULL, `enabled` bool NOT NULL DEFAULT (true), `previous_secret_expires_at` datetime NULL, `created_by` text NULL, `tenant_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `webhook_endpoints_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- Create index "webhookendpoint_tenant_id_enabled" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_tenant_id_enabled` ON `webhook_endpoints` (`tenant_id`, `enabled`);
-- Create "workflow_definitions" table
CREATE TABLE `workflow_definitions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `key` text NOT NULL, `module` text NOT NULL, `name_zh` text NOT NULL, `name_en` text NOT NULL, `created_by` text NULL, `tenant_id` text NOT NULL, `form_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `workflow_definitions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `workflow_definitions_form_definitions_form` FOREIGN KEY (`form_id`) REFERENCES `form_definitions` (`id`) ON DELETE SET NULL);
-- Create index "workflowdefinition_tenant_id_key" to table: "workflow_definitions"
CREATE UNIQUE INDEX `workflowdefinition_tenant_id_key` ON `workflow_definitions` (`tenant_id`, `key`);
-- Create index "workflowdefinition_tenant_id_module" to table: "workflow_definitions"
CREATE INDEX `workflowdefinition_tenant_id_module` ON `workflow_definitions` (`tenant_id`, `module`);
-- Create "workflow_versions" table
CREATE TABLE `workflow_versions` (`id` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `version` integer NOT NULL, `state` text NOT NULL DEFAULT ('draft'), `document` json NOT NULL, `published_at` datetime NULL, `published_by` text NULL, `tenant_id` text NOT NULL, `definition_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `workflow_versions_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `workflow_versions_workflow_definitions_definition` FOREIGN KEY (`definition_id`) REFERENCES `workflow_definitions` (`id`) ON DELETE NO ACTION);
-- Create index "workflowversion_tenant_id_definition_id_version" to table: "workflow_versions"
CREATE UNIQUE INDEX `workflowversion_tenant_id_definition_id_version` ON `workflow_versions` (`tenant_id`, `definition_id`, `version`);
