package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func testFrom() mail.Address {
	return mail.Address{Name: "Custos 通知", Address: "noreply@custos.test"}
}

func testDate() time.Time {
	return time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
}

func testMessage() Message {
	return Message{
		To:        mail.Address{Name: "王小明", Address: "wang@example.test"},
		Subject:   "跟进提醒：上海云杉科技有限公司",
		Text:      "您好！\n今天需要跟进。\n",
		MessageID: "0123abcd@custos.test",
		Locale:    "zh-CN",
	}
}

// parse builds m and parses the result back.
func parse(t *testing.T, m Message) (*mail.Message, []byte) {
	t.Helper()
	raw, err := build(testFrom(), m, testDate())
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	return msg, raw
}

func TestBuildHeaders(t *testing.T) {
	t.Parallel()
	m := testMessage()
	msg, raw := parse(t, m)
	want := map[string]string{
		"Message-Id":                "<0123abcd@custos.test>",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Content-Language":          "zh-CN",
		"Auto-Submitted":            "auto-generated",
		"Date":                      "Fri, 14 Mar 2025 09:30:00 +0000",
	}
	for name, value := range want {
		if got := msg.Header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || *from[0] != testFrom() {
		t.Errorf("From = %v (%v), want %v", from, err, testFrom())
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 1 || *to[0] != m.To {
		t.Errorf("To = %v (%v), want %v", to, err, m.To)
	}
	if strings.Count(string(raw), "\n") != strings.Count(string(raw), "\r\n") {
		t.Errorf("message has bare LF line endings:\n%q", raw)
	}
	for _, r := range string(raw) {
		if r > 0x7e {
			t.Fatalf("message is not 7-bit ASCII:\n%s", raw)
		}
	}
}

func TestBuildOmitsEmptyLocale(t *testing.T) {
	t.Parallel()
	m := testMessage()
	m.Locale = ""
	msg, _ := parse(t, m)
	if _, ok := msg.Header["Content-Language"]; ok {
		t.Errorf("Content-Language present for an empty Locale")
	}
}

func TestBuildSubjectEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		subject string
		plain   bool // sent without encoded-words
	}{
		{"ascii", "Follow-up due today: call ACME", true},
		{"long ascii folds", strings.TrimSpace(strings.Repeat("follow-up reminder ", 12)), true},
		{"chinese", "跟进提醒：上海云杉科技有限公司", false},
		{"long chinese", strings.Repeat("今天需要跟进上海云杉科技有限公司的报价。", 6), false},
		{"mixed", "Follow-up 跟进 – ACME «GmbH»", false},
		{"looks encoded", "=?utf-8?b?5L2g5aW9?=", false},
		{"tab", "a\tb", false},
		{"very long word", strings.Repeat("x", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := testMessage()
			m.Subject = tt.subject
			msg, raw := parse(t, m)
			header := msg.Header.Get("Subject")
			if plain := !strings.Contains(header, "=?"); plain != tt.plain {
				t.Errorf("Subject header %q: plain = %v, want %v", header, plain, tt.plain)
			}
			got, err := new(mime.WordDecoder).DecodeHeader(header)
			if err != nil || got != tt.subject {
				t.Errorf("decoded Subject = %q (%v), want %q", got, err, tt.subject)
			}
			head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
			for line := range strings.SplitSeq(head, "\r\n") {
				if len(line) > maxLine && !strings.HasPrefix(line, "From:") && !strings.HasPrefix(line, "To:") {
					t.Errorf("header line of %d characters: %q", len(line), line)
				}
			}
		})
	}
}

func TestBuildBodyRoundTrips(t *testing.T) {
	t.Parallel()
	text := strings.Join([]string{
		"您好，王小明！",
		"",
		"A line with trailing spaces   ",
		".A line that starts with a dot",
		"From the start of a line",
		"Equals = signs and =3D sequences",
		strings.Repeat("这是一行很长的中文文本，用来检查软换行。", 8),
		strings.Repeat("long-ascii-", 20),
		"",
	}, "\n")
	m := testMessage()
	m.Text = text
	msg, raw := parse(t, m)
	_, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	for line := range strings.SplitSeq(body, "\r\n") {
		if len(line) > 76 {
			t.Errorf("body line of %d characters: %q", len(line), line)
		}
	}
	decoded, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decoding quoted-printable: %v", err)
	}
	if got := strings.ReplaceAll(string(decoded), "\r\n", "\n"); got != text {
		t.Errorf("body round trip:\n got %q\nwant %q", got, text)
	}
}

