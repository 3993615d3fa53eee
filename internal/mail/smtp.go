package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"
)

// Sender sends e-mail.
type Sender interface {
	// Send sends m. Test a failure with IsPermanent to decide whether to try
	// again later.
	Send(ctx context.Context, m Message) error
}

// SMTP is a Sender that hands each message to an SMTP server over a
// connection of its own. It is safe for concurrent use.
type SMTP struct {
	cfg Config
	now func() time.Time
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a Sender for the server that cfg describes; now gives the
// time for the Date header and must not be nil. A cfg that is not valid is
// reported by every Send, as a permanent error.
func NewSMTP(cfg Config, now func() time.Time) *SMTP {
	if now == nil {
		panic("mail: NewSMTP: now is nil")
	}
	return &SMTP{cfg: cfg.withDefaults(), now: now}
}

// Send sends m: it connects, protects the connection with TLS as the Config
// says (a server in starttls mode that does not offer STARTTLS is an error),
// authenticates with AUTH PLAIN when a user name is configured and hands
// over the message. It gives up when ctx is done or after the Config's
// Timeout, whichever comes first.
//
// Errors never contain the password or the message; test them with
// IsPermanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := s.cfg.validate(); err != nil {
		return &sendError{op: "config", permanent: true, err: err}
	}
	raw, err := build(s.cfg.From, m, s.now())
	if err != nil {
		return &sendError{op: "message", permanent: true, err: err}
	}
	timeoutErr := fmt.Errorf("the %s timeout expired: %w", s.cfg.Timeout, context.DeadlineExceeded)
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.Timeout, timeoutErr)
	defer cancel()
	return s.send(ctx, m.To.Address, raw)
}

// send runs one SMTP conversation.
func (s *SMTP) send(ctx context.Context, to string, raw []byte) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", s.cfg.addr())
	if err != nil {
		return fail(ctx, "connect", err)
	}
	defer conn.Close()
	// When ctx is done, whether cancelled or past the timeout, a deadline in
	// the past interrupts the read or write in progress; ctx.Err is set by
	// then, so fail reports the cause.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{
		ServerName: s.cfg.Host,
		RootCAs:    s.cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
	var session net.Conn = conn
	if s.cfg.TLS == TLSImplicit {
		tlsConn := tls.Client(conn, tlsConfig)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return fail(ctx, "TLS handshake", err)
		}
		session = tlsConn
	}

	client, err := smtp.NewClient(session, s.cfg.Host)
	if err != nil {
		return fail(ctx, "greeting", err)
	}
	defer client.Close()
	if err := client.Hello(helloName(conn.LocalAddr())); err != nil {
		return fail(ctx, "EHLO", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return fail(ctx, "STARTTLS", errors.New("the server does not offer STARTTLS; refusing to continue in clear text"))
		}
		if err := client.StartTLS(tlsConfig); err != nil {
			return fail(ctx, "STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		auth := plainAuth{
			username:   s.cfg.Username,
			password:   s.cfg.Password,
			allowClear: s.cfg.TLS == TLSNone,
		}
		if err := client.Auth(auth); err != nil {
			return fail(ctx, "AUTH", err)
		}
	}
	if err := client.Mail(s.cfg.From.Address); err != nil {
		return fail(ctx, "MAIL FROM", err)
	}
	if err := client.Rcpt(to); err != nil {
		return fail(ctx, "RCPT TO", err)
	}
	w, err := client.Data()
	if err != nil {
		return fail(ctx, "DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return fail(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail(ctx, "DATA", err)
	}
	// The server has accepted the message; a failed QUIT changes nothing.
	_ = client.Quit()
	return nil
}

// helloName is the name given in EHLO: the address literal of the local
// end of the connection, as RFC 5321 asks of a client without a DNS name.
func helloName(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP == nil {
		return "localhost"
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return "[" + ip4.String() + "]"
	}
	return "[IPv6:" + tcp.IP.String() + "]"
}

// plainAuth is AUTH PLAIN (RFC 4616). Unlike smtp.PlainAuth, it trusts the
// Config's validation, which allows clear text only towards loopback hosts,
// instead of its own list of local host names.
type plainAuth struct {
	username, password string
	allowClear         bool
}

// Start begins AUTH PLAIN with the whole credential, refusing to send it in
// clear text unless allowed.
func (a plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !a.allowClear {
		return "", nil, errors.New("refusing to send the password without TLS")
	}
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

// Next refuses a challenge, which AUTH PLAIN does not have.
func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge from the server")
	}
	return nil, nil
}

// sendError is a failure of Send, named by the step that failed.
type sendError struct {
	op        string
	permanent bool
	err       error
}

// Error returns the step and what went wrong.
func (e *sendError) Error() string { return "mail: " + e.op + ": " + e.err.Error() }

// Unwrap returns the underlying error.
func (e *sendError) Unwrap() error { return e.err }

// fail wraps err from step op, classifying it: a 5xx reply is permanent;
// network failures, 4xx replies and the end of ctx are not.
func fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return &sendError{op: op, err: fmt.Errorf("%w (%w)", context.Cause(ctx), err)}
	}
	var reply *textproto.Error
	permanent := errors.As(err, &reply) && reply.Code >= 500 && reply.Code <= 599
	return &sendError{op: op, permanent: permanent, err: err}
}

// IsPermanent reports whether err, returned by Send, means that sending the
// same message again will fail the same way: the server refused it with a
// 5xx reply (such as 550 for an unknown recipient, or 535 for wrong
// credentials), or the message or the Config is not valid. Network
// failures, timeouts, TLS failures, a server without STARTTLS, 4xx replies
// and a cancelled context are temporary: trying again later may succeed.
func IsPermanent(err error) bool {
	var e *sendError
	return errors.As(err, &e) && e.permanent
}
