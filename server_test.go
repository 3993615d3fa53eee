package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/vault"
)

// startServer runs `custos serve` through run() on port 0 and returns its
// base URL and a function that stops it and returns run's error.
func startServer(t *testing.T, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, append([]string{"custos", "serve", "--addr", "127.0.0.1:0"}, args...), getenv, pw, io.Discard)
		_ = pw.CloseWithError(io.EOF)
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "custos: listening on "); ok {
				addr <- url
			}
		}
		close(addr)
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		t.Fatalf("server stopped before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	if base == "" {
		t.Fatalf("server stopped before listening: %v", <-done)
	}
	var stopped bool
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("server did not stop")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop
}

func postJSON(t *testing.T, url, token string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s answered %d without JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func TestBinaryEndToEnd(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		dbURL := storetest.NewURL(t, dialect)
		keyFile := filepath.Join(t.TempDir(), "master.key")
		if _, err := vault.GenerateMasterKeyFile(keyFile); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_AUTO_MIGRATE": "true", "CUSTOS_MASTER_KEY_FILE": keyFile}
		getenv := func(k string) string { return env[k] }
		ctx := context.Background()

		var out bytes.Buffer
		bootstrap := []string{"custos", "bootstrap", "--tenant", "acme", "--name", "Acme", "--admin-email", "root@acme.test", "--admin-password", "a long password"}
		if err := run(ctx, bootstrap, getenv, &out, io.Discard); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		if !strings.Contains(out.String(), "created tenant acme") {
			t.Fatalf("bootstrap said %q", out.String())
		}
		if err := run(ctx, bootstrap, getenv, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("second bootstrap: %v", err)
		}

		base, stop := startServer(t, env)
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			resp, err := http.Get(base + path)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %v %v", path, resp.StatusCode, err)
			}
			resp.Body.Close()
		}
		status, login := postJSON(t, base+"/auth/login", "", map[string]string{"tenant": "acme", "email": "root@acme.test", "password": "a long password"})
		if status != http.StatusOK {
			t.Fatalf("login %d %v", status, login)
		}
		token := login["token"].(string)
		t.Run("custos users unlock clears a lockout", func(t *testing.T) {
			for range 3 {
				postJSON(t, base+"/auth/login", "", map[string]string{"tenant": "acme", "email": "root@acme.test", "password": "not the password"})
			}
			if status, _ := postJSON(t, base+"/auth/login", "", map[string]string{"tenant": "acme", "email": "root@acme.test", "password": "a long password"}); status != http.StatusUnauthorized {
				t.Fatalf("not locked: %d", status)
			}
			var out bytes.Buffer
			if err := run(ctx, []string{"custos", "users", "unlock", "--tenant", "acme", "--email", "ROOT@acme.test"}, getenv, &out, io.Discard); err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if status, body := postJSON(t, base+"/auth/login", "", map[string]string{"tenant": "acme", "email": "root@acme.test", "password": "a long password"}); status != http.StatusOK {
				t.Fatalf("after unlock: %d %v", status, body)
			}
		})
		status, created := postJSON(t, base+"/graphql", token, map[string]any{
			"query": `mutation { createCustomer(input: {name: "First Customer"}) { id name owner { email } } }`,
		})
		if status != http.StatusOK || created["errors"] != nil {
			t.Fatalf("mutation %d %v", status, created)
		}
		status, list := postJSON(t, base+"/graphql", token, map[string]any{
			"query": `{ viewer { user { email } tenant { slug settings { timeZone } } } customers { totalCount edges { node { name } } } }`,
		})
		b, _ := json.Marshal(list)
		if status != http.StatusOK || !strings.Contains(string(b), "First Customer") || !strings.Contains(string(b), "Asia/Shanghai") {
			t.Fatalf("query %d %s", status, b)
		}
		if err := stop(); err != nil {
			t.Fatalf("graceful stop: %v", err)
		}

		var verify bytes.Buffer
		if err := run(ctx, []string{"custos", "audit", "verify"}, getenv, &verify, io.Discard); err != nil {
			t.Fatalf("audit verify: %v (%s)", err, verify.String())
		}
		if !strings.Contains(verify.String(), "acme: ok,") {
			t.Fatalf("audit verify said %q", verify.String())
		}
		t.Run("audit verify names a tampered event", func(t *testing.T) {
			db, err := sql.Open(map[string]string{"sqlite": "sqlite", "postgres": "pgx"}[dialect],
				strings.TrimPrefix(dbURL, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var id string
			if err := db.QueryRow(`SELECT id FROM audit_events WHERE seq = 3`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE audit_events SET actor = 'someone else' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err = run(ctx, []string{"custos", "audit", "verify", "--tenant", "acme"}, getenv, &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), id) || !strings.Contains(out.String(), "BROKEN at event "+id) {
				t.Fatalf("tampering at %s: %v / %q", id, err, out.String())
			}
		})

		t.Run("a wrong master key stops the server", func(t *testing.T) {
			other := filepath.Join(t.TempDir(), "other.key")
			if _, err := vault.GenerateMasterKeyFile(other); err != nil {
				t.Fatal(err)
			}
			wrong := map[string]string{"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_MASTER_KEY_FILE": other}
			err := run(ctx, []string{"custos", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return wrong[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "master key") {
				t.Fatalf("want a master key error, got %v", err)
			}
		})
		t.Run("a missing key file stops the server", func(t *testing.T) {
			missing := map[string]string{"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_MASTER_KEY_FILE": filepath.Join(t.TempDir(), "none.key")}
			err := run(ctx, []string{"custos", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return missing[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "does not exist") {
				t.Fatalf("want a missing key file error, got %v", err)
			}
		})
	})
}

func TestPostgresNeedsAKeyFile(t *testing.T) {
	dbURL := storetest.NewURL(t, "postgres")
	env := map[string]string{"CUSTOS_DATABASE_URL": dbURL}
	err := run(context.Background(), []string{"custos", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "CUSTOS_MASTER_KEY_FILE") {
		t.Fatalf("want CUSTOS_MASTER_KEY_FILE required, got %v", err)
	}
}

func TestServeRefusesASchemaBehind(t *testing.T) {
	dbURL := storetest.NewURL(t, "sqlite")
	env := map[string]string{"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_AUTO_MIGRATE": "false"}
	err := run(context.Background(), []string{"custos", "serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "custos migrate") {
		t.Fatalf("want a schema-behind error naming custos migrate, got %v", err)
	}
}

func TestConfigProblemsAreReportedTogether(t *testing.T) {
	env := map[string]string{"CUSTOS_DATABASE_URL": "mysql://x", "CUSTOS_LOG_LEVEL": "loud", "CUSTOS_TRUSTED_PROXIES": "not-an-ip"}
	err := run(context.Background(), []string{"custos", "serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"CUSTOS_DATABASE_URL", "CUSTOS_LOG_LEVEL", "CUSTOS_TRUSTED_PROXIES"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestDemoTenant(t *testing.T) {
	env := map[string]string{"CUSTOS_DATABASE_URL": storetest.NewURL(t, "sqlite"), "CUSTOS_DEMO": "true"}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"custos", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	var (
		pass, base string
		sc         = bufio.NewScanner(pr)
	)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "Password for all of them (shown only now): "); ok {
			pass = p
		}
		if u, ok := strings.CutPrefix(line, "custos: listening on "); ok {
			base = u
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	defer func() { cancel(); <-done }()
	if pass == "" || base == "" {
		t.Fatalf("no demo password (%q) or address (%q)", pass, base)
	}
	for _, email := range []string{"admin@demo.example", "manager@demo.example", "li.na@demo.example"} {
		status, out := postJSON(t, base+"/auth/login", "", map[string]string{"tenant": "demo", "email": email, "password": pass})
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", email, status, out)
		}
		if email == "li.na@demo.example" {
			_, list := postJSON(t, base+"/graphql", out["token"].(string), map[string]any{"query": `{ customers { totalCount } }`})
			if n := list["data"].(map[string]any)["customers"].(map[string]any)["totalCount"]; n != 2.0 {
				t.Fatalf("Li Na sees %v customers, want her 2", n)
			}
			// The demo has tickets and projects on the built-in workflows.
			_, work := postJSON(t, base+"/graphql", out["token"].(string), map[string]any{"query": `{
				tickets(orderBy: {field: TITLE}) { edges { node { title state } } }
				projects { edges { node { title state } } } }`})
			data := work["data"].(map[string]any)
			tickets := data["tickets"].(map[string]any)["edges"].([]any)
			projects := data["projects"].(map[string]any)["edges"].([]any)
			if len(tickets) != 2 || len(projects) != 1 ||
				projects[0].(map[string]any)["node"].(map[string]any)["state"] != "pending_approval" {
				t.Fatalf("Li Na's demo work: %v", work)
			}
		}
	}
}
