// Package apptest builds the whole Custos application in-process for tests:
// a migrated database of the chosen dialect, the real HTTP stack behind
// httptest, and helpers to create tenants and users, sign in and run
// GraphQL. Only _test.go files import it.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/server"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/workflows"
)

// Password is the password of every user the helpers create.
const Password = "correct horse battery"

// CheapParams are argon2id parameters that keep tests fast. They are for
// tests only.
func CheapParams() password.Params {
	p := password.DefaultParams()
	p.Memory, p.Time = 64, 1
	return p
}

// App is a running application.
type App struct {
	Store  *store.Store
	Clock  *clock.Fake
	Hasher *password.Hasher
	Server *httptest.Server
	Logs   *SyncBuffer
	Vault  *vault.Vault
	Master []byte
	// PublicURL is the server's URL with the host name localhost.
	PublicURL string
	// Background is the job queue and the services on it.
	Background *server.Background
	// Registry holds the application's metrics.
	Registry *prometheus.Registry

	hash           string
	strictWebhooks bool
}

// Options change how New builds the application.
type Options struct {
	// Mail sends e-mail; nil turns e-mail off.
	Mail mail.Sender
	// Retry overrides the outbox retry policy.
	Retry outbox.RetryPolicy
	// NoJobs leaves the job queue stopped: jobs are enqueued but only run
	// once the test starts it.
	NoJobs bool
	// StrictWebhooks applies the production rules to webhooks: https
	// URLs only, no loopback or private addresses.
	StrictWebhooks bool
}

// New starts the application on a fresh database of dialect.
func New(t testing.TB, dialect string) *App {
	t.Helper()
	return NewWith(t, dialect, Options{})
}

