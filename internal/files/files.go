// Package files owns attachments: checking an upload's size and type,
// encrypting its content in chunks under the attachment's own data key,
// keeping the chunks in the database (or a configured directory), and
// streaming them back to viewers who may see the parent record, with an
// audit event for every download.
package files

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/attachment"
	"github.com/custos-crm/custos/ent/followup"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/vault"
)

// ChunkSize is the plaintext size of one encrypted chunk.
const ChunkSize = 64 << 10

// DefaultMaxSize is the largest upload accepted unless configured.
const DefaultMaxSize = 20 << 20

// DefaultTypes are the content types accepted unless configured. The type
// is sniffed from the content; the client's claim is not trusted.
func DefaultTypes() []string {
	return []string{
		"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp",
		"text/plain", "text/csv", "application/zip",
	}
}

// Config sets the limits and where content is kept.
type Config struct {
	// MaxSize is the largest file accepted, in bytes.
	MaxSize int64
	// Types lists the accepted content types.
	Types []string
	// Dir, when set, keeps content in files below it instead of the
	// database. The files are encrypted like the chunks.
	Dir string
}

// Service stores and reads attachments.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if len(cfg.Types) == 0 {
		cfg.Types = DefaultTypes()
	}
	return &Service{cfg: cfg}
}

// MaxSize returns the largest file accepted.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// Upload is a file to attach to exactly one parent: a customer (or one of
// its follow-ups, and so its customer), a ticket or a project.
type Upload struct {
	CustomerID *pulid.ID
	FollowUpID *pulid.ID
	TicketID   *pulid.ID
	ProjectID  *pulid.ID
	Filename   string
	Size       int64
	Content    io.Reader
}

