package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one plain-text e-mail to one recipient.
type Message struct {
	// To is the recipient, in the To header and in the envelope (RCPT TO).
	To mail.Address
	// Subject is the subject line, in any language; it is encoded as
	// RFC 2047 encoded-words when it is not plain ASCII.
	Subject string
	// Text is the body, in UTF-8 with "\n" or "\r\n" line endings.
	Text string
	// MessageID identifies the message, as "left@right" with or without the
	// angle brackets. The caller derives it from an idempotency key (see
	// MessageIDFor), so that a message sent twice is recognisable as one.
	MessageID string
	// Locale is the language of the message, such as zh-CN or en, for the
	// Content-Language header; empty leaves the header out.
	Locale string
}

// MessageIDFor derives a Message-ID, without angle brackets, from an
// idempotency key and a domain, usually the domain of the sender's address:
// the same key always gives the same Message-ID, and the key itself, which
// may name a tenant or a record, is not revealed.
func MessageIDFor(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// Limits that keep header lines short: RFC 5322 asks for lines of at most 78
// characters, and RFC 2047 for encoded-words of at most 75.
const (
	maxLine = 78
	// maxPlainWord is the longest run of non-space characters sent as is in
	// the Subject; a longer one could not be folded to fit a line.
	maxPlainWord = maxLine - len("Subject: ") - 3
	// maxEncodedChunk is the most UTF-8 bytes in one encoded-word: 39 bytes
	// are 52 base64 characters, 64 with "=?utf-8?b?" and "?=".
	maxEncodedChunk = 39
)

// build returns m as an RFC 5322 message from from, dated date, with CRLF
// line endings, ready for the SMTP DATA command.
func build(from mail.Address, m Message, date time.Time) ([]byte, error) {
	if err := checkAddress(from); err != nil {
		return nil, fmt.Errorf("From: %w", err)
	}
	if err := checkAddress(m.To); err != nil {
		return nil, fmt.Errorf("To: %w", err)
	}
	if m.Subject == "" {
		return nil, errors.New("Subject: missing")
	}
	if err := checkHeaderText(m.Subject); err != nil {
		return nil, fmt.Errorf("Subject: %w", err)
	}
	id, err := normalizeMessageID(m.MessageID)
	if err != nil {
		return nil, fmt.Errorf("Message-ID: %w", err)
	}
	if m.Locale != "" && !isLanguageTag(m.Locale) {
		return nil, errors.New("Content-Language: not a language tag such as zh-CN or en")
	}
	if m.Text == "" {
		return nil, errors.New("body: missing")
	}
	if !utf8.ValidString(m.Text) {
		return nil, errors.New("body: not valid UTF-8")
	}

	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", m.To.String())
	header("Subject", encodeSubject(m.Subject))
	header("Message-ID", "<"+id+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	if m.Locale != "" {
		header("Content-Language", m.Locale)
	}
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")

	text := m.Text
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, fmt.Errorf("encoding the body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encoding the body: %w", err)
	}
	return b.Bytes(), nil
}

// checkAddress checks that a is a single, bare address whose parts cannot
// break out of a header line or an SMTP command.
func checkAddress(a mail.Address) error {
	if a.Address == "" {
		return errors.New("missing")
	}
	if err := checkHeaderText(a.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := checkHeaderText(a.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	parsed, err := mail.ParseAddress(a.Address)
	if err != nil || parsed.Name != "" || parsed.Address != a.Address {
		return errors.New("address: not an e-mail address such as someone@example.com")
	}
	return nil
}

// checkHeaderText refuses text that would break a header line: line breaks
// (header injection), other control characters and invalid UTF-8.
func checkHeaderText(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("contains a line break")
	}
	for _, r := range s {
		if r < ' ' && r != '\t' || r == 0x7f {
			return errors.New("contains a control character")
		}
	}
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	return nil
}

// normalizeMessageID checks a Message-ID given as "left@right" or
// "<left@right>" and returns it without the brackets. Both sides are
// restricted to RFC 5322 atext and dots.
func normalizeMessageID(id string) (string, error) {
	if id == "" {
		return "", errors.New("missing")
	}
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		id = id[1 : len(id)-1]
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || !isDotAtom(left) || !isDotAtom(right) {
		return "", errors.New("must look like unique-part@example.com")
	}
	return id, nil
}

// isDotAtom reports whether s is made of RFC 5322 atext characters and dots.
func isDotAtom(s string) bool {
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isLanguageTag reports whether s has the shape of a BCP 47 language tag:
// subtags of one to eight letters or digits joined by '-', the first made of
// letters.
func isLanguageTag(s string) bool {
	for i, sub := range strings.Split(s, "-") {
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for j := range len(sub) {
			c := sub[j]
			isLetter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
			if !isLetter && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// encodeSubject returns the Subject header's value: plain ASCII folded at
// spaces to fit lines, or else RFC 2047 encoded-words (UTF-8, base64), one
// per line.
func encodeSubject(s string) string {
	if isPlainSubject(s) {
		return foldPlain(s, len("Subject: "))
	}
	return encodeWords(s)
}

// isPlainSubject reports whether s can be sent as is: printable ASCII,
// nothing a reader would take for an encoded-word, no word too long to fold.
func isPlainSubject(s string) bool {
	if strings.Contains(s, "=?") {
		return false
	}
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	for word := range strings.SplitSeq(s, " ") {
		if len(word) > maxPlainWord {
			return false
		}
	}
	return true
}

// foldPlain folds s at spaces so that lines stay within maxLine characters;
// used is the length already taken on the first line by the header name.
func foldPlain(s string, used int) string {
	var b strings.Builder
	line := used
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			if word != "" && line+1+len(word) > maxLine {
				b.WriteString("\r\n")
				line = 0
			}
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}

// encodeWords encodes s as RFC 2047 B encoded-words in UTF-8, split on rune
// boundaries and folded one per line. Readers ignore the white space between
// adjacent encoded-words.
func encodeWords(s string) string {
	var words []string
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxEncodedChunk {
				break
			}
			n += size
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}
