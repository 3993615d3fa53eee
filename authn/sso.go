package authn

import (
	"net/http"

	"github.com/custos-crm/custos/ent/identityprovider"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/tenant"
)

// ProviderLink is a sign-in button for the login page.
type ProviderLink struct {
	Name     string `json:"name"`
	LoginURL string `json:"loginURL"`
}

// Providers handles GET /auth/providers?tenant=SLUG: the enabled identity
// providers of a tenant, for the login page. An unknown tenant has none.
func (s *Service) Providers() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := rule.NewPreAuthContext(r.Context())
		slug := r.URL.Query().Get("tenant")
		out := []ProviderLink{}
		t, err := s.client.Tenant.Query().Where(tenant.Slug(slug)).Only(ctx)
		if err == nil {
			ps, err := s.client.IdentityProvider.Query().
				Where(identityprovider.TenantID(t.ID), identityprovider.Enabled(true)).All(ctx)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			for _, p := range ps {
				login, _ := s.ProviderURLs(t.Slug, p)
				out = append(out, ProviderLink{Name: p.Name, LoginURL: login})
			}
		}
		writeJSON(w, out)
	})
}
