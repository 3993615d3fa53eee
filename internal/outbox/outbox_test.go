package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/outboxmessage"
	_ "github.com/custos-crm/custos/ent/runtime"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/webhooks"
)

// receiver is a webhook endpoint on loopback that records what it gets.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	status int
}

type delivery struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createEndpoint(t *testing.T, a *apptest.App, token, url string, events ...string) (id, secret string) {
	t.Helper()
	var out struct {
		CreateWebhookEndpoint struct {
			Endpoint struct{ ID string }
			Secret   string
		}
	}
	a.GraphQL(t, token, `mutation($in: WebhookEndpointInput!) { createWebhookEndpoint(input: $in) { endpoint { id } secret } }`,
		map[string]any{"in": map[string]any{"url": url, "events": events}}).MustSucceed(t).Decode(t, &out)
	return out.CreateWebhookEndpoint.Endpoint.ID, out.CreateWebhookEndpoint.Secret
}

func messages(t *testing.T, a *apptest.App, tenantID pulid.ID) []*ent.OutboxMessage {
	t.Helper()
	ms, err := a.Client().OutboxMessage.Query().Where(outboxmessage.TenantID(tenantID)).Order(outboxmessage.ByCreatedAt()).All(a.System(tenantID))
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestWebhooksAreSignedAndSentAfterCommit(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusOK)
		endpointID, secret := createEndpoint(t, a, token, rcv.URL+"/hook", "customer.created", "customer.updated")
		other, _ := createEndpoint(t, a, token, rcv.URL+"/other", "customer.deleted", "contact.created")
		if !strings.HasPrefix(secret, "whsec_") {
			t.Fatalf("secret %q", secret)
		}

		var created struct{ CreateCustomer struct{ ID string } }
		a.GraphQL(t, token, `mutation { createCustomer(input: {name: "Acme 有限公司", mobile: "13800138000"}) { id } }`, nil).
			MustSucceed(t).Decode(t, &created)
		waitFor(t, 10*time.Second, "the delivery", func() bool { return len(rcv.deliveries()) == 1 })
		d := rcv.deliveries()[0]

		if err := webhooks.Verify(d.header, d.body, secret, a.Clock.Now(), 5*time.Minute); err != nil {
			t.Fatalf("signature does not verify: %v\n%s\n%v", err, d.body, d.header)
		}
		tampered := []byte(strings.Replace(string(d.body), "customer.created", "customer.deleted", 1))
		if err := webhooks.Verify(d.header, tampered, secret, a.Clock.Now(), 5*time.Minute); !errors.Is(err, webhooks.ErrSignature) {
			t.Fatalf("tampered body: %v", err)
		}
		var env webhooks.Envelope
		if err := json.Unmarshal(d.body, &env); err != nil {
			t.Fatal(err)
		}
		if env.Event != "customer.created" || env.Data.ID != created.CreateCustomer.ID || env.Data.Type != "Customer" ||
			env.TenantID != string(tn.Tenant.ID) || env.ID != d.header.Get(webhooks.HeaderDelivery) || d.header.Get(webhooks.HeaderEvent) != "customer.created" {
			t.Fatalf("envelope %+v, headers %v", env, d.header)
		}
		if strings.Contains(string(d.body), "13800138000") || strings.Contains(string(d.body), "Acme") {
			t.Fatalf("the payload carries record data: %s", d.body)
		}

		// An update names the changed fields.
		a.Clock.Advance(time.Second)
		a.GraphQL(t, token, `mutation($id: ID!) { updateCustomer(id: $id, input: {name: "Acme Ltd"}) { id } }`,
			map[string]any{"id": created.CreateCustomer.ID}).MustSucceed(t)
		waitFor(t, 10*time.Second, "the update delivery", func() bool { return len(rcv.deliveries()) == 2 })
		if err := json.Unmarshal(rcv.deliveries()[1].body, &env); err != nil {
			t.Fatal(err)
		}
		if env.Event != "customer.updated" || len(env.Data.ChangedFields) != 1 || env.Data.ChangedFields[0] != "name" {
			t.Fatalf("update envelope %+v", env)
		}

		// The delivery log shows both, delivered on the first attempt.
		var log struct {
			WebhookDeliveries struct {
				Edges []struct {
					Node struct {
						Event, State string
						Attempts     int
						LastStatus   *int
					}
				}
			}
		}
		waitFor(t, 5*time.Second, "the log", func() bool {
			ms := messages(t, a, tn.Tenant.ID)
			return len(ms) == 2 && ms[0].State == outboxmessage.StateDelivered && ms[1].State == outboxmessage.StateDelivered
		})
		a.GraphQL(t, token, `query($id: ID!) { webhookDeliveries(endpointID: $id) { edges { node { event state attempts lastStatus } } } }`,
			map[string]any{"id": endpointID}).MustSucceed(t).Decode(t, &log)
		if n := log.WebhookDeliveries.Edges; len(n) != 2 || n[0].Node.Event != "customer.updated" || n[0].Node.State != "delivered" ||
			n[0].Node.Attempts != 1 || n[0].Node.LastStatus == nil || *n[0].Node.LastStatus != 200 {
			t.Fatalf("delivery log %+v", log)
		}

		// Another endpoint gets only its events: a new contact, and the
		// deletion of the customer.
		a.GraphQL(t, token, `mutation($id: ID!) { createContact(input: {customerID: $id, name: "Wang"}) { id } }`,
			map[string]any{"id": created.CreateCustomer.ID}).MustSucceed(t)
		a.GraphQL(t, token, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": created.CreateCustomer.ID}).MustSucceed(t)
		waitFor(t, 10*time.Second, "the other endpoint's deliveries", func() bool { return len(rcv.deliveries()) == 4 })
		var events []string
		for _, d := range rcv.deliveries()[2:] {
			if d.header.Get("User-Agent") == "" || !strings.HasSuffix(d.header.Get("Content-Type"), "json") {
				t.Fatalf("headers %v", d.header)
			}
			events = append(events, d.header.Get(webhooks.HeaderEvent))
		}
		if strings.Join(events, ",") != "contact.created,customer.deleted" && strings.Join(events, ",") != "customer.deleted,contact.created" {
			t.Fatalf("other endpoint got %v", events)
		}
		_ = other
		time.Sleep(200 * time.Millisecond)
		if n := len(rcv.deliveries()); n != 4 {
			t.Fatalf("%d deliveries, want 4", n)
		}
		waitFor(t, 5*time.Second, "all four delivered", func() bool {
			for _, m := range messages(t, a, tn.Tenant.ID) {
				if m.State != outboxmessage.StateDelivered {
					return false
				}
			}
			return true
		})

		// Operations: readyz reports the job queue, metrics count jobs and
		// deliveries by state.
		if body := get(t, a.Server.URL+"/readyz"); !strings.Contains(body, `"jobs":"ok"`) {
			t.Fatalf("readyz: %s", body)
		}
		metrics := get(t, a.Server.URL+"/metrics")
		for _, want := range []string{
			`custos_outbox_deliveries_total{kind="webhook",outcome="delivered"} 4`,
			`custos_outbox_messages{kind="webhook",state="delivered"} 4`,
			`custos_jobs{state="completed"}`,
			`custos_jobs_worked_total{kind="outbox.deliver",outcome="completed"} 4`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

func TestRolledBackChangesSendNothing(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		tn := a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusOK)
		createEndpoint(t, a, token, rcv.URL, "customer.created")

		// The first createCustomer succeeds, the second fails: the
		// mutation's transaction rolls both back.
		res := a.GraphQL(t, token, `mutation { a: createCustomer(input: {name: "kept?"}) { id } b: createCustomer(input: {name: ""}) { id } }`, nil)
		if len(res.Errors) == 0 {
			t.Fatalf("the second customer was accepted: %s", res.Raw)
		}
		// A change made in a transaction that the caller rolls back.
		errRollback := errors.New("roll back")
		err := a.TryTx(a.System(tn.Tenant.ID), func(c *ent.Client) error {
			if _, err := c.Customer.Create().SetName("rolled back").Save(a.System(tn.Tenant.ID)); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		// A committed change afterwards is delivered, and it is the only one.
		a.GraphQL(t, token, `mutation { createCustomer(input: {name: "committed"}) { id } }`, nil).MustSucceed(t)
		waitFor(t, 10*time.Second, "the committed delivery", func() bool { return len(rcv.deliveries()) == 1 })
		time.Sleep(300 * time.Millisecond)
		if n := len(rcv.deliveries()); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		if n := len(messages(t, a, tn.Tenant.ID)); n != 1 {
			t.Fatalf("%d outbox messages, want 1", n)
		}
	})
}

func TestFailingEndpointIsRetriedWithBackoffThenDead(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		retry := outbox.RetryPolicy{MaxAttempts: 2, Base: time.Minute, Max: time.Hour}
		a := apptest.NewWith(t, dialect, apptest.Options{Retry: retry})
		tn := a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusInternalServerError)
		createEndpoint(t, a, token, rcv.URL, "customer.created")
		a.GraphQL(t, token, `mutation { createCustomer(input: {name: "Acme"}) { id } }`, nil).MustSucceed(t)

		var m *ent.OutboxMessage
		waitFor(t, 10*time.Second, "the first attempt to be recorded", func() bool {
			ms := messages(t, a, tn.Tenant.ID)
			m = ms[0]
			return len(ms) == 1 && m.Attempts == 1
		})
		first := a.Clock.Now()
		if m.State != outboxmessage.StatePending || m.LastStatus == nil || *m.LastStatus != 500 ||
			m.LastError == nil || *m.LastError != "HTTP 500" || !m.NextAttemptAt.Equal(first.Add(time.Minute)) {
			t.Fatalf("after one failure: %+v", m)
		}
		// Nothing more happens before the back-off has passed.
		time.Sleep(300 * time.Millisecond)
		if n := len(rcv.deliveries()); n != 1 {
			t.Fatalf("%d attempts before the back-off passed", n)
		}
		a.Clock.Advance(time.Minute)
		// River moves due retries every few seconds.
		waitFor(t, 15*time.Second, "the second attempt", func() bool {
			return messages(t, a, tn.Tenant.ID)[0].Attempts == 2
		})
		m = messages(t, a, tn.Tenant.ID)[0]
		if m.State != outboxmessage.StateDead || len(rcv.deliveries()) != 2 {
			t.Fatalf("after the last attempt: state %s, %d deliveries", m.State, len(rcv.deliveries()))
		}
		// Both attempts carried the same delivery id.
		ds := rcv.deliveries()
		if ds[0].header.Get(webhooks.HeaderDelivery) != ds[1].header.Get(webhooks.HeaderDelivery) {
			t.Fatal("a retry carries another delivery id")
		}
		// The endpoint's creator is told.
		var inbox struct {
			MyNotifications struct {
				Edges []struct {
					Node struct{ Kind, Title, Body string }
				}
			}
		}
		a.GraphQL(t, token, `{ myNotifications { edges { node { kind title body } } } }`, nil).MustSucceed(t).Decode(t, &inbox)
		if e := inbox.MyNotifications.Edges; len(e) != 1 || e[0].Node.Kind != "webhook.dead" || !strings.Contains(e[0].Node.Body, rcv.URL) {
			t.Fatalf("inbox %+v", inbox)
		}
		// Once the endpoint works again, the admin sends it once more.
		rcv.mu.Lock()
		rcv.status = http.StatusOK
		rcv.mu.Unlock()
		a.GraphQL(t, token, `mutation($id: ID!) { redeliverWebhookMessage(id: $id) { state } }`, map[string]any{"id": string(m.ID)}).MustSucceed(t)
		waitFor(t, 10*time.Second, "the redelivery", func() bool {
			return messages(t, a, tn.Tenant.ID)[0].State == outboxmessage.StateDelivered
		})
		if ds := rcv.deliveries(); len(ds) != 3 || ds[2].header.Get(webhooks.HeaderDelivery) != ds[0].header.Get(webhooks.HeaderDelivery) {
			t.Fatalf("%d deliveries after the redelivery", len(ds))
		}
		res := a.GraphQL(t, token, `mutation($id: ID!) { redeliverWebhookMessage(id: $id) { state } }`, map[string]any{"id": string(m.ID)})
		if len(res.Errors) != 1 || res.Errors[0].Pointers()[0] != "/id" {
			t.Fatalf("redelivering a delivered message: %s", res.Raw)
		}
	})
}

