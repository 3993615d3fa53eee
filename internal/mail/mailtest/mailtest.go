// Package mailtest runs an SMTP server on 127.0.0.1 for tests. It speaks
// enough of RFC 5321 for a real client: EHLO and HELO, STARTTLS, AUTH PLAIN,
// MAIL FROM, RCPT TO, DATA (with dot-unstuffing), RSET, NOOP and QUIT, over
// any number of concurrent connections, and it keeps every message it
// accepts.
package mailtest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a Server. The zero value is a clear-text server that
// accepts every message without authentication.
type Options struct {
	// TLS enables STARTTLS; the server then refuses MAIL before STARTTLS.
	TLS *tls.Config
	// Implicit makes the server speak TLS from the first byte (smtps); it
	// needs TLS.
	Implicit bool
	// Username and Password, when Username is set, make AUTH PLAIN with
	// these credentials required before MAIL. AUTH is offered once the
	// connection is protected by TLS, or at once on a server without TLS.
	Username, Password string
	// RejectRecipient, when set, is asked about each RCPT TO address; a
	// non-zero code is sent as the reply with msg, such as 550 and
	// "5.1.1 No such user", and the recipient is not added.
	RejectRecipient func(addr string) (code int, msg string)
	// Hang makes the server accept connections and then never answer, not
	// even with a greeting, for timeout tests.
	Hang bool
}

// Received is a message the server accepted.
type Received struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To lists the envelope recipients (RCPT TO).
	To []string
	// Data is the message as sent after DATA, dot-unstuffed, with its line
	// endings as received.
	Data []byte
	// Header is the message's header; it is empty when Data does not parse
	// as an RFC 5322 message.
	Header mail.Header
	// Body is the text of the body, decoded from quoted-printable or base64
	// as Content-Transfer-Encoding says, with "\n" line endings.
	Body string
	// TLS reports whether the message came over TLS.
	TLS bool
	// Username is the user that authenticated, or "".
	Username string
}

// Server is an SMTP server for tests. It is safe for concurrent use.
type Server struct {
	opts Options
	ln   net.Listener

	wg sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	conns   map[net.Conn]struct{}
	msgs    []Received
	changed chan struct{} // closed and replaced when a message arrives
}

// Start runs a server on 127.0.0.1 on a free port until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Implicit && opts.TLS == nil {
		t.Fatal("mailtest: Implicit needs a TLS config")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listening: %v", err)
	}
	s := &Server{
		opts:    opts,
		ln:      ln,
		conns:   make(map[net.Conn]struct{}),
		changed: make(chan struct{}),
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.close)
	return s
}

// Addr returns the server's address as host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the server's IP address, 127.0.0.1.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the server's TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Messages returns the messages accepted so far, in order. The caller must
// not change them.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// WaitFor waits until the server has accepted at least n messages and
// returns them all; it fails the test after timeout. Call it from the test's
// goroutine.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := slices.Clone(s.msgs)
			s.mu.Unlock()
			return msgs
		}
		got, changed := len(s.msgs), s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("mailtest: %d messages after %s, want %d", got, timeout, n)
		}
	}
}

// close stops the server, closes its connections and waits for their
// goroutines.
func (s *Server) close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

// serve accepts connections until the listener is closed.
func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		if !s.track(conn) {
			_ = conn.Close()
			return
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			defer conn.Close()
			s.handle(conn)
		}()
	}
}

// track records conn, and its goroutine in the wait group, unless the
// server is closing.
func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	return true
}

// untrack forgets conn.
func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
}

// record keeps an accepted message and wakes WaitFor.
func (s *Server) record(m Received) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
	return len(s.msgs)
}

// session is the state of one connection.
type session struct {
	srv  *Server
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	tls      bool
	greeted  bool
	username string // authenticated user

	inMail bool // MAIL FROM accepted
	from   string
	to     []string
}