// NewWith starts the application on a fresh database of dialect with opts.
func NewWith(t testing.TB, dialect string, opts Options) *App {
	t.Helper()
	// The fake clock starts at the real time: browsers and go-webauthn
	// judge cookie and ceremony expiry by the wall clock.
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Millisecond))
	st := storetest.Open(t, dialect, clk)
	master := make([]byte, vault.MasterKeySize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(context.Background(), master, st.KeyStore(), vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.UseVault(v)
	hasher := password.NewHasher(CheapParams(), 2)
	hash, err := hasher.Hash(context.Background(), Password)
	if err != nil {
		t.Fatal(err)
	}
	a := &App{Store: st, Clock: clk, Hasher: hasher, Logs: &SyncBuffer{}, Vault: v, Master: master, hash: hash,
		Registry: prometheus.NewRegistry(), strictWebhooks: opts.StrictWebhooks}
	if _, err := jobs.Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	a.Server = httptest.NewUnstartedServer(nil)
	// Passkeys need a host name: the relying party is localhost.
	a.PublicURL = "http://localhost:" + strconv.Itoa(a.Server.Listener.Addr().(*net.TCPAddr).Port)
	a.Background, err = server.NewBackground(server.BackgroundConfig{
		Store: st, Clock: clk, Logger: a.Logger(), Registry: a.Registry, Mail: opts.Mail,
		PublicURL: a.PublicURL, AllowLoopbackWebhooks: !opts.StrictWebhooks, Forms: formRegistry(t), PollInterval: 20 * time.Millisecond, Retry: opts.Retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !opts.NoJobs {
		if err := a.Background.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = a.Background.Stop(ctx)
		})
	}
	a.serveOn(t, a.Server, nil, files.Config{}, a.Registry)
	return a
}

// formRegistry returns the plugin registry of the test process, built and
// installed once: gojsonschema's format checkers are process-wide.
func formRegistry(t testing.TB) *forms.Registry {
	registryOnce.Do(func() {
		registry, registryErr = forms.DefaultRegistry()
		if registryErr == nil {
			registryErr = workflows.RegisterPlugins(registry)
		}
		if registryErr == nil {
			registry.InstallFormats()
		}
	})
	if registryErr != nil {
		t.Fatal(registryErr)
	}
	return registry
}

var (
	registryOnce sync.Once
	registry     *forms.Registry
	registryErr  error
)

// Logger returns a logger that writes to the app's log buffer.
func (a *App) Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(a.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// serve starts the HTTP stack a second time on the app's database and
// background services.
func (a *App) serve(t testing.TB, d *disclosure.Discloser, fc files.Config) *httptest.Server {
	srv := httptest.NewUnstartedServer(nil)
	a.PublicURL = "http://localhost:" + strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
	a.serveOn(t, srv, d, fc, prometheus.NewRegistry())
	return srv
}

// serveOn starts the HTTP stack on srv.
func (a *App) serveOn(t testing.TB, srv *httptest.Server, d *disclosure.Discloser, fc files.Config, reg *prometheus.Registry) {
	handler, err := server.NewApp(server.AppConfig{
		Store:             a.Store,
		Clock:             a.Clock,
		Hasher:            a.Hasher,
		Logger:            a.Logger(),
		Registry:          reg,
		Disclosure:        d,
		Files:             fc,
		PublicURL:         a.PublicURL,
		AllowLoopbackIdP:  true,
		Background:        a.Background,
		AllowHTTPWebhooks: !a.strictWebhooks,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = handler
	srv.Start()
	t.Cleanup(srv.Close)
}

// WithDisclosure returns the app served a second time, on the same
// database, with another disclosure policy.
func (a *App) WithDisclosure(t testing.TB, p disclosure.Policy) *App {
	b := *a
	b.Server = a.serve(t, disclosure.New(a.Vault, p), files.Config{})
	return &b
}

// WithFiles returns the app served a second time, on the same database,
// with another attachment configuration.
func (a *App) WithFiles(t testing.TB, fc files.Config) *App {
	b := *a
	b.Server = a.serve(t, nil, fc)
	return &b
}

// Tx runs fn in a transaction as ctx's viewer and commits when it
// succeeds; audited changes must run in one.
func (a *App) Tx(t testing.TB, ctx context.Context, fn func(c *ent.Client) error) {
	t.Helper()
	if err := a.TryTx(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// TryTx is Tx returning the error instead of failing the test.
func (a *App) TryTx(ctx context.Context, fn func(c *ent.Client) error) error {
	tx, err := a.Client().Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Client returns the ent client.
func (a *App) Client() *ent.Client { return a.Store.Client }

// System returns a system context for tenantID (all tenants when empty).
func (a *App) System(tenantID pulid.ID) context.Context {
	return viewer.NewSystemContext(context.Background(), tenantID, "test", a.Clock.Now())
}

// Tenant is a tenant created for a test.
type Tenant struct {
	*tenancy.Created
	Slug string
}

// Role returns the built-in role with key.
func (tn *Tenant) Role(key string) *ent.Role { return tn.Roles[key] }

// NewTenant creates a tenant whose administrator is admin@<slug>.test.
func (a *App) NewTenant(t testing.TB, slug string) *Tenant {
	t.Helper()
	created, err := tenancy.Create(a.System(""), a.Client(), tenancy.Spec{
		Slug: slug, Name: "Tenant " + slug, AdminEmail: "admin@" + slug + ".test", AdminPasswordHash: a.hash,
	})
	if err != nil {
		t.Fatalf("creating tenant %s: %v", slug, err)
	}
	return &Tenant{Created: created, Slug: slug}
}

// UserSpec describes a user to create.
type UserSpec struct {
	Email      string
	Department pulid.ID
	ReportsTo  pulid.ID
	Roles      []*ent.Role
	// ExpiresAt, when set, is the expiry of every grant.
	ExpiresAt time.Time
}

// NewUser creates a user in tn as the system.
func (a *App) NewUser(t testing.TB, tn *Tenant, spec UserSpec) *ent.User {
	t.Helper()
	ctx := a.System(tn.Tenant.ID)
	if spec.Department == "" {
		spec.Department = tn.Department.ID
	}
	var u *ent.User
	a.Tx(t, ctx, func(client *ent.Client) error {
		c := client.User.Create().SetEmail(secret.Plain(spec.Email)).SetName(strings.Split(spec.Email, "@")[0]).
			SetPasswordHash(a.hash).SetDepartmentID(spec.Department)
		if spec.ReportsTo != "" {
			c.SetReportsToID(spec.ReportsTo)
		}
		var err error
		if u, err = c.Save(ctx); err != nil {
			return fmt.Errorf("creating user %s: %w", spec.Email, err)
		}
		for _, r := range spec.Roles {
			g := client.RoleGrant.Create().SetUserID(u.ID).SetRoleID(r.ID)
			if !spec.ExpiresAt.IsZero() {
				g.SetExpiresAt(spec.ExpiresAt)
			}
			if _, err := g.Save(ctx); err != nil {
				return fmt.Errorf("granting %s: %w", r.Name, err)
			}
		}
		return nil
	})
	return u
}

// NewDepartment creates a department under parent (the root when empty).
func (a *App) NewDepartment(t testing.TB, tn *Tenant, name string, parent pulid.ID, leader pulid.ID) *ent.Department {
	t.Helper()
	if parent == "" {
		parent = tn.Department.ID
	}
	var d *ent.Department
	a.Tx(t, a.System(tn.Tenant.ID), func(client *ent.Client) error {
		c := client.Department.Create().SetName(name).SetParentID(parent)
		if leader != "" {
			c.SetLeaderID(leader)
		}
		var err error
		d, err = c.Save(a.System(tn.Tenant.ID))
		return err
	})
	return d
}

// Post sends a JSON POST to path with the given headers and returns the
// response and its body.
func (a *App) Post(t testing.TB, path string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if s, ok := body.(string); ok {
		buf.WriteString(s)
	} else if err := json.NewEncoder(&buf).Encode(body); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.Server.URL+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := a.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

// Login signs in and returns the session token.
func (a *App) Login(t testing.TB, tenantSlug, email string) string {
	t.Helper()
	resp, body := a.Post(t, "/auth/login", map[string]string{"tenant": tenantSlug, "email": email, "password": Password}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s/%s: %d %s", tenantSlug, email, resp.StatusCode, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Token
}

// GQLError is a GraphQL error as clients see it.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the error's extensions.code.
func (e GQLError) Code() string { s, _ := e.Extensions["code"].(string); return s }

// Pointers returns the pointers of the error's field items.
func (e GQLError) Pointers() []string {
	items, _ := e.Extensions["errors"].([]any)
	var out []string
	for _, it := range items {
		m, _ := it.(map[string]any)
		p, _ := m["pointer"].(string)
		out = append(out, p)
	}
	return out
}

// Result is a GraphQL response.
type Result struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
	Raw    []byte          `json:"-"`
}

// Decode unmarshals the data into dst.
func (r Result) Decode(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, dst); err != nil {
		t.Fatalf("decoding %s: %v", r.Data, err)
	}
}

// MustSucceed fails the test when r carries errors.
func (r Result) MustSucceed(t testing.TB) Result {
	t.Helper()
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("GraphQL failed: %d %s", r.Status, r.Raw)
	}
	return r
}

// GraphQL runs a query with a bearer token.
func (a *App) GraphQL(t testing.TB, token, query string, vars map[string]any) Result {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return a.GraphQLWith(t, h, query, vars)
}

// GraphQLWith runs a query with the given headers.
func (a *App) GraphQLWith(t testing.TB, h http.Header, query string, vars map[string]any) Result {
	t.Helper()
	resp, body := a.Post(t, "/graphql", map[string]any{"query": query, "variables": vars}, h)
	res := Result{Status: resp.StatusCode, Raw: body}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decoding response %d %q: %v", resp.StatusCode, body, err)
	}
	return res
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
