// Package graph owns the GraphQL API: the hand-written schema beside the
// generated ent.graphql, thin resolvers, the error presenter and the HTTP
// handler with its limits.
package graph

import (
	"context"

	"github.com/custos-crm/custos/authn"

	"entgo.io/contrib/entgql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/graph/model"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/directory"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/webhooks"
	"github.com/custos-crm/custos/internal/workflows"
	"github.com/custos-crm/custos/internal/workitems"
)

// DefaultPageSize is the page size of a list asked for without first or
// last.
const DefaultPageSize = 20

// MaxPageSize is the largest first or last accepted.
const MaxPageSize = 100

// Resolver holds what resolvers need. It is built once in NewHandler.
type Resolver struct {
	client    *ent.Client
	clock     clock.Clock
	directory *directory.Service
	disclose  *disclosure.Discloser
	audit     *audit.Reader
	files     *files.Service
	auth      *authn.Service
	jobs      *jobs.Queue
	outbox    *outbox.Service
	notify    *notify.Service
	webhooks  webhooks.Service
	forms     *formdefs.Service
	workflows *workflows.Service
	workitems *workitems.Service
}

// renderNotification renders a notification in the viewer's language.
func (r *Resolver) renderNotification(ctx context.Context, n *ent.Notification) (notify.Rendered, error) {
	return r.notify.Render(ctx, r.client, n.Kind, n.RecordID, n.Params)
}

// toPointers returns pointers to the elements of s, the shape gqlgen wants
// for lists of objects.
func toPointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// providerURLs returns the sign-in and callback URLs of an identity
// provider. The tenant is read through the provider's own client, which is
// the transaction's inside a mutation.
func (r *Resolver) providerURLs(ctx context.Context, p *ent.IdentityProvider) (login, callback string, err error) {
	t, err := p.QueryTenant().Only(ctx)
	if err != nil {
		return "", "", err
	}
	login, callback = r.auth.ProviderURLs(t.Slug, p)
	return login, callback, nil
}

// pageSize applies the default page size to a list called without first or
// last.
func pageSize(first, last *int) *int {
	if first == nil && last == nil {
		n := DefaultPageSize
		return &n
	}
	return first
}

// viewer returns the signed-in viewer with their user, tenant and
// permissions.
func (r *Resolver) viewer(ctx context.Context) (*model.Viewer, error) {
	v := viewer.FromContext(ctx)
	u, err := r.client.User.Query().Where(user.ID(v.UserID)).WithTenant().Only(ctx)
	if err != nil {
		return nil, err
	}
	out := &model.Viewer{User: u, Tenant: u.Edges.Tenant, Permissions: []*model.ViewerPermission{}}
	for _, p := range viewer.AllPermissions() {
		if s, ok := v.ScopeFor(p); ok {
			out.Permissions = append(out.Permissions, &model.ViewerPermission{Permission: p, Scope: s})
		}
	}
	return out, nil
}

// reveal returns a personal field of a record as the disclosure policy lets
// the viewer see it.
func (r *Resolver) reveal(ctx context.Context, f *disclosure.Field, tenantID, id pulid.ID, key []byte, v secret.Text) (*string, error) {
	return r.disclose.Reveal(ctx, f, string(tenantID), string(id), key, v.Ciphertext())
}

// The personal fields the resolvers reveal, described once.
var (
	attachmentFilename = disclosure.NewField("Attachment", "filename", "filename")
	contactMobile      = disclosure.NewField("Contact", "mobile", "mobile")
	contactTelephone   = disclosure.NewField("Contact", "telephone", "telephone")
	contactWechat      = disclosure.NewField("Contact", "wechat", "wechat")
	contactEmail       = disclosure.NewField("Contact", "email", "email")
	contactNotes       = disclosure.NewField("Contact", "notes", "notes")
	customerMobile     = disclosure.NewField("Customer", "mobile", "mobile")
	customerTelephone  = disclosure.NewField("Customer", "telephone", "telephone")
	customerWechat     = disclosure.NewField("Customer", "wechat", "wechat")
	customerEmail      = disclosure.NewField("Customer", "email", "email")
	customerAddress    = disclosure.NewField("Customer", "address", "address")
	customerNotes      = disclosure.NewField("Customer", "notes", "notes")
	followUpContent    = disclosure.NewField("FollowUp", "content", "content")
	userEmail          = disclosure.NewField("User", "email", "email")
)

// blindIndex returns the index a filter value must match, nil when the value
// cannot be of the kind (so that nothing matches).
func (r *Resolver) blindIndex(ctx context.Context, kind personal.Kind, raw *string) ([]byte, error) {
	if raw == nil {
		return nil, nil
	}
	idx, _, err := personal.QueryIndex(ctx, r.client, r.client.Vault, viewer.FromContext(ctx).TenantID, kind, *raw)
	return idx, err
}

// newestFirst orders audit events newest first unless the client chose.
func newestFirst(o *ent.AuditEventOrder) *ent.AuditEventOrder {
	if o != nil {
		return o
	}
	return &ent.AuditEventOrder{Direction: entgql.OrderDirectionDesc, Field: ent.AuditEventOrderFieldCreatedAt}
}