func TestRetryPolicyBackoff(t *testing.T) {
	p := outbox.DefaultRetry()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, 64 * time.Minute, 2 * time.Hour, 2 * time.Hour}
	for i, w := range want {
		if got := p.Backoff(i + 1); got != w {
			t.Errorf("after %d failures: %v, want %v", i+1, got, w)
		}
	}
}

func TestWebhookToAPrivateAddressIsRefusedAtDelivery(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{StrictWebhooks: true})
		tn := a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusOK)
		// An https URL passes the check at save time; localhost resolves
		// to a loopback address only when the delivery dials.
		port := rcv.URL[strings.LastIndex(rcv.URL, ":")+1:]
		createEndpoint(t, a, token, "https://localhost:"+port+"/hook", "customer.created")
		a.GraphQL(t, token, `mutation { createCustomer(input: {name: "Acme"}) { id } }`, nil).MustSucceed(t)
		var m *ent.OutboxMessage
		waitFor(t, 10*time.Second, "the refusal", func() bool {
			ms := messages(t, a, tn.Tenant.ID)
			m = ms[0]
			return m.Attempts == 1
		})
		if m.State != outboxmessage.StateDead || m.LastError == nil || !strings.Contains(*m.LastError, "non-public address") {
			t.Fatalf("message %+v", m)
		}
		if n := len(rcv.deliveries()); n != 0 {
			t.Fatalf("the private address got %d requests", n)
		}
		// Saving an http:// URL is refused with a pointer.
		res := a.GraphQL(t, token, `mutation { createWebhookEndpoint(input: {url: "http://example.com/x", events: ["customer.created", "nope"]}) { secret } }`, nil)
		if len(res.Errors) != 1 || res.Errors[0].Code() != "BAD_USER_INPUT" ||
			strings.Join(res.Errors[0].Pointers(), ",") != "/input/url,/input/events/1" {
			t.Fatalf("bad endpoint: %s", res.Raw)
		}
	})
}

