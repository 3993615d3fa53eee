package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/web"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func get(t *testing.T, h http.Handler, path string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestPagesHeaders(t *testing.T) {
	h := web.Pages()
	if web.ContentSecurityPolicy != wantCSP {
		t.Errorf("ContentSecurityPolicy = %q, want %q", web.ContentSecurityPolicy, wantCSP)
	}
	cases := []struct {
		path        string
		status      int
		contentType string
		noStore     bool
		contains    string
	}{
		{"/login", 200, "text/html; charset=utf-8", true, `id="login-form"`},
		{"/account", 200, "text/html; charset=utf-8", true, `id="passkeys"`},
		{"/assets/login.js", 200, "text/javascript; charset=utf-8", false, "/auth/login"},
		{"/assets/account.js", 200, "text/javascript; charset=utf-8", false, "/auth/webauthn/register/begin"},
		{"/assets/api.js", 200, "text/javascript; charset=utf-8", false, "export"},
		{"/assets/style.css", 200, "text/css; charset=utf-8", false, "[hidden]"},
		{"/assets/", 404, "application/json; charset=utf-8", false, "NOT_FOUND"},
		{"/assets/missing.js", 404, "application/json; charset=utf-8", false, "NOT_FOUND"},
		{"/assets/%2e%2e%2flogin.html", 404, "application/json; charset=utf-8", false, "NOT_FOUND"},
		{"/static/login.html", 404, "application/json; charset=utf-8", false, "NOT_FOUND"},
		{"/login.html", 404, "application/json; charset=utf-8", false, "NOT_FOUND"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, body := get(t, h, c.path, nil)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, c.status, body)
			}
			hd := resp.Header
			if got := hd.Get("Content-Security-Policy"); got != wantCSP {
				t.Errorf("Content-Security-Policy = %q", got)
			}
			if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if got := hd.Get("Referrer-Policy"); got != "no-referrer" {
				t.Errorf("Referrer-Policy = %q", got)
			}
			if got := hd.Get("Content-Type"); got != c.contentType {
				t.Errorf("Content-Type = %q, want %q", got, c.contentType)
			}
			if c.noStore && hd.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", hd.Get("Cache-Control"))
			}
			if !strings.Contains(body, c.contains) {
				t.Errorf("body does not contain %q", c.contains)
			}
		})
	}
}

// TestPagesThroughServer checks that the application routes the pages
// here and that the server's middleware keeps the headers.
func TestPagesThroughServer(t *testing.T) {
	app := apptest.New(t, "sqlite")
	for _, p := range []string{"/login", "/account", "/assets/login.js", "/assets/account.js", "/assets/api.js", "/assets/style.css"} {
		resp, err := app.Server.Client().Get(app.Server.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != wantCSP {
			t.Errorf("GET %s: Content-Security-Policy = %q", p, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q", p, got)
		}
	}
}

func TestAssetRevalidation(t *testing.T) {
	h := web.Pages()
	resp, _ := get(t, h, "/assets/login.js", nil)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag on an asset")
	}
	resp, body := get(t, h, "/assets/login.js", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation: %d %q, want 304 and no body", resp.StatusCode, body)
	}
}

// TestEveryAssetServed checks that each file under static/assets is served
// and each HTML page references only assets of this origin that exist.
func TestEveryAssetServed(t *testing.T) {
	h := web.Pages()
	entries, err := os.ReadDir(filepath.Join("static", "assets"))
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, e := range entries {
		p := "/assets/" + e.Name()
		if resp, _ := get(t, h, p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
		served[p] = true
	}
	ref := regexp.MustCompile(`(?i)\s(?:src|href)\s*=\s*"([^"]*)"`)
	imports := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"`)
	for _, page := range htmlFiles(t) {
		for _, m := range ref.FindAllStringSubmatch(read(t, page), -1) {
			u := m[1]
			switch {
			case strings.HasPrefix(u, "/assets/"):
				if !served[u] {
					t.Errorf("%s references %s, which is not served", page, u)
				}
			case u == "#":
			default:
				t.Errorf("%s references %q: only /assets/ of this origin are allowed", page, u)
			}
		}
	}
	for p := range served {
		if !strings.HasSuffix(p, ".js") {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(read(t, filepath.Join("static", p)), -1) {
			if !served[m[1]] {
				t.Errorf("%s imports %s, which is not served", p, m[1])
			}
		}
	}
}

// TestNoInlineCode checks the HTML for what the policy would block: inline
// script bodies, style elements and attributes, event handler attributes
// and javascript: URLs. It also checks the scripts for ways of writing
// markup or code from strings.
func TestNoInlineCode(t *testing.T) {
	script := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	styleElem := regexp.MustCompile(`(?i)<style\b`)
	tag := regexp.MustCompile(`(?s)<[a-zA-Z][^>]*>`)
	badAttr := regexp.MustCompile(`(?i)\s(style|on[a-z]+)\s*=`)
	jsURL := regexp.MustCompile(`(?i)javascript:`)
	comment := regexp.MustCompile(`(?s)<!--.*?-->`)
	pages := htmlFiles(t)
	if len(pages) < 2 {
		t.Fatalf("found %d HTML files, want login.html and account.html", len(pages))
	}
	for _, page := range pages {
		text := comment.ReplaceAllString(read(t, page), "")
		for _, m := range script.FindAllStringSubmatch(text, -1) {
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script body %q", page, m[2])
			}
			if !strings.Contains(m[1], `src="/assets/`) {
				t.Errorf("%s: script without a same-origin src: %q", page, m[0])
			}
		}
		if styleElem.MatchString(text) {
			t.Errorf("%s: <style> element", page)
		}
		for _, tg := range tag.FindAllString(text, -1) {
			if m := badAttr.FindStringSubmatch(tg); m != nil {
				t.Errorf("%s: %s= attribute in %s", page, m[1], tg)
			}
		}
		if jsURL.MatchString(text) {
			t.Errorf("%s: javascript: URL", page)
		}
	}
	forbidden := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		`setAttribute("style"`, `setAttribute("on`, "javascript:"}
	scripts, err := filepath.Glob(filepath.Join("static", "assets", "*.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scripts {
		text := read(t, s)
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s uses %s", s, f)
			}
		}
	}
}

// TestStableIDs checks the element ids the browser test and other tools
// rely on.
func TestStableIDs(t *testing.T) {
	want := map[string][]string{
		"login.html": {"tenant", "email", "password", "login-submit", "passkey-login", "error", "mfa-code", "mfa-submit",
			"sso-providers", "current-password", "new-password", "password-submit"},
		"account.html": {"user-name", "passkeys", "passkey-name", "passkey-register", "logout", "error",
			"totp-enrol", "totp-secret", "totp-uri", "totp-code", "totp-confirm", "recovery-codes"},
	}
	for name, ids := range want {
		text := read(t, filepath.Join("static", name))
		for _, id := range ids {
			if n := strings.Count(text, `id="`+id+`"`); n != 1 {
				t.Errorf("%s: id %q appears %d times, want once", name, id, n)
			}
		}
	}
}

func htmlFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir("static", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
