package audit

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// ErrNoTx is returned when an event would be written outside a transaction.
var ErrNoTx = errors.New("audit: events must be written in a transaction")

// Event is what happened, before it is stored.
type Event struct {
	TenantID   pulid.ID
	Category   auditevent.Category
	Action     string
	EntityType string
	EntityID   pulid.ID
	Changes    []Change
	// ActorID names the actor when it is not the viewer in ctx, as for a
	// sign-in attempt made before any viewer exists.
	ActorID pulid.ID
}

// Write stores ev in tx, with the actor, request id and client address taken
// from ctx, and arranges for it to be sealed into the chain at commit (or
// by the Sealer soon after, when another commit holds the chain head).
func Write(ctx context.Context, tx *ent.Tx, ev Event) error {
	if tx == nil {
		return ErrNoTx
	}
	c := tx.Client()
	changes := ev.Changes
	if changes == nil {
		changes = []Change{}
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	v := viewer.FromContext(ctx)
	create := c.AuditEvent.Create().
		SetTenantID(ev.TenantID).
		SetCategory(ev.Category).
		SetAction(ev.Action).
		SetChanges(string(raw)).
		SetCreatedAt(c.Clock.Now().UTC().Truncate(time.Microsecond))
	switch {
	case ev.ActorID != "":
		create.SetActorID(ev.ActorID).SetActor(string(ev.ActorID))
	case v != nil && !v.System:
		create.SetActorID(v.UserID).SetActor(string(v.UserID))
	case v != nil:
		create.SetActor(ActorLabel("", true, v.Reason))
	default:
		create.SetActor(ActorLabel("", true, "pre-authentication"))
	}
	if ev.EntityType != "" {
		create.SetEntityType(ev.EntityType).SetEntityID(ev.EntityID)
	}
	info := requestinfo.FromContext(ctx)
	if info.ID != "" {
		create.SetRequestID(info.ID)
	}
	if info.ClientIP != "" {
		create.SetIP(info.ClientIP)
	}
	// Saved rather than executed: the tenant hook may have set the tenant
	// from the viewer, and the event is sealed in the chain of the tenant
	// it was stored under.
	saved, err := create.Save(rule.NewAuditWriteContext(ctx))
	if err != nil {
		return err
	}
	SealOnCommit(tx, c.Dialect(), string(saved.TenantID))
	return nil
}