func TestBuildAddsFinalLineBreak(t *testing.T) {
	t.Parallel()
	m := testMessage()
	m.Text = "no final line break"
	_, raw := parse(t, m)
	if !bytes.HasSuffix(raw, []byte("no final line break\r\n")) {
		t.Errorf("message ends with %q", raw[max(0, len(raw)-30):])
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(m *Message)
		want   string
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: x@example.test" }, "Subject: contains a line break"},
		{"LF in subject", func(m *Message) { m.Subject = "Hi\nBcc: x@example.test" }, "Subject: contains a line break"},
		{"CR in subject", func(m *Message) { m.Subject = "Hi\rBcc: x@example.test" }, "Subject: contains a line break"},
		{"NUL in subject", func(m *Message) { m.Subject = "Hi\x00" }, "Subject: contains a control character"},
		{"empty subject", func(m *Message) { m.Subject = "" }, "Subject: missing"},
		{"LF in recipient name", func(m *Message) { m.To.Name = "Wang\nBcc: x@example.test" }, "To: name: contains a line break"},
		{"CRLF in recipient address", func(m *Message) { m.To.Address = "wang@example.test\r\nRCPT TO:<x@example.test>" }, "To: address: contains a line break"},
		{"two recipients", func(m *Message) { m.To.Address = "a@example.test, b@example.test" }, "To: address: not an e-mail address"},
		{"name in address", func(m *Message) { m.To.Address = "Wang <wang@example.test>" }, "To: address: not an e-mail address"},
		{"no recipient", func(m *Message) { m.To = mail.Address{} }, "To: missing"},
		{"LF in Message-ID", func(m *Message) { m.MessageID = "abc@x\nBcc: y" }, "Message-ID:"},
		{"Message-ID without @", func(m *Message) { m.MessageID = "abc" }, "Message-ID:"},
		{"empty Message-ID", func(m *Message) { m.MessageID = "" }, "Message-ID: missing"},
		{"LF in locale", func(m *Message) { m.Locale = "en\nBcc: y" }, "Content-Language:"},
		{"empty body", func(m *Message) { m.Text = "" }, "body: missing"},
		{"invalid UTF-8 body", func(m *Message) { m.Text = "\xff" }, "body: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := testMessage()
			tt.change(&m)
			_, err := build(testFrom(), m, testDate())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("build = %v, want an error containing %q", err, tt.want)
			}
		})
	}

	bad := testFrom()
	bad.Name = "Custos\r\nBcc: x@example.test"
	if _, err := build(bad, testMessage(), testDate()); err == nil || !strings.Contains(err.Error(), "From: name: contains a line break") {
		t.Errorf("build with a bad From = %v, want a line break error", err)
	}
}

func TestBuildAcceptsMessageIDInBrackets(t *testing.T) {
	t.Parallel()
	m := testMessage()
	m.MessageID = "<0123abcd@custos.test>"
	msg, _ := parse(t, m)
	if got := msg.Header.Get("Message-ID"); got != "<0123abcd@custos.test>" {
		t.Errorf("Message-ID = %q", got)
	}
}

func TestMessageIDFor(t *testing.T) {
	t.Parallel()
	a := MessageIDFor("followup:tenant-1:42:2025-03-14", "custos.test")
	if again := MessageIDFor("followup:tenant-1:42:2025-03-14", "custos.test"); again != a {
		t.Errorf("MessageIDFor is not stable: %q, then %q", a, again)
	}
	if other := MessageIDFor("followup:tenant-1:43:2025-03-14", "custos.test"); other == a {
		t.Errorf("two keys give the same Message-ID %q", a)
	}
	if strings.Contains(a, "tenant") || !strings.HasSuffix(a, "@custos.test") {
		t.Errorf("MessageIDFor = %q, want a hash at custos.test", a)
	}
	if _, err := normalizeMessageID(a); err != nil {
		t.Errorf("MessageIDFor = %q, not a valid Message-ID: %v", a, err)
	}
}
