-- Create "customers" table
CREATE TABLE "customers" ("id" character varying NOT NULL, "created_by" character varying NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "deleted_at" timestamptz NULL, "deleted_by" character varying NULL, "delete_batch_id" character varying NULL, "name" character varying NOT NULL, "tenant_id" character varying NOT NULL, "owner_id" character varying NULL, "department_id" character varying NULL, PRIMARY KEY ("id"));
-- Create index "customer_tenant_id_created_at" to table: "customers"
CREATE INDEX "customer_tenant_id_created_at" ON "customers" ("tenant_id", "created_at");
-- Create index "customer_tenant_id_department_id" to table: "customers"
CREATE INDEX "customer_tenant_id_department_id" ON "customers" ("tenant_id", "department_id");
-- Create index "customer_tenant_id_owner_id" to table: "customers"
CREATE INDEX "customer_tenant_id_owner_id" ON "customers" ("tenant_id", "owner_id");
-- Create "departments" table
CREATE TABLE "departments" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "name" character varying NOT NULL, "tenant_id" character varying NOT NULL, "parent_id" character varying NULL, "leader_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "departments_departments_children" FOREIGN KEY ("parent_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "department_tenant_id_parent_id" to table: "departments"
CREATE INDEX "department_tenant_id_parent_id" ON "departments" ("tenant_id", "parent_id");
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
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "email" character varying NOT NULL, "email_lookup" character varying NOT NULL, "name" character varying NOT NULL, "locale" character varying NULL, "status" character varying NOT NULL DEFAULT 'active', "password_hash" character varying NULL, "must_change_password" boolean NOT NULL DEFAULT false, "tenant_id" character varying NOT NULL, "department_id" character varying NOT NULL, "reports_to_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "users_users_subordinates" FOREIGN KEY ("reports_to_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL);
-- Create index "user_tenant_id_department_id" to table: "users"
CREATE INDEX "user_tenant_id_department_id" ON "users" ("tenant_id", "department_id");
-- Create index "user_tenant_id_email_lookup" to table: "users"
CREATE UNIQUE INDEX "user_tenant_id_email_lookup" ON "users" ("tenant_id", "email_lookup");
-- Create index "user_tenant_id_reports_to_id" to table: "users"
CREATE INDEX "user_tenant_id_reports_to_id" ON "users" ("tenant_id", "reports_to_id");
-- Modify "customers" table
ALTER TABLE "customers" ADD CONSTRAINT "customers_departments_department" FOREIGN KEY ("department_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE SET NULL, ADD CONSTRAINT "customers_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "customers_users_owner" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Modify "departments" table
ALTER TABLE "departments" ADD CONSTRAINT "departments_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "departments_users_leader" FOREIGN KEY ("leader_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE SET NULL;
-- Modify "roles" table
ALTER TABLE "roles" ADD CONSTRAINT "roles_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "role_grants" table
ALTER TABLE "role_grants" ADD CONSTRAINT "role_grants_roles_role" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "role_grants_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "role_grants_users_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "sessions" table
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "sessions_users_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
-- Modify "users" table
ALTER TABLE "users" ADD CONSTRAINT "users_departments_department" FOREIGN KEY ("department_id") REFERENCES "departments" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION, ADD CONSTRAINT "users_tenants_tenant" FOREIGN KEY ("tenant_id") REFERENCES "tenants" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION;
