// Package web owns the embedded pages: sign-in and account security.
//
// The pages are static HTML with one script and one style sheet each, served
// from the binary (no CDN, no other origin) under a strict
// Content-Security-Policy: no inline script or style, no framing, and
// fetches only to the server's own origin. The scripts talk to the JSON
// endpoints under /auth and to /graphql; the session lives in an HttpOnly
// cookie that the scripts never see.
//
// The application front end does not exist yet: after signing in, the login
// page sends the user to /account, which shows who is signed in and manages
// passkeys, the authenticator app (TOTP) and signing out.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// ContentSecurityPolicy is the policy every response of Pages carries.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// static holds the pages and their assets. An embed.FS is read-only.
//
//go:embed static
var static embed.FS

// file is one embedded file ready to serve.
type file struct {
	name        string
	contentType string
	etag        string
	body        []byte
}

// Pages serves /login, /account and /assets/.
func Pages() http.Handler {
	root, err := fs.Sub(static, "static")
	if err != nil {
		// The directory is embedded at build time; this cannot happen.
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /login", htmlPage(mustLoad(root, "login.html")))
	mux.Handle("GET /account", htmlPage(mustLoad(root, "account.html")))
	assets := map[string]*file{}
	entries, err := fs.ReadDir(root, "assets")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			assets[e.Name()] = mustLoad(root, path.Join("assets", e.Name()))
		}
	}
	mux.Handle("GET /assets/{name}", assetHandler(assets))
	mux.Handle("/", notFound())
	return withHeaders(mux)
}

// mustLoad reads an embedded file. A missing one panics when Pages is
// called, which the package tests catch.
func mustLoad(root fs.FS, name string) *file {
	body, err := fs.ReadFile(root, name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(body)
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".html":
		ct = "text/html; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &file{
		name:        path.Base(name),
		contentType: ct,
		etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`,
		body:        body,
	}
}

// withHeaders sets the security headers every response carries.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// htmlPage serves a page that is never cached, so a signed-out browser does
// not show a stale account page from its cache.
func htmlPage(f *file) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		serve(w, r, f)
	})
}

// assetHandler serves the files of static/assets; browsers revalidate them
// with their ETag, as their names carry no version.
func assetHandler(assets map[string]*file) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := assets[r.PathValue("name")]
		if !ok {
			notFound().ServeHTTP(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", f.etag)
		serve(w, r, f)
	})
}

// serve writes f; ServeContent answers HEAD, ranges and conditional
// requests.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	w.Header().Set("Content-Type", f.contentType)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
}

// notFound answers like the rest of the server: a JSON error body.
func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		locale := info.Locale
		if locale == "" {
			locale = apierr.NegotiateLocale("", "", r.Header.Get("Accept-Language"))
		}
		apierr.WriteHTTP(w, apierr.New(apierr.NotFound), locale, info.ID)
	})
}