// handle speaks SMTP on conn until QUIT, an error or the server's end.
func (s *Server) handle(conn net.Conn) {
	if s.opts.Hang {
		_, _ = io.Copy(io.Discard, conn)
		return
	}
	ss := &session{srv: s}
	if s.opts.Implicit {
		tlsConn := tls.Server(conn, s.opts.TLS)
		if err := tlsConn.Handshake(); err != nil {
			return
		}
		ss.setConn(tlsConn, true)
	} else {
		ss.setConn(conn, false)
	}
	// An error means that the client went away or broke the protocol; there
	// is nobody to tell, and the test sees it from the client's side.
	_ = ss.run()
}

// setConn makes conn the connection the session reads and writes.
func (ss *session) setConn(conn net.Conn, isTLS bool) {
	ss.conn = conn
	ss.r = bufio.NewReader(conn)
	ss.w = bufio.NewWriter(conn)
	ss.tls = isTLS
}

// reply sends a reply of one or more lines.
func (ss *session) reply(code int, lines ...string) error {
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, line := range lines {
		sep := " "
		if i < len(lines)-1 {
			sep = "-"
		}
		if _, err := fmt.Fprintf(ss.w, "%03d%s%s\r\n", code, sep, line); err != nil {
			return err
		}
	}
	return ss.w.Flush()
}

// readLine reads a line without its line ending.
func (ss *session) readLine() (string, error) {
	line, err := ss.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// authOffered reports whether AUTH is available now: credentials are
// configured, and the connection has TLS or the server has none to offer.
func (ss *session) authOffered() bool {
	return ss.srv.opts.Username != "" && (ss.tls || ss.srv.opts.TLS == nil)
}

// resetMail forgets the mail transaction.
func (ss *session) resetMail() {
	ss.inMail, ss.from, ss.to = false, "", nil
}

// run reads commands and answers them.
func (ss *session) run() error {
	if err := ss.reply(220, "mailtest ESMTP ready"); err != nil {
		return err
	}
	for {
		line, err := ss.readLine()
		if err != nil {
			return err
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.greeted = true
			ss.resetMail()
			lines := []string{"mailtest greets " + arg, "8BITMIME"}
			if ss.srv.opts.TLS != nil && !ss.tls {
				lines = append(lines, "STARTTLS")
			}
			if ss.authOffered() {
				lines = append(lines, "AUTH PLAIN")
			}
			lines = append(lines, "HELP")
			err = ss.reply(250, lines...)
		case "HELO":
			ss.greeted = true
			ss.resetMail()
			err = ss.reply(250, "mailtest")
		case "STARTTLS":
			switch {
			case ss.srv.opts.TLS == nil:
				err = ss.reply(502, "5.5.1 STARTTLS not available")
			case ss.tls:
				err = ss.reply(503, "5.5.1 TLS already active")
			default:
				if err = ss.reply(220, "2.0.0 Ready to start TLS"); err != nil {
					return err
				}
				tlsConn := tls.Server(ss.conn, ss.srv.opts.TLS)
				if err := tlsConn.Handshake(); err != nil {
					return err
				}
				// RFC 3207: the client starts again with EHLO.
				ss.setConn(tlsConn, true)
				ss.greeted, ss.username = false, ""
				ss.resetMail()
			}
		case "AUTH":
			err = ss.auth(arg)
		case "MAIL":
			err = ss.mail(arg)
		case "RCPT":
			err = ss.rcpt(arg)
		case "DATA":
			err = ss.data()
		case "RSET":
			ss.resetMail()
			err = ss.reply(250, "2.0.0 OK")
		case "NOOP":
			err = ss.reply(250, "2.0.0 OK")
		case "QUIT":
			_ = ss.reply(221, "2.0.0 Bye")
			return nil
		default:
			err = ss.reply(502, "5.5.2 Command not recognized")
		}
		if err != nil {
			return err
		}
	}
}

// auth handles AUTH PLAIN, with the credentials on the command line or
// after a 334 challenge.
func (ss *session) auth(arg string) error {
	switch {
	case !ss.authOffered():
		return ss.reply(503, "5.5.1 AUTH not available")
	case !ss.greeted:
		return ss.reply(503, "5.5.1 Send EHLO first")
	case ss.username != "":
		return ss.reply(503, "5.5.1 Already authenticated")
	case ss.inMail:
		return ss.reply(503, "5.5.1 AUTH not allowed during a mail transaction")
	}
	mech, initial, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		return ss.reply(504, "5.5.4 Unrecognized authentication type")
	}
	if initial == "" {
		if err := ss.reply(334, ""); err != nil {
			return err
		}
		line, err := ss.readLine()
		if err != nil {
			return err
		}
		if line == "*" {
			return ss.reply(501, "5.0.0 Authentication cancelled")
		}
		initial = line
	}
	decoded, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		return ss.reply(501, "5.5.2 Cannot decode the response")
	}
	parts := strings.Split(string(decoded), "\x00")
	if len(parts) != 3 || parts[1] != ss.srv.opts.Username || parts[2] != ss.srv.opts.Password ||
		(parts[0] != "" && parts[0] != parts[1]) {
		return ss.reply(535, "5.7.8 Authentication credentials invalid")
	}
	ss.username = parts[1]
	return ss.reply(235, "2.7.0 Authentication successful")
}

