package command

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/audit"
)

// errChainBroken is returned when a chain does not verify.
var errChainBroken = errors.New("the audit trail does not verify")

// AuditVerify checks the audit hash chain of one tenant (--tenant) or of
// every tenant, printing a line per tenant, and fails naming the first bad
// event.
func AuditVerify(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	slug := fs.String("tenant", "", "tenant slug (default: every tenant)")
	dbURL := fs.String("database-url", "", "database URL (default CUSTOS_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var cfgArgs []string
	if *dbURL != "" {
		cfgArgs = []string{"--database-url", *dbURL}
	}
	_, logger, st, err := openStore(ctx, "audit verify", cfgArgs, env, false)
	if err != nil {
		return err
	}
	defer st.Close()
	sys := systemContext(ctx, logger, env.Clock, "", "verify audit trail")
	q := st.Client.Tenant.Query().Order(tenant.BySlug())
	if *slug != "" {
		q.Where(tenant.Slug(*slug))
	}
	tenants, err := q.All(sys)
	if err != nil {
		return fmt.Errorf("listing tenants: %w", err)
	}
	if *slug != "" && len(tenants) == 0 {
		return fmt.Errorf("no tenant %q", *slug)
	}
	var broken error
	for _, t := range tenants {
		n, problem, err := audit.Verify(ctx, st.DB, string(t.ID))
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t.Slug, err)
		}
		if problem != nil {
			fmt.Fprintf(env.Stdout, "%s: BROKEN at event %s (seq %d): %s\n", t.Slug, problem.EventID, problem.Seq, problem.Reason)
			if broken == nil {
				broken = fmt.Errorf("%w: tenant %s, first bad event %s (seq %d): %s", errChainBroken, t.Slug, problem.EventID, problem.Seq, problem.Reason)
			}
			continue
		}
		fmt.Fprintf(env.Stdout, "%s: ok, %d events\n", t.Slug, n)
	}
	return broken
}