func TestSecretRotationSignsWithBothSecretsDuringOverlap(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.New(t, dialect)
		a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusOK)
		id, oldSecret := createEndpoint(t, a, token, rcv.URL, "customer.created")
		var rotated struct{ RotateWebhookSecret struct{ Secret string } }
		a.GraphQL(t, token, `mutation($id: ID!) { rotateWebhookSecret(id: $id, overlapHours: 1) { secret } }`,
			map[string]any{"id": id}).MustSucceed(t).Decode(t, &rotated)
		newSecret := rotated.RotateWebhookSecret.Secret
		if newSecret == oldSecret || newSecret == "" {
			t.Fatal("rotation kept the secret")
		}
		send := func(n int) delivery {
			a.GraphQL(t, token, `mutation { createCustomer(input: {name: "Acme"}) { id } }`, nil).MustSucceed(t)
			waitFor(t, 10*time.Second, "a delivery", func() bool { return len(rcv.deliveries()) == n })
			return rcv.deliveries()[n-1]
		}
		d := send(1)
		for _, s := range []string{oldSecret, newSecret} {
			if err := webhooks.Verify(d.header, d.body, s, a.Clock.Now(), time.Minute); err != nil {
				t.Fatalf("during the overlap: %v", err)
			}
		}
		a.Clock.Advance(61 * time.Minute)
		token = a.Login(t, "acme", "admin@acme.test")
		d = send(2)
		if err := webhooks.Verify(d.header, d.body, newSecret, a.Clock.Now(), time.Minute); err != nil {
			t.Fatalf("new secret after the overlap: %v", err)
		}
		if err := webhooks.Verify(d.header, d.body, oldSecret, a.Clock.Now(), time.Minute); !errors.Is(err, webhooks.ErrSignature) {
			t.Fatalf("old secret after the overlap: %v", err)
		}
	})
}

