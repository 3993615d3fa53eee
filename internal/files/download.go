package files

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/requestinfo"
)

func viewerID(ctx context.Context) pulid.ID {
	if v := viewer.FromContext(ctx); v != nil {
		return v.UserID
	}
	return ""
}

// Download answers GET /files/{id} for a signed-in viewer: the attachment
// is found under the viewer's privacy rules, which check the access rules of
// its parent's kind (so another tenant's file, or one of a customer, ticket
// or project the viewer cannot see, is not found), the download is recorded
// in the audit trail, and the content is streamed decrypted.
func (s *Service) Download(client *ent.Client, d *disclosure.Discloser, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := requestinfo.FromContext(ctx)
		fail := func(err error) {
			if apierr.As(err) == nil {
				logger.ErrorContext(ctx, "download failed", "request_id", info.ID, "error", err.Error())
			}
			apierr.WriteHTTP(w, err, info.Locale, info.ID)
		}
		a, err := client.Attachment.Get(ctx, pulid.ID(r.PathValue("id")))
		// A viewer who may read no parent at all learns no more than one
		// who may not read this one.
		if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
			fail(apierr.New(apierr.NotFound))
			return
		}
		if err != nil {
			fail(err)
			return
		}
		name, err := d.Text(ctx, ref(a), a.DataKey, "filename", "filename", a.Filename)
		if err != nil {
			fail(err)
			return
		}
		tx, err := client.Tx(ctx)
		if err != nil {
			fail(err)
			return
		}
		err = audit.Write(ctx, tx, audit.Event{
			TenantID: a.TenantID, Category: auditevent.CategoryData, Action: "download",
			EntityType: "Attachment", EntityID: a.ID,
		})
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err != nil {
			fail(err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ContentType)
		h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
		h.Set("Cache-Control", "private, no-store")
		filename := "attachment"
		if name != nil {
			filename = *name
		}
		h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
		if err := s.WriteContent(ctx, client, a, w); err != nil {
			// The status line is gone; the client sees a short body.
			logger.ErrorContext(ctx, "streaming attachment", "request_id", info.ID, "attachment", string(a.ID), "error", err.Error())
		}
	})
}
