package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/vault"
)

// statementCounter is a TCP proxy in front of PostgreSQL that counts the
// statements clients run: simple queries ('Q') and executions of the
// extended protocol ('E'). It sees every statement whatever the driver,
// which is what G2 needs.
type statementCounter struct {
	ln     net.Listener
	target string
	n      atomic.Int64

	mu   sync.Mutex
	seen []string // the statements run while recording
	rec  bool
}

// record starts or stops recording the text of every statement run.
func (c *statementCounter) record(on bool) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seen
	c.rec, c.seen = on, nil
	return out
}

func (c *statementCounter) ran(text string) {
	c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec {
		c.seen = append(c.seen, text)
	}
}

func newStatementCounter(target string) (*statementCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &statementCounter{ln: ln, target: target}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go c.handle(conn)
		}
	}()
	return c, nil
}

func (c *statementCounter) Close() error { return c.ln.Close() }

func (c *statementCounter) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", c.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(client, server)
		client.Close()
	}()
	r := bufio.NewReader(client)
	// Start-up messages have no type byte; SSL and GSS requests come
	// before the real one.
	for {
		msg, err := readUntyped(r)
		if err != nil {
			return
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
		code := binary.BigEndian.Uint32(msg[4:8])
		if code != 80877103 && code != 80877104 {
			break
		}
	}
	// Prepared statements by name, and the one bound last: an Execute
	// runs it.
	prepared := map[string]string{}
	bound := ""
	head := make([]byte, 5)
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(head[1:])) - 4
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch head[0] {
		case 'Q':
			// database/sql's liveness check of an idle connection is
			// not a statement of the request.
			if q := cString(body, 0); q != "-- ping" {
				c.ran(q)
			}
		case 'P':
			name := cString(body, 0)
			prepared[name] = cString(body, len(name)+1)
		case 'B':
			portal := cString(body, 0)
			bound = prepared[cString(body, len(portal)+1)]
		case 'E':
			c.ran(bound)
		}
		if _, err := server.Write(append(head, body...)); err != nil {
			return
		}
		head = make([]byte, 5)
	}
}

// cString returns the NUL-terminated string at b[at:].
func cString(b []byte, at int) string {
	if at >= len(b) {
		return ""
	}
	for i := at; i < len(b); i++ {
		if b[i] == 0 {
			return string(b[at:i])
		}
	}
	return string(b[at:])
}

func readUntyped(r *bufio.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(l[:]))
	if n < 8 || n > 1<<20 {
		return nil, fmt.Errorf("bench: odd start-up message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, l[:])
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}

// Counted is an application served on the bench database through a
// statement counter.
type Counted struct {
	URL     string
	counter *statementCounter
	close   func()
}

// Close stops the application and the counter.
func (c *Counted) Close() { c.close() }

// Statements runs query as token once to warm caches (roles, prepared
// statements), then three more times, and returns the statements of the
// run that caused the fewest, in order. The fewest, because a request may
// also do work that belongs to no page: touching the session's last-seen
// time (once a minute) or reloading the viewer when its cache entry
// expires; a statement every run needs (an N+1 query) shows in all three.
func (c *Counted) Statements(ctx context.Context, client *http.Client, token, query string, vars map[string]any) ([]string, error) {
	if _, err := GraphQL(ctx, client, c.URL, token, query, vars); err != nil {
		return nil, err
	}
	var fewest []string
	for i := range 3 {
		c.counter.record(true)
		_, err := GraphQL(ctx, client, c.URL, token, query, vars)
		stmts := c.counter.record(false)
		if err != nil {
			return nil, err
		}
		if i == 0 || len(stmts) < len(fewest) {
			fewest = stmts
		}
	}
	return fewest, nil
}

// Counted serves the application a second time on the bench database,
// its connections passing through a statement counter.
func (e *Env) Counted(ctx context.Context) (*Counted, error) {
	u, err := url.Parse(e.DatabaseURL)
	if err != nil {
		return nil, err
	}
	counter, err := newStatementCounter(u.Host)
	if err != nil {
		return nil, err
	}
	proxied := *u
	proxied.Host = counter.ln.Addr().String()
	st, err := store.Open(ctx, proxied.String(), clock.System{})
	if err != nil {
		counter.Close()
		return nil, err
	}
	v, err := vault.Open(ctx, masterKey(), st.KeyStore(), vault.Options{})
	if err != nil {
		st.Close()
		counter.Close()
		return nil, err
	}
	st.UseVault(v)
	srv, err := e.serve(st)
	if err != nil {
		st.Close()
		counter.Close()
		return nil, err
	}
	return &Counted{URL: srv.URL, counter: counter, close: func() { srv.Close(); st.Close(); counter.Close() }}, nil
}

// G2 returns the SQL statements of the G1 request at page sizes 10 and
// 100, as the signed-in manager through the full HTTP stack (the session
// lookup included).
func (e *Env) G2(ctx context.Context) (small, large []string, err error) {
	c, err := e.Counted(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	client := HTTPClient(1)
	token, err := e.Login(ctx, client, e.Manager())
	if err != nil {
		return nil, nil, err
	}
	if small, err = c.Statements(ctx, client, token, ListQuery, map[string]any{"n": 10}); err != nil {
		return nil, nil, err
	}
	large, err = c.Statements(ctx, client, token, ListQuery, map[string]any{"n": 100})
	return small, large, err
}
