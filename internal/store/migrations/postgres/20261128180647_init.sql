-- Create "audit_chains" table
CREATE TABLE "audit_chains" ("tenant_id" character varying NOT NULL, "seq" bigint NOT NULL, "hash" bytea NULL, PRIMARY KEY ("tenant_id"));
-- Create "audit_events" table
CREATE TABLE "audit_events" ("id" character varying NOT NULL, "seq" bigint NULL, "prev_hash" bytea NULL, "hash" bytea NULL, "category" character varying NOT NULL, "actor_id" character varying NULL, "actor" character varying NOT NULL, "action" character varying NOT NULL, "entity_type" character varying NULL, "entity_id" character varying NULL, "changes" text NOT NULL DEFAULT '[]', "request_id" character varying NULL, "ip" character varying NULL, "created_at" timestamptz NOT NULL, "tenant_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "auditevent_tenant_id_actor_id" to table: "audit_events"
CREATE INDEX "auditevent_tenant_id_actor_id" ON "audit_events" ("tenant_id", "actor_id");
-- Create index "auditevent_tenant_id_created_at" to table: "audit_events"
CREATE INDEX "auditevent_tenant_id_created_at" ON "audit_events" ("tenant_id", "created_at");
-- Create index "auditevent_tenant_id_entity_id" to table: "audit_events"
CREATE INDEX "auditevent_tenant_id_entity_id" ON "audit_events" ("tenant_id", "entity_id");
-- Create index "auditevent_tenant_id_seq" to table: "audit_events"
CREATE UNIQUE INDEX "auditevent_tenant_id_seq" ON "audit_events" ("tenant_id", "seq");
-- Create "contacts" table
CREATE TABLE "contacts" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "deleted_at" timestamptz NULL, "deleted_by" character varying NULL, "delete_batch_id" character varying NULL, "data_key" bytea NULL, "mobile" bytea NULL, "mobile_bidx" bytea NULL, "telephone" bytea NULL, "telephone_bidx" bytea NULL, "wechat" bytea NULL, "wechat_bidx" bytea NULL, "email" bytea NULL, "email_bidx" bytea NULL, "notes" bytea NULL, "name" character varying NOT NULL, "title" character varying NULL, "tenant_id" character varying NOT NULL, "customer_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "contact_tenant_id_customer_id" to table: "contacts"
CREATE INDEX "contact_tenant_id_customer_id" ON "contacts" ("tenant_id", "customer_id");
-- Create index "contact_tenant_id_email_bidx" to table: "contacts"
CREATE INDEX "contact_tenant_id_email_bidx" ON "contacts" ("tenant_id", "email_bidx");
-- Create index "contact_tenant_id_mobile_bidx" to table: "contacts"
CREATE INDEX "contact_tenant_id_mobile_bidx" ON "contacts" ("tenant_id", "mobile_bidx");
-- Create index "contact_tenant_id_name" to table: "contacts"
CREATE INDEX "contact_tenant_id_name" ON "contacts" ("tenant_id", "name");
-- Create index "contact_tenant_id_telephone_bidx" to table: "contacts"
CREATE INDEX "contact_tenant_id_telephone_bidx" ON "contacts" ("tenant_id", "telephone_bidx");
-- Create index "contact_tenant_id_wechat_bidx" to table: "contacts"
CREATE INDEX "contact_tenant_id_wechat_bidx" ON "contacts" ("tenant_id", "wechat_bidx");
-- Create "customers" table
CREATE TABLE "customers" ("id" character varying NOT NULL, "created_by" character varying NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "deleted_at" timestamptz NULL, "deleted_by" character varying NULL, "delete_batch_id" character varying NULL, "data_key" bytea NULL, "mobile" bytea NULL, "mobile_bidx" bytea NULL, "telephone" bytea NULL, "telephone_bidx" bytea NULL, "wechat" bytea NULL, "wechat_bidx" bytea NULL, "email" bytea NULL, "email_bidx" bytea NULL, "address" bytea NULL, "notes" bytea NULL, "name" character varying NOT NULL, "kind" character varying NOT NULL DEFAULT 'company', "region_province" character varying NULL, "region_city" character varying NULL, "region_district" character varying NULL, "level" character varying NULL, "source" character varying NULL, "industry" character varying NULL, "last_follow_up_at" timestamptz NULL, "tenant_id" character varying NOT NULL, "owner_id" character varying NULL, "department_id" character varying NULL, PRIMARY KEY ("id"));
-- Create index "customer_tenant_id_created_at" to table: "customers"
CREATE INDEX "customer_tenant_id_created_at" ON "customers" ("tenant_id", "created_at");
-- Create index "customer_tenant_id_department_id" to table: "customers"
CREATE INDEX "customer_tenant_id_department_id" ON "customers" ("tenant_id", "department_id");
-- Create index "customer_tenant_id_email_bidx" to table: "customers"
CREATE INDEX "customer_tenant_id_email_bidx" ON "customers" ("tenant_id", "email_bidx");
-- Create index "customer_tenant_id_mobile_bidx" to table: "customers"
CREATE INDEX "customer_tenant_id_mobile_bidx" ON "customers" ("tenant_id", "mobile_bidx");
-- Create index "customer_tenant_id_name" to table: "customers"
CREATE INDEX "customer_tenant_id_name" ON "customers" ("tenant_id", "name");
-- Create index "customer_tenant_id_owner_id" to table: "customers"
CREATE INDEX "customer_tenant_id_owner_id" ON "customers" ("tenant_id", "owner_id");
-- Create index "customer_tenant_id_telephone_bidx" to table: "customers"
CREATE INDEX "customer_tenant_id_telephone_bidx" ON "customers" ("tenant_id", "telephone_bidx");
-- Create index "customer_tenant_id_wechat_bidx" to table: "customers"
CREATE INDEX "customer_tenant_id_wechat_bidx" ON "customers" ("tenant_id", "wechat_bidx");
-- Create "departments" table
CREATE TABLE "departments" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "tenant_id" character varying NOT NULL, "parent_id" character varying NULL, "leader_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "departments_departments_children" FOREIGN KEY ("parent_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "department_tenant_id_parent_id" to table: "departments"
CREATE INDEX "department_tenant_id_parent_id" ON "departments" ("tenant_id", "parent_id");
-- Create "follow_ups" table
CREATE TABLE "follow_ups" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "deleted_at" timestamptz NULL, "deleted_by" character varying NULL, "delete_batch_id" character varying NULL, "data_key" bytea NULL, "content" bytea NULL, "type" character varying NOT NULL, "next_follow_up_on" character varying NULL, "tenant_id" character varying NOT NULL, "customer_id" character varying NOT NULL, "contact_id" character varying NULL, "author_id" character varying NULL, PRIMARY KEY ("id"));
-- Create index "followup_tenant_id_author_id_next_follow_up_on" to table: "follow_ups"
CREATE INDEX "followup_tenant_id_author_id_next_follow_up_on" ON "follow_ups" ("tenant_id", "author_id", "next_follow_up_on");
-- Create index "followup_tenant_id_customer_id_created_at" to table: "follow_ups"
CREATE INDEX "followup_tenant_id_customer_id_created_at" ON "follow_ups" ("tenant_id", "customer_id", "created_at");
-- Create "picklists" table
CREATE TABLE "picklists" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "kind" character varying NOT NULL, "options" jsonb NOT NULL, "tenant_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "picklist_tenant_id_kind" to table: "picklists"
CREATE UNIQUE INDEX "picklist_tenant_id_kind" ON "picklists" ("tenant_id", "kind");
-- Create "roles" table
CREATE TABLE "roles" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "builtin" character varying NULL, "permissions" jsonb NOT NULL, "scope" character varying NOT NULL DEFAULT 'self', "tenant_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "role_tenant_id_name" to table: "roles"
CREATE UNIQUE INDEX "role_tenant_id_name" ON "roles" ("tenant_id", "name");
-- Create "role_grants" table
CREATE TABLE "role_grants" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "granted_by" character varying NULL, "expires_at" timestamptz NULL, "tenant_id" character varying NOT NULL, "user_id" character varying NOT NULL, "role_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "rolegrant_tenant_id_role_id" to table: "role_grants"
CREATE INDEX "rolegrant_tenant_id_role_id" ON "role_grants" ("tenant_id", "role_id");
-- Create index "rolegrant_user_id_role_id" to table: "role_grants"
CREATE UNIQUE INDEX "rolegrant_user_id_role_id" ON "role_grants" ("user_id", "role_id");
-- Create "sessions" table
CREATE TABLE "sessions" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "token_hash" bytea NOT NULL, "last_seen_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "revoked_at" timestamptz NULL, "tenant_id" character varying NOT NULL, "user_id" character varying NOT NULL, PRIMARY KEY ("id"));
-- Create index "session_tenant_id_user_id" to table: "sessions"
CREATE INDEX "session_tenant_id_user_id" ON "sessions" ("tenant_id", "user_id");
-- Create index "session_token_hash" to table: "sessions"
CREATE UNIQUE INDEX "session_token_hash" ON "sessions" ("token_hash");
-- Create "tenants" table
CREATE TABLE "tenants" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "slug" character varying NOT NULL, "name" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'active', "settings" jsonb NOT NULL, PRIMARY KEY ("id"));
-- Create index "tenants_slug_key" to table: "tenants"
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants" ("slug");
-- Create "tenant_keys" table
CREATE TABLE "tenant_keys" ("tenant_id" character varying NOT NULL, "key_id" character varying NOT NULL, "wrapped_data_key" bytea NOT NULL, "wrapped_index_key" bytea NOT NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("tenant_id"));
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "data_key" bytea NULL, "email" bytea NULL, "email_bidx" bytea NULL, "name" character varying NOT NULL, "locale" character varying NULL, "status" character varying NOT NULL DEFAULT 'active', "password_hash" character varying NULL, "must_change_password" boolean NOT NULL DEFAULT false, "tenant_id" character varying NOT NULL, "department_id" character varying NOT NULL, "reports_to_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "users_users_subordinates" FOREIGN KEY ("reports_to_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "user_tenant_id_department_id" to table: "users"
CREATE INDEX "user_tenant_id_department_id" ON "users" ("tenant_id", "department_id");
-- Create index "user_tenant_id_email_bidx" to table: "users"
CREATE UNIQUE INDEX "user_tenant_id_email_bidx" ON "users" ("tenant_id", "email_bidx");
-- Create index "user_tenant_id_reports_to_id" to table: "users"
CREATE INDEX "user_tenant_id_reports_to_id" ON "users" ("tenant_id", "reports_to_id");
-- Create "vault_meta" table
CREATE TABLE "vault_meta" ("name" character varying NOT NULL, "value" bytea NOT NULL, PRIMARY KEY ("name"));
-- Modify "audit_events" table
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "contacts" table
ALTER TABLE "contacts" ADD CONSTRAINT "contacts_customers_customer" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "contacts_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "customers" table
ALTER TABLE "customers" ADD CONSTRAINT "customers_departments_department" FOREIGN KEY ("department_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "customers_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "customers_users_owner" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Modify "departments" table
ALTER TABLE "departments" ADD CONSTRAINT "departments_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "departments_users_leader" FOREIGN KEY ("leader_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Modify "follow_ups" table
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_contacts_contact" FOREIGN KEY ("contact_id") REFERENCES "contacts" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "follow_ups_customers_customer" FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "follow_ups_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "follow_ups_users_author" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Modify "picklists" table
ALTER TABLE "picklists" ADD CONSTRAINT "picklists_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "roles" table
ALTER TABLE "roles" ADD CONSTRAINT "roles_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "role_grants" table
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "role_grants_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "role_grants_users_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "sessions" table
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "users" table
ALTER TABLE "users" ADD CONSTRAINT "users_departments_department" FOREIGN KEY ("department_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "users_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
