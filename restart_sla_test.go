package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/vault"
)

// TestSLATimersSurviveAKill runs a ticket with a one-minute SLA (a warning
// at half time) on a real server, kills the server with SIGKILL after the
// warning fired and before the breach, starts it again, and checks that
// the breach still fires and that each fired exactly once.
func TestSLATimersSurviveAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary, and waits a minute")
	}
	bin := buildBinary(t)
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel() // each dialect waits a minute of real time
		dbURL := storetest.NewURL(t, dialect)
		keyFile := filepath.Join(t.TempDir(), "master.key")
		if _, err := vault.GenerateMasterKeyFile(keyFile); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_AUTO_MIGRATE": "true", "CUSTOS_MASTER_KEY_FILE": keyFile,
			"CUSTOS_JOB_POLL_INTERVAL": "100ms", "CUSTOS_LOG_LEVEL": "warn",
		}
		bootstrap := []string{"custos", "bootstrap", "--tenant", "acme", "--name", "Acme", "--admin-email", "root@acme.test", "--admin-password", "a long password"}
		if err := run(context.Background(), bootstrap, func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		first := startProcess(t, bin, env)
		_, login := postJSON(t, first.base+"/auth/login", "", map[string]string{"tenant": "acme", "email": "root@acme.test", "password": "a long password"})
		token := login["token"].(string)
		gql := func(base, query string, vars map[string]any) map[string]any {
			t.Helper()
			status, out := postJSON(t, base+"/graphql", token, map[string]any{"query": query, "variables": vars})
			if status != http.StatusOK || out["errors"] != nil {
				t.Fatalf("GraphQL %d: %v", status, out)
			}
			return out["data"].(map[string]any)
		}
		flow := map[string]any{
			"initial": "open",
			"states": []any{
				map[string]any{"key": "open", "category": "todo"},
				map[string]any{"key": "done", "category": "done", "final": true},
			},
			"transitions": []any{map[string]any{"key": "finish", "from": []string{"open"}, "to": "done"}},
			"sla": []any{map[string]any{"key": "respond", "start": map[string]any{"enter": []string{"open"}},
				"stop": map[string]any{"enter": []string{"done"}}, "target": "1m", "calendar": "calendar", "warnAt": []float64{0.5}}},
		}
		wf := gql(first.base, `mutation($d: Map!) { createWorkflow(input: {key: "fast", module: ticket, nameZh: "快速", nameEn: "Fast", document: $d}) { id latestVersion { id } } }`,
			map[string]any{"d": flow})["createWorkflow"].(map[string]any)
		gql(first.base, `mutation($id: ID!) { publishWorkflowVersion(id: $id) { state } }`,
			map[string]any{"id": wf["latestVersion"].(map[string]any)["id"]})
		ticket := gql(first.base, `mutation($w: ID!) { createTicket(input: {title: "Server room too hot", workflowID: $w}) { id } }`,
			map[string]any{"w": wf["id"]})["createTicket"].(map[string]any)["id"].(string)

		notices := func(base string) map[string]int {
			t.Helper()
			data := gql(base, `{ myNotifications(first: 50) { edges { node { kind recordID } } } }`, nil)
			out := map[string]int{}
			for _, e := range data["myNotifications"].(map[string]any)["edges"].([]any) {
				n := e.(map[string]any)["node"].(map[string]any)
				if n["recordID"] == ticket {
					out[n["kind"].(string)]++
				}
			}
			return out
		}
		waitFor := func(base, kind string) {
			t.Helper()
			deadline := time.Now().Add(90 * time.Second)
			for notices(base)[kind] == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no %s notice", kind)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		waitFor(first.base, "sla.warning")
		if err := first.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = first.cmd.Wait()

		second := startProcess(t, bin, env)
		if n := notices(second.base); n["sla.breached"] != 0 {
			t.Fatalf("the breach fired before its time: %v", n)
		}
		waitFor(second.base, "sla.breached")
		time.Sleep(6 * time.Second) // anything queued twice would have fired by now
		if n := notices(second.base); n["sla.warning"] != 1 || n["sla.breached"] != 1 {
			t.Fatalf("notices %v, want one warning and one breach", n)
		}
		data := gql(second.base, `query($id: ID!) { node(id: $id) { ... on Ticket { history { transition } slaTimers { warningsFired breachedAt } } } }`,
			map[string]any{"id": ticket})["node"].(map[string]any)
		breaches := 0
		for _, h := range data["history"].([]any) {
			if h.(map[string]any)["transition"] == "sla.breached" {
				breaches++
			}
		}
		timer := data["slaTimers"].([]any)[0].(map[string]any)
		if breaches != 1 || timer["warningsFired"].(float64) != 1 || timer["breachedAt"] == nil {
			t.Fatalf("history has %d breaches, timer %v", breaches, timer)
		}
	})
}