// Attach stores an upload under the viewer in ctx, through client (the
// request's transactional client, so that the record and its content are
// written together or not at all). The viewer must be allowed to update the
// parent; a parent they cannot reach is an unknown reference.
func (s *Service) Attach(ctx context.Context, client *ent.Client, up Upload) (*ent.Attachment, error) {
	if err := rule.AttachmentParentError(up.CustomerID != nil || up.FollowUpID != nil, up.TicketID != nil, up.ProjectID != nil); err != nil {
		return nil, err
	}
	if up.Size > s.cfg.MaxSize {
		return nil, apierr.BadInput(apierr.Field("/input/file", "file_too_large", "max", strconv.FormatInt(s.cfg.MaxSize, 10)))
	}
	name := strings.TrimSpace(filepath.Base(strings.ReplaceAll(up.Filename, "\\", "/")))
	if name == "" || name == "." || name == "/" || len(name) > 255 {
		return nil, apierr.BadInput(apierr.Field("/input/file", "invalid_filename"))
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(up.Content, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading upload: %w", err)
	}
	head = head[:n]
	contentType, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if !slices.Contains(s.cfg.Types, contentType) {
		return nil, apierr.BadInput(apierr.Field("/input/file", "file_type", "type", contentType))
	}
	customerID, err := s.customer(ctx, client, up)
	if err != nil {
		return nil, err
	}
	storage := attachment.StorageDatabase
	if s.cfg.Dir != "" {
		storage = attachment.StorageDirectory
	}
	create := client.Attachment.Create().
		SetNillableCustomerID(customerID).
		SetNillableFollowUpID(up.FollowUpID).
		SetNillableTicketID(up.TicketID).
		SetNillableProjectID(up.ProjectID).
		SetFilename(secret.Plain(name)).
		SetContentType(contentType).
		SetSize(up.Size).
		SetStorage(storage)
	if uid := viewerID(ctx); uid != "" {
		create.SetUploadedBy(uid)
	}
	a, err := create.Save(ctx)
	if err != nil {
		return nil, err
	}
	written, err := s.writeContent(ctx, client, a, io.MultiReader(strings.NewReader(string(head)), up.Content))
	if err != nil {
		return nil, err
	}
	if written != up.Size {
		return nil, apierr.BadInput(apierr.Field("/input/file", "invalid"))
	}
	return a, nil
}

// customer returns the customer an upload belongs to: the one it names or,
// for a follow-up, the follow-up's customer; nil for a ticket's or a
// project's upload. Whether the viewer may attach to the parent is the
// attachment's privacy rule's business.
func (s *Service) customer(ctx context.Context, client *ent.Client, up Upload) (*pulid.ID, error) {
	if up.FollowUpID == nil {
		return up.CustomerID, nil
	}
	f, err := client.FollowUp.Query().Where(followup.ID(*up.FollowUpID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apierr.BadInput(apierr.Field("/input/followUpID", "unknown_reference"))
	}
	if err != nil {
		return nil, err
	}
	if up.CustomerID != nil && *up.CustomerID != f.CustomerID {
		return nil, apierr.BadInput(apierr.Field("/input/customerID", "invalid"))
	}
	return &f.CustomerID, nil
}

func ref(a *ent.Attachment) vault.Ref {
	return vault.Ref{TenantID: string(a.TenantID), Table: "Attachment", RowID: string(a.ID)}
}

func chunkColumn(seq int) string { return "chunk:" + strconv.Itoa(seq) }

// writeContent encrypts content chunk by chunk and stores it.
func (s *Service) writeContent(ctx context.Context, client *ent.Client, a *ent.Attachment, content io.Reader) (int64, error) {
	var (
		total int64
		buf   = make([]byte, ChunkSize)
		out   *os.File
	)
	if s.cfg.Dir != "" {
		path, err := s.path(a)
		if err != nil {
			return 0, err
		}
		if out, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err != nil {
			return 0, fmt.Errorf("creating file: %w", err)
		}
		defer out.Close()
	}
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(content, buf)
		if n > 0 {
			total += int64(n)
			if total > s.cfg.MaxSize {
				return 0, apierr.BadInput(apierr.Field("/input/file", "file_too_large", "max", strconv.FormatInt(s.cfg.MaxSize, 10)))
			}
			sealed, serr := client.Vault.Seal(ctx, ref(a), a.DataKey, chunkColumn(seq), buf[:n])
			if serr != nil {
				return 0, fmt.Errorf("sealing chunk: %w", serr)
			}
			if out != nil {
				var l [4]byte
				binary.BigEndian.PutUint32(l[:], uint32(len(sealed)))
				if _, werr := out.Write(append(l[:], sealed...)); werr != nil {
					return 0, fmt.Errorf("writing file: %w", werr)
				}
			} else if _, werr := client.ExecContext(ctx,
				`INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES ($1, $2, $3)`, string(a.ID), seq, sealed); werr != nil {
				return 0, fmt.Errorf("storing chunk: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("reading upload: %w", err)
		}
	}
	if out != nil {
		if err := out.Sync(); err != nil {
			return 0, fmt.Errorf("writing file: %w", err)
		}
	}
	return total, nil
}

func (s *Service) path(a *ent.Attachment) (string, error) {
	if !a.ID.Valid("att") {
		return "", fmt.Errorf("files: bad attachment id %q", a.ID)
	}
	dir := filepath.Join(s.cfg.Dir, string(a.TenantID))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating directory: %w", err)
	}
	return filepath.Join(dir, string(a.ID)), nil
}

// WriteContent decrypts the content of a and writes it to w.
func (s *Service) WriteContent(ctx context.Context, client *ent.Client, a *ent.Attachment, w io.Writer) error {
	if a.Storage == attachment.StorageDirectory {
		path, err := s.path(a)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening file: %w", err)
		}
		defer f.Close()
		for seq := 0; ; seq++ {
			var l [4]byte
			if _, err := io.ReadFull(f, l[:]); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("reading file: %w", err)
			}
			sealed := make([]byte, binary.BigEndian.Uint32(l[:]))
			if _, err := io.ReadFull(f, sealed); err != nil {
				return fmt.Errorf("reading file: %w", err)
			}
			if err := s.writeChunk(ctx, client, a, seq, sealed, w); err != nil {
				return err
			}
		}
	}
	rows, err := client.QueryContext(ctx, `SELECT seq, data FROM attachment_chunks WHERE attachment_id = $1 ORDER BY seq`, string(a.ID))
	if err != nil {
		return fmt.Errorf("reading chunks: %w", err)
	}
	defer rows.Close()
	for want := 0; rows.Next(); want++ {
		var (
			seq    int
			sealed []byte
		)
		if err := rows.Scan(&seq, &sealed); err != nil {
			return fmt.Errorf("reading chunk: %w", err)
		}
		if seq != want {
			return fmt.Errorf("files: chunk %d of %s is missing", want, a.ID)
		}
		if err := s.writeChunk(ctx, client, a, seq, sealed, w); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Service) writeChunk(ctx context.Context, client *ent.Client, a *ent.Attachment, seq int, sealed []byte, w io.Writer) error {
	plain, err := client.Vault.Open(ctx, ref(a), a.DataKey, chunkColumn(seq), sealed)
	if err != nil {
		return fmt.Errorf("opening chunk %d: %w", seq, err)
	}
	_, err = w.Write(plain)
	return err
}
