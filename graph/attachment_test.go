package graph_test

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// upload sends a GraphQL multipart request attaching content.
func upload(t *testing.T, app *apptest.App, header http.Header, customerID pulid.ID, name string, content []byte) (int, apptest.Result) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($c: ID!, $f: Upload!) { attachFile(input: {customerID: $c, file: $f}) { id filename contentType size url } }`,
		"variables": map[string]any{"c": customerID, "f": nil},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, app.Server.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := apptest.Result{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &res)
	return resp.StatusCode, res
}

func download(t *testing.T, app *apptest.App, token, url string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, app.Server.URL+url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func TestAttachments(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		f := newFixture(t, dialect)
		// A PDF larger than one chunk, with a recognisable secret inside.
		content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("身份证号 110101199003071234 "), 5000)...)
		bearer := http.Header{"Authorization": {"Bearer " + f.tokA}}
		status, r := upload(t, f.app, bearer, f.customerA, "张三 合同.pdf", content)
		if status != http.StatusOK || len(r.Errors) > 0 {
			t.Fatalf("upload: %d %s", status, r.Raw)
		}
		var out struct {
			AttachFile struct {
				ID                         pulid.ID
				Filename, ContentType, URL string
				Size                       int
			}
		}
		r.Decode(t, &out)
		a := out.AttachFile
		if a.Filename != "张三 合同.pdf" || a.ContentType != "application/pdf" || a.Size != len(content) {
			t.Fatalf("attachment %+v", a)
		}

		status, got, h := download(t, f.app, f.tokA, a.URL)
		if status != http.StatusOK || !bytes.Equal(got, content) {
			t.Fatalf("download: %d, %d bytes", status, len(got))
		}
		if !strings.Contains(h.Get("Content-Disposition"), "attachment; filename*=UTF-8''") {
			t.Fatalf("disposition %q", h.Get("Content-Disposition"))
		}

		raw := dump(t, f.app, dialect)
		for _, secret := range []string{"110101199003071234", "张三 合同"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%q stored in plain text", secret)
			}
		}

		t.Run("the download is audited", func(t *testing.T) {
			var n int
			if err := f.app.Store.DB.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE action = 'download' AND entity_id = $1`, string(a.ID)).Scan(&n); err != nil || n != 1 {
				t.Fatalf("download events: %d %v", n, err)
			}
		})
		t.Run("viewers who cannot see the customer get not found", func(t *testing.T) {
			sales := f.app.Login(t, "alpha", "sales@alpha.test")
			if status, _, _ := download(t, f.app, sales, a.URL); status != http.StatusNotFound {
				t.Fatalf("sales user: %d", status)
			}
			if status, _, _ := download(t, f.app, f.tokB, a.URL); status != http.StatusNotFound {
				t.Fatalf("other tenant: %d", status)
			}
			if status, r := upload(t, f.app, http.Header{"Authorization": {"Bearer " + f.tokB}}, f.customerA, "x.pdf", content); status != http.StatusOK || len(r.Errors) == 0 {
				t.Fatalf("other tenant attached a file: %s", r.Raw)
			}
		})
		t.Run("types and sizes are checked", func(t *testing.T) {
			_, r := upload(t, f.app, bearer, f.customerA, "run.exe", append([]byte("MZ\x90\x00\x03"), make([]byte, 100)...))
			wantError(t, r, "BAD_USER_INPUT", "/input/file")
			big := append([]byte("%PDF-1.4\n"), make([]byte, 21<<20)...)
			status, _ := upload(t, f.app, bearer, f.customerA, "big.pdf", big)
			if status == http.StatusOK {
				t.Fatal("a 21 MiB upload was accepted")
			}
		})
		t.Run("cookie uploads need the preflight header", func(t *testing.T) {
			cookie := session.CookieName + "=" + f.tokA
			status, _ := upload(t, f.app, http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}}, f.customerA, "a.pdf", content)
			if status != http.StatusForbidden {
				t.Fatalf("cookie upload without preflight header: %d", status)
			}
			status, _ = upload(t, f.app, http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}, "Graphql-Require-Preflight": {"1"}}, f.customerA, "a.pdf", content)
			if status != http.StatusForbidden {
				t.Fatalf("cross-site cookie upload: %d", status)
			}
			status, r := upload(t, f.app, http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}, "Graphql-Require-Preflight": {"1"}}, f.customerA, "a.pdf", content)
			if status != http.StatusOK || len(r.Errors) > 0 {
				t.Fatalf("same-origin cookie upload with preflight header: %d %s", status, r.Raw)
			}
		})
	})
}

func TestAttachmentsInADirectory(t *testing.T) {
	f := newFixture(t, "sqlite")
	dir := t.TempDir()
	app := f.app.WithFiles(t, files.Config{Dir: dir, MaxSize: 1 << 20})
	content := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("secret-contract-text "), 10000)...)
	bearer := http.Header{"Authorization": {"Bearer " + f.tokA}}
	_, r := upload(t, app, bearer, f.customerA, "c.pdf", content)
	var out struct {
		AttachFile struct{ URL string }
	}
	r.MustSucceed(t).Decode(t, &out)
	status, got, _ := download(t, app, f.tokA, out.AttachFile.URL)
	if status != http.StatusOK || !bytes.Equal(got, content) {
		t.Fatalf("download: %d, %d bytes", status, len(got))
	}
	var found int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		found++
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte("secret-contract-text")) {
			t.Errorf("%s holds plain text", path)
		}
		if info, _ := d.Info(); info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", path, info.Mode().Perm())
		}
		return nil
	})
	if err != nil || found != 1 {
		t.Fatalf("files in the directory: %d %v", found, err)
	}
	if status, r := upload(t, app, bearer, f.customerA, "big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 2<<20)...)); status == http.StatusOK && len(r.Errors) == 0 {
		t.Fatal("the configured size limit was not applied")
	}
}
