package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/followup"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/vault"
)

// ListQuery is the G1 query: a page of customers with their owner and
// their last follow-up (whose content is encrypted).
const ListQuery = `query($n: Int!) { customers(first: $n) { edges { node { id name lastFollowUpAt owner { id name } ` +
	`followUps(first: 1, orderBy: {field: CREATED_AT, direction: DESC}) { edges { node { id type content createdAt } } } } } } }`

// Manager returns the email of the seeded manager who leads the first
// department.
func (e *Env) Manager() string {
	p := e.Seeded.People
	return p.People[p.Departments[0].Leader].Email
}

// HTTPClient returns a client for the bench server that keeps enough idle
// connections for n concurrent callers.
func HTTPClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = n+4, n+4
	return &http.Client{Transport: t, Timeout: 60 * time.Second}
}

// Login signs in a seeded user and returns the session token.
func (e *Env) Login(ctx context.Context, client *http.Client, email string) (string, error) {
	body, _ := json.Marshal(map[string]string{"tenant": Tenant, "email": email, "password": Password})
	status, out, err := e.post(ctx, client, "/auth/login", "", string(body))
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("%w: sign-in %s: %d %s", errStatus, email, status, out)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(out, &tok); err != nil {
		return "", err
	}
	return tok.Token, nil
}

// GraphQL runs query with vars on server and returns the raw data. An
// answer with errors is an error.
func GraphQL(ctx context.Context, client *http.Client, serverURL, token, query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 {
		return nil, fmt.Errorf("%w: GraphQL %d %s", errStatus, resp.StatusCode, out.Errors)
	}
	return out.Data, nil
}

// scope is what a viewer's customer scope reaches: their own customers and
// those of their department tree.
type scope struct {
	tenantID, userID pulid.ID
	departments      []string
}

// loadViewer loads the viewer of a seeded user as a session would.
func (e *Env) loadViewer(ctx context.Context, email string) (*viewer.Viewer, error) {
	for _, p := range e.Seeded.People.People {
		if p.Email == email {
			l, err := authn.LoadViewer(ctx, e.Store.Client, e.Seeded.TenantID, p.ID, time.Now())
			if err != nil {
				return nil, err
			}
			return l.Viewer, nil
		}
	}
	return nil, fmt.Errorf("bench: no seeded user %s", email)
}

func scopeOf(v *viewer.Viewer) scope {
	s := scope{tenantID: v.TenantID, userID: v.UserID}
	for _, d := range v.DepartmentTree {
		s.departments = append(s.departments, string(d))
	}
	return s
}

// The baseline's answer: the same shape and field order as the GraphQL
// data.
type (
	baseData struct {
		Customers struct {
			Edges []baseEdge `json:"edges"`
		} `json:"customers"`
	}
	baseEdge struct {
		Node baseCustomer `json:"node"`
	}
	baseCustomer struct {
		ID             string     `json:"id"`
		Name           string     `json:"name"`
		LastFollowUpAt *time.Time `json:"lastFollowUpAt"`
		Owner          *baseUser  `json:"owner"`
		FollowUps      struct {
			Edges []baseFollowUpEdge `json:"edges"`
		} `json:"followUps"`
	}
	baseUser struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	baseFollowUpEdge struct {
		Node baseFollowUp `json:"node"`
	}
	baseFollowUp struct {
		ID        string    `json:"id"`
		Type      string    `json:"type"`
		Content   *string   `json:"content"`
		CreatedAt time.Time `json:"createdAt"`
	}
)

// baselineSQL is the hand-written equivalent of ListQuery under a
// department-tree scope.
const baselineSQL = `SELECT c.id, c.name, c.last_follow_up_at, u.id, u.name, f.id, f.type, f.content, f.data_key, f.created_at
FROM customers c
LEFT JOIN users u ON u.id = c.owner_id
LEFT JOIN LATERAL (
  SELECT id, type, content, data_key, created_at FROM follow_ups
  WHERE tenant_id = c.tenant_id AND customer_id = c.id AND deleted_at IS NULL
  ORDER BY created_at DESC, id DESC LIMIT 1) f ON true
WHERE c.tenant_id = $1 AND c.deleted_at IS NULL AND (c.owner_id = $2 OR c.department_id = ANY($3))
ORDER BY c.id LIMIT $4`

// baseline answers ListQuery's data with one pgx query and encoding/json,
// decrypting the follow-up content as the GraphQL answer does.
func (e *Env) baseline(ctx context.Context, db *sql.DB, s scope, n int) ([]byte, error) {
	rows, err := db.QueryContext(ctx, baselineSQL, string(s.tenantID), string(s.userID), s.departments, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var data baseData
	data.Customers.Edges = []baseEdge{}
	for rows.Next() {
		var (
			c                      baseCustomer
			last, fCreated         sql.NullTime
			uID, uName, fID, fType sql.NullString
			content, key           []byte
		)
		if err := rows.Scan(&c.ID, &c.Name, &last, &uID, &uName, &fID, &fType, &content, &key, &fCreated); err != nil {
			return nil, err
		}
		if last.Valid {
			c.LastFollowUpAt = &last.Time
		}
		if uID.Valid {
			c.Owner = &baseUser{ID: uID.String, Name: uName.String}
		}
		c.FollowUps.Edges = []baseFollowUpEdge{}
		if fID.Valid {
			f := baseFollowUp{ID: fID.String, Type: fType.String, CreatedAt: fCreated.Time}
			if len(content) > 0 {
				ref := vault.Ref{TenantID: string(s.tenantID), Table: "FollowUp", RowID: fID.String}
				plain, err := e.Store.Client.Vault.OpenString(ctx, ref, key, "content", content)
				if err != nil {
					return nil, err
				}
				f.Content = &plain
			}
			c.FollowUps.Edges = append(c.FollowUps.Edges, baseFollowUpEdge{Node: f})
		}
		data.Customers.Edges = append(data.Customers.Edges, baseEdge{Node: c})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// BaselineServer serves the baseline over HTTP for the manager's scope:
// POST /list?n=50 answers {"data": …}.
func (e *Env) BaselineServer(ctx context.Context) (*httptest.Server, error) {
	v, err := e.loadViewer(ctx, e.Manager())
	if err != nil {
		return nil, err
	}
	s := scopeOf(v)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 50
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		data, err := e.baseline(r.Context(), e.Pgx, s, n)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":`))
		w.Write(data)
		w.Write([]byte(`}`))
	}))
	return srv, nil
}