func TestPingRunsAsTheUserWhoAskedAndStopsWhenTheirRightsAreGone(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		a := apptest.NewWith(t, dialect, apptest.Options{NoJobs: true})
		tn := a.NewTenant(t, "acme")
		token := a.Login(t, "acme", "admin@acme.test")
		rcv := newReceiver(t, http.StatusOK)
		id, _ := createEndpoint(t, a, token, rcv.URL, "customer.created")
		a.GraphQL(t, token, `mutation($id: ID!) { pingWebhookEndpoint(id: $id) }`, map[string]any{"id": id}).MustSucceed(t)
		// The admin loses the right before the job runs.
		ctx := a.System(tn.Tenant.ID)
		a.Tx(t, ctx, func(c *ent.Client) error {
			_, err := c.RoleGrant.Delete().Exec(ctx)
			return err
		})
		if err := a.Background.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Background.Stop(context.Background()) })
		admin2 := a.NewUser(t, tn, apptest.UserSpec{Email: "boss@acme.test", Roles: []*ent.Role{tn.Role("admin")}})
		token2 := a.Login(t, "acme", "boss@acme.test")
		_ = admin2
		var jobs struct {
			Jobs struct {
				Jobs []struct {
					Kind, State string
					LastError   *string
					StartedBy   *string
				}
			}
		}
		waitFor(t, 10*time.Second, "the ping job to end", func() bool {
			a.GraphQL(t, token2, `{ jobs { jobs { kind state lastError startedBy } } }`, nil).MustSucceed(t).Decode(t, &jobs)
			for _, j := range jobs.Jobs.Jobs {
				if j.Kind == "webhooks.ping" && j.State == "cancelled" {
					return true
				}
			}
			return false
		})
		for _, j := range jobs.Jobs.Jobs {
			if j.Kind == "webhooks.ping" && (j.LastError == nil || !strings.HasPrefix(*j.LastError, "FORBIDDEN") || j.StartedBy == nil) {
				t.Fatalf("ping job %+v: %v", j, deref(j.LastError))
			}
			if j.LastError != nil && strings.Contains(strings.ToLower(*j.LastError), "ent:") {
				t.Fatalf("internal text in the job list: %q", *j.LastError)
			}
		}
		if n := len(rcv.deliveries()); n != 0 {
			t.Fatalf("%d pings sent without the right", n)
		}
		// With the right, the ping goes out.
		a.GraphQL(t, token2, `mutation($id: ID!) { pingWebhookEndpoint(id: $id) }`, map[string]any{"id": id}).MustSucceed(t)
		waitFor(t, 10*time.Second, "the ping", func() bool { return len(rcv.deliveries()) == 1 })
		if e := rcv.deliveries()[0].header.Get(webhooks.HeaderEvent); e != "ping" {
			t.Fatalf("event %q", e)
		}
		// A sales user may not list jobs.
		sales := a.NewUser(t, tn, apptest.UserSpec{Email: "s@acme.test", Roles: []*ent.Role{tn.Role("sales")}})
		_ = sales
		res := a.GraphQL(t, a.Login(t, "acme", "s@acme.test"), `{ jobs { jobs { kind } } }`, nil)
		if len(res.Errors) != 1 || res.Errors[0].Code() != "FORBIDDEN" {
			t.Fatalf("sales listed jobs: %s", res.Raw)
		}
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestReadyzReportsAStoppedQueue(t *testing.T) {
	a := apptest.NewWith(t, storetest.SQLite, apptest.Options{NoJobs: true})
	resp, err := http.Get(a.Server.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"jobs":"not working"`) {
		t.Fatalf("readyz %d %s", resp.StatusCode, b)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