// mail handles MAIL FROM.
func (ss *session) mail(arg string) error {
	switch {
	case !ss.greeted:
		return ss.reply(503, "5.5.1 Send EHLO first")
	case ss.srv.opts.TLS != nil && !ss.tls:
		return ss.reply(530, "5.7.0 Must issue a STARTTLS command first")
	case ss.srv.opts.Username != "" && ss.username == "":
		return ss.reply(530, "5.7.0 Authentication required")
	case ss.inMail:
		return ss.reply(503, "5.5.1 Nested MAIL command")
	}
	addr, ok := parsePath(arg, "FROM:")
	if !ok {
		return ss.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
	}
	ss.inMail, ss.from = true, addr
	return ss.reply(250, "2.1.0 OK")
}

// rcpt handles RCPT TO.
func (ss *session) rcpt(arg string) error {
	if !ss.inMail {
		return ss.reply(503, "5.5.1 Need MAIL before RCPT")
	}
	addr, ok := parsePath(arg, "TO:")
	if !ok || addr == "" {
		return ss.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
	}
	if reject := ss.srv.opts.RejectRecipient; reject != nil {
		if code, msg := reject(addr); code != 0 {
			return ss.reply(code, msg)
		}
	}
	ss.to = append(ss.to, addr)
	return ss.reply(250, "2.1.5 OK")
}

// data handles DATA: it reads the message up to the line ".", undoing the
// dot-stuffing, and keeps it.
func (ss *session) data() error {
	if len(ss.to) == 0 {
		return ss.reply(503, "5.5.1 Need RCPT before DATA")
	}
	if err := ss.reply(354, "End data with <CR><LF>.<CR><LF>"); err != nil {
		return err
	}
	var data bytes.Buffer
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == ".\r\n" || line == ".\n" {
			break
		}
		data.WriteString(strings.TrimPrefix(line, "."))
	}
	m := Received{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Data:     data.Bytes(),
		Header:   mail.Header{},
		TLS:      ss.tls,
		Username: ss.username,
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
		m.Header = msg.Header
		m.Body = decodeBody(msg.Header, msg.Body)
	}
	n := ss.srv.record(m)
	ss.resetMail()
	return ss.reply(250, "2.0.0 OK: queued as "+strconv.Itoa(n))
}

// parsePath reads "FROM:<addr> params" or "TO:<addr> params", ignoring the
// parameters.
func parsePath(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.Index(rest, ">")
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// decodeBody returns the body as text, decoded as the header's
// Content-Transfer-Encoding says, with "\n" line endings. A body that does
// not decode is returned as is.
func decodeBody(h mail.Header, body io.Reader) string {
	raw, err := io.ReadAll(body)
	if err != nil {
		return ""
	}
	var decoded []byte
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		decoded, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
	case "base64":
		decoded, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(raw)))
	default:
		decoded = raw
	}
	if err != nil {
		decoded = raw
	}
	return strings.ReplaceAll(string(decoded), "\r\n", "\n")
}
