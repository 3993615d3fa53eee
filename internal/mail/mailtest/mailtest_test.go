package mailtest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/mail/mailtest"
)

// dial opens a conversation with srv and reads the greeting.
func dial(t *testing.T, srv *mailtest.Server) *textproto.Conn {
	t.Helper()
	conn, err := textproto.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	expect(t, conn, "", 220)
	return conn
}

// expect sends cmd, unless empty, and checks the reply's code.
func expect(t *testing.T, conn *textproto.Conn, cmd string, code int) string {
	t.Helper()
	if cmd != "" {
		if err := conn.PrintfLine("%s", cmd); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	got, msg, err := conn.ReadResponse(0)
	if err != nil {
		t.Fatalf("%s: reading the reply: %v", cmd, err)
	}
	if got != code {
		t.Fatalf("%s: reply %d %s, want %d", cmd, got, msg, code)
	}
	return msg
}

func TestConversation(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	c := dial(t, srv)
	expect(t, c, "MAIL FROM:<a@x.test>", 503) // before EHLO
	expect(t, c, "EHLO client.test", 250)
	expect(t, c, "RCPT TO:<b@x.test>", 503) // before MAIL
	expect(t, c, "DATA", 503)               // before RCPT
	expect(t, c, "NOOP", 250)
	expect(t, c, "VRFY b@x.test", 502)
	expect(t, c, "MAIL FROM:<discarded@x.test>", 250)
	expect(t, c, "RCPT TO:<discarded@x.test>", 250)
	expect(t, c, "RSET", 250)
	expect(t, c, "RCPT TO:<b@x.test>", 503) // RSET ended the transaction
	expect(t, c, "mail from:<a@x.test> BODY=8BITMIME", 250)
	expect(t, c, "RCPT TO:<b@x.test>", 250)
	expect(t, c, "RCPT TO: <c@x.test>", 250)
	expect(t, c, "DATA", 354)
	for _, line := range []string{
		"Subject: dots",
		"Content-Transfer-Encoding: quoted-printable",
		"",
		"..one dot",
		"...two dots",
		"caf=C3=A9",
		".",
	} {
		if err := c.PrintfLine("%s", line); err != nil {
			t.Fatal(err)
		}
	}
	expect(t, c, "", 250)
	expect(t, c, "QUIT", 221)

	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if got.From != "a@x.test" || strings.Join(got.To, ",") != "b@x.test,c@x.test" {
		t.Errorf("envelope %s -> %q", got.From, got.To)
	}
	wantData := "Subject: dots\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n.one dot\r\n..two dots\r\ncaf=C3=A9\r\n"
	if string(got.Data) != wantData {
		t.Errorf("Data = %q, want %q", got.Data, wantData)
	}
	if got.Header.Get("Subject") != "dots" {
		t.Errorf("Subject = %q", got.Header.Get("Subject"))
	}
	if want := ".one dot\n..two dots\ncafé\n"; got.Body != want {
		t.Errorf("Body = %q, want %q", got.Body, want)
	}
	if got.TLS || got.Username != "" {
		t.Errorf("TLS = %v, user = %q on a plain server", got.TLS, got.Username)
	}
}

func TestStartTLSAndAuthRequired(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Username: "u", Password: "p"})

	c := dial(t, srv)
	ehlo := expect(t, c, "EHLO client.test", 250)
	if !strings.Contains(ehlo, "STARTTLS") || strings.Contains(ehlo, "AUTH") {
		t.Errorf("EHLO before TLS = %q, want STARTTLS and no AUTH", ehlo)
	}
	expect(t, c, "MAIL FROM:<a@x.test>", 530)
	expect(t, c, "AUTH PLAIN AHUAcA==", 503)

	client, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: roots}); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if ok, _ := client.Extension("STARTTLS"); ok {
		t.Error("STARTTLS still offered over TLS")
	}
	if ok, mechs := client.Extension("AUTH"); !ok || mechs != "PLAIN" {
		t.Errorf("AUTH over TLS = %v %q, want PLAIN", ok, mechs)
	}
	err = client.Mail("a@x.test")
	var reply *textproto.Error
	if !errors.As(err, &reply) || reply.Code != 530 {
		t.Errorf("MAIL before AUTH = %v, want 530", err)
	}
	if err := client.Auth(smtp.PlainAuth("", "u", "wrong", "127.0.0.1")); !errors.As(err, &reply) || reply.Code != 535 {
		t.Errorf("AUTH with a wrong password = %v, want 535", err)
	}

	client, err = smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: roots}); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := client.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	send(t, client, "a@x.test", "b@x.test", "Subject: hi\r\n\r\nhello\r\n")
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	if !got.TLS || got.Username != "u" || got.Body != "hello\n" {
		t.Errorf("received TLS = %v, user = %q, body = %q", got.TLS, got.Username, got.Body)
	}
}

