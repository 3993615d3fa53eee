package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/webhooks"
)

// buildBinary builds the custos binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "custos")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("building the binary: %v", err)
	}
	return bin
}

// process is a `custos serve` running as a real process.
type process struct {
	cmd  *exec.Cmd
	base string
}

func startProcess(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if os.Getenv("CUSTOS_TEST_SERVER_STDERR") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "custos: listening on "); ok {
				addr <- url
			}
		}
		close(addr)
	}()
	select {
	case p.base = <-addr:
		if p.base == "" {
			t.Fatal("the server exited before listening")
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not start")
	}
	return p
}

// hangingReceiver is a well-behaved webhook receiver: it verifies the
// signature and performs each delivery's effect once, deduplicating on the
// delivery id. It answers slowly, and holds one request without answering
// until the sender dies: that delivery is in flight when the server is
// killed.
type hangingReceiver struct {
	*httptest.Server
	hangAt  int
	hanging chan struct{}

	mu             sync.Mutex
	secret         string
	requests       int
	badSigs        int
	inflight       int
	inflightAtKill int
	restarted      bool
	before         map[string]bool // ids requested before the restart
	after          map[string]int  // requests per id after the restart
	effects        map[string]int  // effects performed per id
}

func newHangingReceiver(t *testing.T, hangAt int) *hangingReceiver {
	r := &hangingReceiver{hangAt: hangAt, hanging: make(chan struct{}),
		before: map[string]bool{}, after: map[string]int{}, effects: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		id := req.Header.Get(webhooks.HeaderDelivery)
		r.mu.Lock()
		r.requests++
		r.inflight++
		n, secret := r.requests, r.secret
		if r.restarted {
			r.after[id]++
		} else {
			r.before[id] = true
		}
		r.mu.Unlock()
		defer func() { r.mu.Lock(); r.inflight--; r.mu.Unlock() }()
		if n == r.hangAt {
			close(r.hanging)
			<-req.Context().Done() // the sender dies
			return
		}
		time.Sleep(50 * time.Millisecond)
		r.mu.Lock()
		defer r.mu.Unlock()
		if webhooks.Verify(req.Header, body, secret, time.Now(), 5*time.Minute) != nil {
			r.badSigs++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if r.effects[id] == 0 {
			r.effects[id]++ // the receiver's effect, once per delivery id
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hangingReceiver) killed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflightAtKill = r.inflight
}

func (r *hangingReceiver) restart() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restarted = true
}

func (r *hangingReceiver) done() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.effects)
}

// TestJobsSurviveAKill kills a real server process (SIGKILL) while its
// queue holds webhook deliveries, one of them in flight, and checks that
// the restarted server delivers every one, each acknowledged exactly once.
func TestJobsSurviveAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		const customers = 30
		dbURL := storetest.NewURL(t, dialect)
		keyFile := filepath.Join(t.TempDir(), "master.key")
		if _, err := vault.GenerateMasterKeyFile(keyFile); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{
			"CUSTOS_DATABASE_URL": dbURL, "CUSTOS_AUTO_MIGRATE": "true", "CUSTOS_MASTER_KEY_FILE": keyFile,
			"CUSTOS_DEV_ALLOW_LOOPBACK_WEBHOOKS": "true", "CUSTOS_JOB_POLL_INTERVAL": "50ms", "CUSTOS_LOG_LEVEL": "warn",
		}
		bootstrap := []string{"custos", "bootstrap", "--tenant", "acme", "--name", "Acme", "--admin-email", "root@acme.test", "--admin-password", "a long password"}
		if err := run(context.Background(), bootstrap, func(k string) string { return env[k] }, io.Discard, io.Discard); err != nil {
			t.Fatalf("bootstrap: %v", err)
		}
		rcv := newHangingReceiver(t, 6)

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
		created := gql(first.base, `mutation($in: WebhookEndpointInput!) { createWebhookEndpoint(input: $in) { secret } }`,
			map[string]any{"in": map[string]any{"url": rcv.URL + "/hook", "events": []string{"customer.created"}}})
		rcv.mu.Lock()
		rcv.secret = created["createWebhookEndpoint"].(map[string]any)["secret"].(string)
		rcv.mu.Unlock()
		for i := range customers {
			gql(first.base, fmt.Sprintf(`mutation { createCustomer(input: {name: "Customer %02d"}) { id } }`, i), nil)
		}

		// Kill the server while a delivery is in flight and others wait.
		select {
		case <-rcv.hanging:
		case <-time.After(30 * time.Second):
			t.Fatal("no delivery reached the receiver")
		}
		if err := first.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		rcv.killed()
		_ = first.cmd.Wait()
		if n := rcv.done(); n >= customers-1 {
			t.Fatalf("the queue was empty when the server died (%d delivered)", n)
		}
		deliveredBefore := rcv.done()

		rcv.restart()
		second := startProcess(t, bin, env)
		deadline := time.Now().Add(60 * time.Second)
		for rcv.done() < customers {
			if time.Now().After(deadline) {
				t.Fatalf("after the restart only %d of %d deliveries arrived", rcv.done(), customers)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // anything sent twice would arrive now
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.badSigs != 0 || len(rcv.effects) != customers {
			t.Fatalf("%d effects, %d bad signatures", len(rcv.effects), rcv.badSigs)
		}
		// The restarted server sends each delivery once; the only ones it
		// repeats from before the kill are those whose outcome the dead
		// server had not recorded (at most one per worker: 4), and they
		// carry the same delivery id, so the receiver's effect happened
		// once.
		repeated := 0
		for id, n := range rcv.after {
			if n != 1 {
				t.Errorf("delivery %s sent %d times after the restart", id, n)
			}
			if rcv.before[id] {
				repeated++
			}
		}
		const workers = 4
		if repeated < 1 || repeated > workers {
			t.Fatalf("%d deliveries repeated after the restart, %d were in flight at the kill", repeated, rcv.inflightAtKill)
		}
		t.Logf("%s: %d delivered before the kill, %d in flight, %d repeated", dialect, deliveredBefore, rcv.inflightAtKill, repeated)

		// Every delivery job completed exactly once, as the job list shows.
		data := gql(second.base, `{ jobs(state: "completed", first: 100) { jobs { kind } } }`, nil)
		completed := 0
		for _, j := range data["jobs"].(map[string]any)["jobs"].([]any) {
			if j.(map[string]any)["kind"] == "outbox.deliver" {
				completed++
			}
		}
		if completed != customers {
			t.Fatalf("%d completed delivery jobs, want %d", completed, customers)
		}
	})
}
