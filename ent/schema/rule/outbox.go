package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

type outboxWriteKey struct{}

// NewOutboxWriteContext marks ctx as the outbox and the notifier recording a
// side effect in the transaction of the change that causes it: whoever may
// make the change may cause its notifications and deliveries, without
// permission to read or change them otherwise. Only internal/outbox and
// internal/notify may call it.
func NewOutboxWriteContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, outboxWriteKey{}, true)
}

func isOutboxWrite(ctx context.Context) bool {
	ok, _ := ctx.Value(outboxWriteKey{}).(bool)
	return ok
}

// AllowOutboxWrite lets the outbox write context create rows; it never
// updates or deletes them.
func AllowOutboxWrite() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if isOutboxWrite(ctx) && m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowOutboxRead lets the outbox write context read what it needs to decide
// on a side effect (a recipient's notification preferences).
func AllowOutboxRead() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		if isOutboxWrite(ctx) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowOwnRowUpdates lets signed-in users update rows whose user_id is
// their own (marking their notifications read); they create and delete
// none.
func AllowOwnRowUpdates() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || !v.Authenticated() || !m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) {
			return privacy.Skip
		}
		return privacy.FilterFunc(func(_ context.Context, f privacy.Filter) error {
			uf, ok := f.(interface{ WhereUserID(entql.StringP) })
			if !ok {
				return privacy.Denyf("unexpected filter type %T", f)
			}
			uf.WhereUserID(entql.StringEQ(string(v.UserID)))
			return privacy.Allow
		}).EvalMutation(ctx, m)
	})
}

type historyWriteKey struct{}

// NewHistoryWriteContext marks ctx as the workflow engine appending to a
// record's transition history. Only internal/workitems may call it.
func NewHistoryWriteContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, historyWriteKey{}, true)
}

// IsHistoryWrite reports whether ctx is the engine appending history.
func IsHistoryWrite(ctx context.Context) bool {
	ok, _ := ctx.Value(historyWriteKey{}).(bool)
	return ok
}