func TestAuthWithChallenge(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Username: "u", Password: "p"})
	c := dial(t, srv)
	expect(t, c, "EHLO client.test", 250)
	expect(t, c, "AUTH PLAIN", 334)
	expect(t, c, "AHUAcA==", 235) // "\x00u\x00p"
	expect(t, c, "MAIL FROM:<a@x.test>", 250)
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Implicit: true})
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{ServerName: "localhost", RootCAs: roots})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	client, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatalf("greeting: %v", err)
	}
	defer client.Close()
	if ok, _ := client.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered over implicit TLS")
	}
	send(t, client, "a@x.test", "b@x.test", "Subject: hi\r\n\r\nhello\r\n")
	if got := srv.WaitFor(t, 1, 5*time.Second)[0]; !got.TLS {
		t.Error("message not marked as received over TLS")
	}
}

func TestRejectRecipient(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{RejectRecipient: func(addr string) (int, string) {
		if strings.HasPrefix(addr, "nobody@") {
			return 550, "5.1.1 No such user"
		}
		return 0, ""
	}})
	c := dial(t, srv)
	expect(t, c, "EHLO client.test", 250)
	expect(t, c, "MAIL FROM:<a@x.test>", 250)
	if msg := expect(t, c, "RCPT TO:<nobody@x.test>", 550); msg != "5.1.1 No such user" {
		t.Errorf("reply text %q", msg)
	}
	expect(t, c, "DATA", 503)
	expect(t, c, "RCPT TO:<somebody@x.test>", 250)
}

func TestHang(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Hang: true})
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(make([]byte, 1))
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("Read = %d, %v; want a timeout", n, err)
	}
}

func TestConcurrentConnections(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			msg := fmt.Sprintf("Subject: %d\r\n\r\nmessage %d\r\n", i, i)
			errs <- smtp.SendMail(srv.Addr(), nil, "a@x.test", []string{fmt.Sprintf("r%d@x.test", i)}, []byte(msg))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("SendMail: %v", err)
		}
	}
	got := srv.WaitFor(t, n, 5*time.Second)
	seen := map[string]bool{}
	for _, m := range got {
		seen[m.Header.Get("Subject")] = true
	}
	if len(got) != n || len(seen) != n {
		t.Errorf("got %d messages with %d distinct subjects, want %d", len(got), len(seen), n)
	}
	if len(srv.Messages()) != n {
		t.Errorf("Messages() has %d, want %d", len(srv.Messages()), n)
	}
}

func TestAddr(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	if want := net.JoinHostPort(srv.Host(), fmt.Sprint(srv.Port())); srv.Addr() != want || srv.Host() != "127.0.0.1" || srv.Port() == 0 {
		t.Errorf("Addr = %q, Host = %q, Port = %d", srv.Addr(), srv.Host(), srv.Port())
	}
}

// send hands one message to client and quits.
func send(t *testing.T, client *smtp.Client, from, to, msg string) {
	t.Helper()
	if err := client.Mail(from); err != nil {
		t.Fatalf("MAIL: %v", err)
	}
	if err := client.Rcpt(to); err != nil {
		t.Fatalf("RCPT: %v", err)
	}
	w, err := client.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatalf("writing the message: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("ending the message: %v", err)
	}
	if err := client.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}
