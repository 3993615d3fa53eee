package mail_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/custos-crm/custos/internal/mail"
)

// sampleData returns data for every key kind requires.
func sampleData(t *testing.T, kind string) map[string]string {
	t.Helper()
	samples := map[string]string{
		"Customer": "上海云杉科技有限公司",
		"Date":     "2025-03-14",
		"Subject":  "Confirm the Q2 quote",
		"Link":     "https://crm.example.test/followups/42",
		"Endpoint": "https://hooks.example.test/custos",
		"Event":    "customer.updated",
		"Attempts": "8",
		"Tenant":   "ACME Trading",
		"Title":    "打印机卡纸",
		"State":    "in_progress",
		"Deadline": "2025-03-14 17:00",
	}
	data := map[string]string{}
	for _, key := range mail.RequiredKeys(kind) {
		value, ok := samples[key]
		if !ok {
			t.Fatalf("no sample for key %s of %s", key, kind)
		}
		data[key] = value
	}
	return data
}

// footers are the endings that every body must have.
func footers() map[string]string {
	return map[string]string{
		"en":    "You can change your notification preferences in your account settings.\n",
		"zh-CN": "您可以在账户设置中更改通知偏好。\n",
	}
}

func hasHan(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0
}

func TestKinds(t *testing.T) {
	t.Parallel()
	want := []string{"approval.requested", "followup.due", "sla.breached", "sla.warning", "test", "webhook.dead", "workitem.notice"}
	if got := mail.Kinds(); !slices.Equal(got, want) {
		t.Errorf("Kinds() = %q, want %q", got, want)
	}
	for _, kind := range mail.Kinds() {
		keys := mail.RequiredKeys(kind)
		if len(keys) == 0 || !slices.IsSorted(keys) {
			t.Errorf("RequiredKeys(%q) = %q, want a sorted, non-empty list", kind, keys)
		}
	}
	if keys := mail.RequiredKeys("no.such.kind"); keys != nil {
		t.Errorf("RequiredKeys of an unknown kind = %q, want nil", keys)
	}
}

func TestRenderEveryKind(t *testing.T) {
	t.Parallel()
	for _, kind := range mail.Kinds() {
		for locale, footer := range footers() {
			t.Run(kind+"/"+locale, func(t *testing.T) {
				t.Parallel()
				data := sampleData(t, kind)
				r, err := mail.Render(kind, locale, data)
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				if r.Locale != locale {
					t.Errorf("Locale = %q, want %q", r.Locale, locale)
				}
				if r.Subject == "" || strings.ContainsAny(r.Subject, "\r\n") {
					t.Errorf("Subject = %q, want one non-empty line", r.Subject)
				}
				if !strings.HasSuffix(r.Body, "\n\n"+footer) {
					t.Errorf("body does not end with the footer %q:\n%s", footer, r.Body)
				}
				text := r.Subject + "\n" + r.Body
				for key, value := range data {
					if !strings.Contains(text, value) {
						t.Errorf("%s (%q) missing from\n%s", key, value, text)
					}
				}
				if strings.Contains(text, "<no value>") || strings.Contains(text, "{{") {
					t.Errorf("unfilled template:\n%s", text)
				}
				// Chinese text in zh-CN; none in en except the data.
				withoutData := text
				for _, value := range data {
					withoutData = strings.ReplaceAll(withoutData, value, "")
				}
				if got := hasHan(withoutData); got != (locale == "zh-CN") {
					t.Errorf("Chinese text present = %v in %s:\n%s", got, locale, text)
				}
				if strings.Contains(r.Body, "\r") {
					t.Errorf("body has CR characters")
				}
			})
		}
	}
}

func TestRenderMissingKey(t *testing.T) {
	t.Parallel()
	for _, kind := range mail.Kinds() {
		for locale := range footers() {
			for _, key := range mail.RequiredKeys(kind) {
				data := sampleData(t, kind)
				delete(data, key)
				_, err := mail.Render(kind, locale, data)
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", key)) {
					t.Errorf("Render(%s, %s) without %s = %v, want an error naming the key", kind, locale, key, err)
				}
			}
			if _, err := mail.Render(kind, locale, nil); err == nil {
				t.Errorf("Render(%s, %s, nil) succeeded", kind, locale)
			}
		}
	}
}

func TestRenderIgnoresExtraKeys(t *testing.T) {
	t.Parallel()
	data := sampleData(t, mail.KindTest)
	data["Unused"] = "whatever"
	if _, err := mail.Render(mail.KindTest, "en", data); err != nil {
		t.Errorf("Render with an extra key: %v", err)
	}
}

func TestRenderLocaleFallback(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":           "en",
		"en":         "en",
		"en-GB":      "en",
		"fr-FR":      "en",
		"ja":         "en",
		"not a tag":  "en",
		"zh":         "zh-CN",
		"zh-CN":      "zh-CN",
		"zh-cn":      "zh-CN",
		"zh-Hans":    "zh-CN",
		"zh-Hans-CN": "zh-CN",
		"zh_CN":      "zh-CN",
		"zh-SG":      "zh-CN",
		"zh-TW":      "zh-CN",
	}
	for _, locale := range slices.Sorted(maps.Keys(tests)) {
		r, err := mail.Render(mail.KindTest, locale, map[string]string{"Tenant": "ACME"})
		if err != nil {
			t.Errorf("Render in %q: %v", locale, err)
			continue
		}
		if r.Locale != tests[locale] {
			t.Errorf("Render in %q chose %q, want %q", locale, r.Locale, tests[locale])
		}
	}
}

func TestRenderUnknownKind(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"", "no.such.kind", "footer", "test.en", "../test"} {
		if _, err := mail.Render(kind, "en", map[string]string{"Tenant": "ACME"}); err == nil || !strings.Contains(err.Error(), "unknown kind") {
			t.Errorf("Render(%q) = %v, want an unknown kind error", kind, err)
		}
	}
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	data := sampleData(t, mail.KindFollowupDue)
	data["Subject"] = "Confirm\r\nthe   quote\n"
	r, err := mail.Render(mail.KindFollowupDue, "en", data)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !strings.Contains(r.Subject, "Confirm the quote") || strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("Subject = %q, want the line breaks collapsed", r.Subject)
	}
}

func ExampleRender() {
	r, err := mail.Render(mail.KindFollowupDue, "en-GB", map[string]string{
		"Customer": "ACME Trading",
		"Date":     "2025-03-14",
		"Subject":  "Confirm the Q2 quote",
		"Link":     "https://crm.example.com/followups/42",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Locale)
	fmt.Println(r.Subject)
	fmt.Print(r.Body)
	// Output:
	// en
	// Follow-up due today: Confirm the Q2 quote (ACME Trading)
	// A follow-up with ACME Trading is due today, 2025-03-14:
	//
	//     Confirm the Q2 quote
	//
	// Open it in Custos:
	// https://crm.example.com/followups/42
	//
	// You can change your notification preferences in your account settings.
}
