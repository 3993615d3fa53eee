package mail_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/mail/mailtest"
)

const (
	testUser     = "custos"
	testPassword = "Pw-0f-The-Test" // distinctive, so that a leak is easy to spot
)

// sender is the From address of every test.
func sender() netmail.Address {
	return netmail.Address{Name: "Custos", Address: "noreply@custos.test"}
}

// fixedNow is the injected clock of every test.
func fixedNow() time.Time {
	return time.Date(2025, 3, 14, 9, 30, 0, 0, time.FixedZone("CST", 8*60*60))
}

// configFor returns a Config for srv.
func configFor(srv *mailtest.Server, mode mail.TLSMode, roots *x509.CertPool) mail.Config {
	return mail.Config{
		Host:    srv.Host(),
		Port:    srv.Port(),
		From:    sender(),
		TLS:     mode,
		RootCAs: roots,
		Timeout: 10 * time.Second,
	}
}

// message returns a message with a Chinese subject and body.
func message(id string) mail.Message {
	return mail.Message{
		To:        netmail.Address{Name: "王小明", Address: "wang@example.test"},
		Subject:   "跟进提醒：上海云杉科技有限公司",
		Text:      "您好！\n\n今天需要跟进上海云杉科技有限公司。\n.这一行以句点开头。\n",
		MessageID: id + "@custos.test",
		Locale:    "zh-CN",
	}
}

// checkReceived asserts that got is m, sent by sender on the fixed date.
func checkReceived(t *testing.T, got mailtest.Received, m mail.Message) {
	t.Helper()
	if got.From != sender().Address {
		t.Errorf("MAIL FROM = %q, want %q", got.From, sender().Address)
	}
	if len(got.To) != 1 || got.To[0] != m.To.Address {
		t.Errorf("RCPT TO = %q, want [%q]", got.To, m.To.Address)
	}
	date, err := got.Header.Date()
	if err != nil || !date.Equal(fixedNow()) {
		t.Errorf("Date = %v (%v), want %v", date, err, fixedNow())
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(got.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, m.Subject)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || *to[0] != m.To {
		t.Errorf("To = %v (%v), want %v", to, err, m.To)
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || *from[0] != sender() {
		t.Errorf("From = %v (%v), want %v", from, err, sender())
	}
	if id := got.Header.Get("Message-ID"); id != "<"+m.MessageID+">" {
		t.Errorf("Message-ID = %q, want <%s>", id, m.MessageID)
	}
	if got.Body != m.Text {
		t.Errorf("body = %q, want %q", got.Body, m.Text)
	}
}

func TestSendStartTLSWithAuth(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Username: testUser, Password: testPassword})
	cfg := configFor(srv, mail.TLSStartTLS, roots)
	cfg.Username, cfg.Password = testUser, testPassword

	m := message("starttls")
	if err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	checkReceived(t, got, m)
	if !got.TLS || got.Username != testUser {
		t.Errorf("TLS = %v, user = %q; want TLS as %q", got.TLS, got.Username, testUser)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Implicit: true, Username: testUser, Password: testPassword})
	cfg := configFor(srv, mail.TLSImplicit, roots)
	cfg.Username, cfg.Password = testUser, testPassword

	m := message("implicit")
	if err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	checkReceived(t, got, m)
	if !got.TLS || got.Username != testUser {
		t.Errorf("TLS = %v, user = %q; want TLS as %q", got.TLS, got.Username, testUser)
	}
}

func TestSendClearTextOnLoopback(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Username: testUser, Password: testPassword})
	cfg := configFor(srv, mail.TLSNone, nil)
	cfg.Username, cfg.Password = testUser, testPassword

	m := message("none")
	if err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	checkReceived(t, got, m)
	if got.TLS || got.Username != testUser {
		t.Errorf("TLS = %v, user = %q; want clear text as %q", got.TLS, got.Username, testUser)
	}
}

func TestSendRefusesServerWithoutStartTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Username: testUser, Password: testPassword})
	cfg := configFor(srv, mail.TLSStartTLS, nil)
	cfg.Username, cfg.Password = testUser, testPassword

	err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), message("no-starttls"))
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want an error about STARTTLS", err)
	}
	if mail.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %q contains the password", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendRefusesUntrustedCertificate(t *testing.T) {
	t.Parallel()
	for _, implicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("implicit=%v", implicit), func(t *testing.T) {
			t.Parallel()
			serverTLS, _ := mailtest.SelfSignedTLS(t)
			_, otherRoots := mailtest.SelfSignedTLS(t)
			srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Implicit: implicit})
			mode := mail.TLSStartTLS
			if implicit {
				mode = mail.TLSImplicit
			}
			err := mail.NewSMTP(configFor(srv, mode, otherRoots), fixedNow).Send(context.Background(), message("untrusted"))
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("Send = %v, want x509.UnknownAuthorityError", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server received %d messages, want 0", n)
			}
		})
	}
}

func TestSendReplyCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		code      int
		msg       string
		permanent bool
	}{
		{"unknown recipient", 550, "5.1.1 No such user", true},
		{"mailbox busy", 451, "4.3.0 Try again later", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			serverTLS, roots := mailtest.SelfSignedTLS(t)
			srv := mailtest.Start(t, mailtest.Options{
				TLS: serverTLS,
				RejectRecipient: func(string) (int, string) {
					return tt.code, tt.msg
				},
			})
			err := mail.NewSMTP(configFor(srv, mail.TLSStartTLS, roots), fixedNow).Send(context.Background(), message("rejected"))
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "RCPT TO") || !strings.Contains(err.Error(), fmt.Sprint(tt.code)) {
				t.Errorf("error %q does not name RCPT TO and %d", err, tt.code)
			}
			if got := mail.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
		})
	}
}

func TestSendWrongPassword(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Username: testUser, Password: "the-right-one"})
	cfg := configFor(srv, mail.TLSStartTLS, roots)
	cfg.Username, cfg.Password = testUser, testPassword

	err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), message("wrong-password"))
	if err == nil || !strings.Contains(err.Error(), "AUTH") || !strings.Contains(err.Error(), "535") {
		t.Fatalf("Send = %v, want a 535 reply to AUTH", err)
	}
	if !mail.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %q contains the password", err)
	}
}

func TestSendStopsHangingServer(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	tests := []struct {
		name string
		opts mailtest.Options
		mode mail.TLSMode
	}{
		{"no greeting", mailtest.Options{TLS: serverTLS, Hang: true}, mail.TLSStartTLS},
		{"no TLS handshake", mailtest.Options{TLS: serverTLS, Implicit: true, Hang: true}, mail.TLSImplicit},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/cancel", func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, tt.opts)
			cfg := configFor(srv, tt.mode, roots)
			cfg.Timeout = time.Minute
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)

			start := time.Now()
			err := mail.NewSMTP(cfg, fixedNow).Send(ctx, message("hang"))
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Send took %s after cancellation", elapsed)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Send = %v, want context.Canceled", err)
			}
			if mail.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
		})
		t.Run(tt.name+"/timeout", func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, tt.opts)
			cfg := configFor(srv, tt.mode, roots)
			cfg.Timeout = 200 * time.Millisecond

			start := time.Now()
			err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), message("hang"))
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Send took %s with a timeout of %s", elapsed, cfg.Timeout)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Send = %v, want context.DeadlineExceeded", err)
			}
			if mail.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
		})
	}
}

func TestSendRefusesInvalidMessage(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	s := mail.NewSMTP(configFor(srv, mail.TLSNone, nil), fixedNow)

	m := message("injection")
	m.Subject = "Hello\r\nBcc: victim@example.test"
	err := s.Send(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "line break") {
		t.Fatalf("Send = %v, want an error about a line break", err)
	}
	if !mail.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSendRefusesClearTextToRemoteHost(t *testing.T) {
	t.Parallel()
	cfg := mail.Config{Host: "smtp.example.com", From: sender(), TLS: mail.TLSNone, Username: testUser, Password: testPassword}
	err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), message("remote"))
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("Send = %v, want an error about loopback hosts", err)
	}
	if !mail.IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error %q contains the password", err)
	}
}

func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	serverTLS, roots := mailtest.SelfSignedTLS(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Username: testUser, Password: testPassword})
	cfg := configFor(srv, mail.TLSStartTLS, roots)
	cfg.Username, cfg.Password = testUser, testPassword
	s := mail.NewSMTP(cfg, fixedNow)

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Send(context.Background(), message(fmt.Sprintf("concurrent-%d", i)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Send %d: %v", i, err)
		}
	}
	ids := map[string]bool{}
	for _, got := range srv.WaitFor(t, n, 5*time.Second) {
		ids[got.Header.Get("Message-ID")] = true
	}
	if len(ids) != n {
		t.Errorf("received %d distinct Message-IDs, want %d", len(ids), n)
	}
}

func TestSendRenderedNotification(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	cfg := configFor(srv, mail.TLSNone, nil)

	r, err := mail.Render(mail.KindFollowupDue, "zh-Hans", map[string]string{
		"Customer": "上海云杉科技有限公司",
		"Date":     "2025-03-14",
		"Subject":  "确认第二季度报价",
		"Link":     "https://crm.example.test/followups/42",
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	m := mail.Message{
		To:        netmail.Address{Address: "wang@example.test"},
		Subject:   r.Subject,
		Text:      r.Body,
		MessageID: mail.MessageIDFor("followup:42:2025-03-14", "custos.test"),
		Locale:    r.Locale,
	}
	if err := mail.NewSMTP(cfg, fixedNow).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, 5*time.Second)[0]
	checkReceived(t, got, m)
	if lang := got.Header.Get("Content-Language"); lang != "zh-CN" {
		t.Errorf("Content-Language = %q, want zh-CN", lang)
	}
}
