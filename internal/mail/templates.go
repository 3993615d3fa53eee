package mail

import (
	"embed"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"golang.org/x/text/language"
)

// The kinds of notification in the catalogue. E-mails and in-app notices of
// a kind share its text.
const (
	// KindFollowupDue reminds a user that a follow-up is due today. Data:
	// Customer (company name), Date (YYYY-MM-DD), Subject (the follow-up's
	// subject) and Link (a URL to it).
	KindFollowupDue = "followup.due"
	// KindWebhookDead tells that a webhook delivery failed for good. Data:
	// Endpoint (URL), Event (event name), Attempts (how many were made) and
	// Link (a URL to the delivery log).
	KindWebhookDead = "webhook.dead"
	// KindTest is the message an administrator sends to check the SMTP
	// settings. Data: Tenant (the tenant's name).
	KindTest = "test"
	// KindWorkItem tells a user about a ticket or project, sent by a
	// workflow's notify action. Data: Title (the record's title), State
	// (its state) and Link (a URL to it).
	KindWorkItem = "workitem.notice"
	// KindApprovalRequested asks an approver to decide on a ticket or
	// project. Data: Title, State and Link.
	KindApprovalRequested = "approval.requested"
	// KindSLAWarning warns that an SLA timer of a ticket or project is
	// running out. Data: Title, State, Deadline (local time) and Link.
	KindSLAWarning = "sla.warning"
	// KindSLABreached tells that an SLA timer of a ticket or project has
	// run out. Data: Title, State, Deadline and Link.
	KindSLABreached = "sla.breached"
)

// The locales of the catalogue.
const (
	// LocaleZhCN is simplified Chinese, chosen for every Chinese tag.
	LocaleZhCN = "zh-CN"
	// LocaleEn is English, chosen for every other tag.
	LocaleEn = "en"
)

// templateFS holds templates/<kind>.<locale>.tmpl: a first line
// "Subject: …", a blank line, then the body, both text/template sources;
// and templates/footer.<locale>.txt, the plain text that ends every body.
//
//go:embed templates
var templateFS embed.FS

// Rendered is a notification in one language.
type Rendered struct {
	// Locale is the locale used: LocaleZhCN or LocaleEn.
	Locale string
	// Subject is one line, with no line breaks.
	Subject string
	// Body is plain text with "\n" line endings, ending with the footer on
	// notification preferences.
	Body string
}

// Kinds lists the kinds of notification in the catalogue, sorted.
func Kinds() []string {
	return []string{KindApprovalRequested, KindFollowupDue, KindSLABreached, KindSLAWarning, KindTest, KindWebhookDead, KindWorkItem}
}

// RequiredKeys lists, sorted, the data keys that the templates of kind use
// and Render therefore requires; it returns nil for an unknown kind.
func RequiredKeys(kind string) []string {
	switch kind {
	case KindFollowupDue:
		return []string{"Customer", "Date", "Link", "Subject"}
	case KindWebhookDead:
		return []string{"Attempts", "Endpoint", "Event", "Link"}
	case KindTest:
		return []string{"Tenant"}
	case KindWorkItem, KindApprovalRequested:
		return []string{"Link", "State", "Title"}
	case KindSLAWarning, KindSLABreached:
		return []string{"Deadline", "Link", "State", "Title"}
	}
	return nil
}

// Render fills in the subject and body of kind in locale with data. Locale
// may be any BCP 47 tag: Chinese ones (zh, zh-Hans, zh-CN…) give zh-CN, all
// others, and tags that do not parse, give en. An unknown kind or a data key
// that the template uses but data lacks is an error; extra keys are ignored.
// Line breaks and runs of white space in the subject become single spaces.
func Render(kind, locale string, data map[string]string) (Rendered, error) {
	if RequiredKeys(kind) == nil {
		return Rendered{}, fmt.Errorf("mail: render: unknown kind %q", kind)
	}
	locale = catalogueLocale(locale)
	r, err := render(kind, locale, data)
	if err != nil {
		return Rendered{}, fmt.Errorf("mail: render %s in %s: %w", kind, locale, err)
	}
	return r, nil
}

func render(kind, locale string, data map[string]string) (Rendered, error) {
	src, err := templateFS.ReadFile("templates/" + kind + "." + locale + ".tmpl")
	if err != nil {
		return Rendered{}, fmt.Errorf("reading the template: %w", err)
	}
	footer, err := templateFS.ReadFile("templates/footer." + locale + ".txt")
	if err != nil {
		return Rendered{}, fmt.Errorf("reading the footer: %w", err)
	}
	subjectSrc, bodySrc, err := splitTemplate(string(src))
	if err != nil {
		return Rendered{}, err
	}
	subject, err := execute("subject", subjectSrc, data)
	if err != nil {
		return Rendered{}, err
	}
	body, err := execute("body", bodySrc, data)
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{
		Locale:  locale,
		Subject: strings.Join(strings.Fields(subject), " "),
		Body:    strings.TrimRight(body, "\n") + "\n\n" + string(footer),
	}, nil
}

// splitTemplate separates the "Subject: …" line from the body.
func splitTemplate(src string) (subject, body string, err error) {
	first, rest, _ := strings.Cut(src, "\n")
	subject, ok := strings.CutPrefix(first, "Subject: ")
	if !ok {
		return "", "", errors.New("the template does not start with a Subject: line")
	}
	body, ok = strings.CutPrefix(rest, "\n")
	if !ok {
		return "", "", errors.New("the template's Subject: line is not followed by a blank line")
	}
	return subject, body, nil
}

// execute parses src as a text/template and runs it on data; a key missing
// from data is an error.
func execute(name, src string, data map[string]string) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("parsing the %s: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("filling in the %s: %w", name, err)
	}
	return b.String(), nil
}

// catalogueLocale maps a BCP 47 tag to a locale of the catalogue.
func catalogueLocale(locale string) string {
	tag, err := language.Parse(locale)
	if err != nil {
		return LocaleEn
	}
	if base, _ := tag.Base(); base.String() == "zh" {
		return LocaleZhCN
	}
	return LocaleEn
}
