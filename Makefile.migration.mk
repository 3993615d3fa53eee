# Makefile.migration.mk: versioned database migrations (included by Makefile).
#
# The migrations live in internal/store/migrations/{postgres,sqlite}, one file
# per change and dialect plus atlas.sum, and are embedded into the binary.
# Until the first release the schema may still change freely: instead of
# stacking migrations, delete internal/store/migrations/postgres/* and
# internal/store/migrations/sqlite/* and run `make migration name=init`
# (then recreate development databases). The test TestMigrationsMatchSchema
# fails when ent/schema changed without a new migration.
#
# The PostgreSQL half needs a server to replay the migrations on: a
# temporary database is created on CUSTOS_DEV_DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and dropped.

.PHONY: migration migration-hash

migration: ## Write the next migration of both dialects from ent/schema: make migration name=add_x (before the first release, rm internal/store/migrations/*/* and use name=init)
	@test -n "$(name)" || { echo "usage: make migration name=add_x" >&2; exit 2; }
	go run ./internal/store/migrationgen.go -name "$(name)"

migration-hash: ## Rewrite the atlas.sum files after editing a migration by hand
	go run ./internal/store/migrationgen.go -hash