// G1 returns the pair of G1: GraphQL through the full HTTP stack as the
// signed-in manager (A) and the baseline over HTTP (B), after checking
// that both answer byte-identical data.
func (e *Env) G1(ctx context.Context, workers int) (a, b Op, cleanup func(), err error) {
	client := HTTPClient(workers)
	token, err := e.Login(ctx, client, e.Manager())
	if err != nil {
		return nil, nil, nil, err
	}
	base, err := e.BaselineServer(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	vars := map[string]any{"n": 50}
	fetchBase := func(ctx context.Context) (json.RawMessage, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.URL+"/list?n=50", nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var out struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return nil, err
		}
		return out.Data, nil
	}
	got, err := GraphQL(ctx, client, e.Server.URL, token, ListQuery, vars)
	if err != nil {
		base.Close()
		return nil, nil, nil, err
	}
	want, err := fetchBase(ctx)
	if err != nil {
		base.Close()
		return nil, nil, nil, err
	}
	if !bytes.Equal(got, want) {
		base.Close()
		return nil, nil, nil, fmt.Errorf("bench: the baseline's data differs from GraphQL's:\n graphql:  %.400s\n baseline: %.400s", got, want)
	}
	a = func(ctx context.Context, _, _ int) error {
		_, err := GraphQL(ctx, client, e.Server.URL, token, ListQuery, vars)
		return err
	}
	b = func(ctx context.Context, _, _ int) error {
		_, err := fetchBase(ctx)
		return err
	}
	return a, b, base.Close, nil
}

// P1 returns the pair of P1: the G1 list as ent runs it for the manager
// under the privacy rules (A) and in the system context with the
// manager's scope written out as a plain predicate (B), after checking
// that both return the same rows.
func (e *Env) P1(ctx context.Context) (a, b Op, err error) {
	v, err := e.loadViewer(ctx, e.Manager())
	if err != nil {
		return nil, nil, err
	}
	s := scopeOf(v)
	asViewer := viewer.NewContext(ctx, v)
	sys := viewer.NewSystemContext(ctx, v.TenantID, "bench P1", time.Now())
	client := e.Store.Client
	list := func(ctx context.Context, explicit bool) ([]*ent.Customer, error) {
		q := client.Customer.Query()
		if explicit {
			q.Where(customer.TenantID(s.tenantID), customer.DeletedAtIsNil(),
				customer.Or(customer.OwnerID(s.userID), customer.DepartmentIDIn(toIDs(s.departments)...)))
		}
		return q.WithOwner().WithFollowUps(func(fq *ent.FollowUpQuery) {
			fq.Order(ent.Desc(followup.FieldCreatedAt), ent.Desc(followup.FieldID))
		}).Order(ent.Asc(customer.FieldID)).Limit(50).All(ctx)
	}
	got, err := list(asViewer, false)
	if err != nil {
		return nil, nil, err
	}
	want, err := list(sys, true)
	if err != nil {
		return nil, nil, err
	}
	if len(got) != len(want) || len(got) == 0 || got[0].ID != want[0].ID || got[len(got)-1].ID != want[len(want)-1].ID {
		return nil, nil, fmt.Errorf("bench: P1 arms return different rows (%d and %d)", len(got), len(want))
	}
	a = func(context.Context, int, int) error { _, err := list(asViewer, false); return err }
	b = func(context.Context, int, int) error { _, err := list(sys, true); return err }
	return a, b, nil
}

func toIDs(ss []string) []pulid.ID {
	out := make([]pulid.ID, len(ss))
	for i, s := range ss {
		out[i] = pulid.ID(s)
	}
	return out
}

// E1 returns the pair of E1: a 50-row page with three encrypted fields
// (mobile, email, address) selected (A) and the same page without them
// (B), as the signed-in manager through the full HTTP stack.
func (e *Env) E1(ctx context.Context) (a, b Op, err error) {
	client := HTTPClient(2)
	token, err := e.Login(ctx, client, e.Manager())
	if err != nil {
		return nil, nil, err
	}
	with, without := E1Queries()
	op := func(q string) Op {
		return func(ctx context.Context, _, _ int) error {
			_, err := GraphQL(ctx, client, e.Server.URL, token, q, nil)
			return err
		}
	}
	if err := op(with)(ctx, 0, 0); err != nil {
		return nil, nil, err
	}
	return op(with), op(without), nil
}

// E1Queries returns the E1 page with the three encrypted fields and
// without them.
func E1Queries() (with, without string) {
	return `{ customers(first: 50) { edges { node { id name level industry mobile email address } } } }`,
		`{ customers(first: 50) { edges { node { id name level industry } } } }`
}
