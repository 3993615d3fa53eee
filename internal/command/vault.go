package command

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/custos-crm/custos/internal/config"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/vault"
)

// openVault loads the master key and opens the vault on st, then gives the
// store's ent client the vault. A key file is generated only for the
// embedded SQLite default database while it holds no tenant; anywhere else a
// missing key file stops the server.
func openVault(ctx context.Context, cfg config.Config, st *store.Store, logger *slog.Logger) (*vault.Vault, error) {
	path := cfg.MasterKeyFile
	master, err := vault.LoadMasterKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		master, err = generateMasterKey(ctx, cfg, st, logger)
	}
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(ctx, master, st.KeyStore(), vault.Options{})
	if errors.Is(err, vault.ErrMasterKeyMismatch) {
		return nil, fmt.Errorf("%w (CUSTOS_MASTER_KEY_FILE=%s); start with the key file this database was created with", err, path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the vault: %w", err)
	}
	st.UseVault(v)
	return v, nil
}

func generateMasterKey(ctx context.Context, cfg config.Config, st *store.Store, logger *slog.Logger) ([]byte, error) {
	missing := fmt.Errorf("master key file %s does not exist; create one with `head -c 32 /dev/urandom > %s && chmod 600 %s` and set CUSTOS_MASTER_KEY_FILE", cfg.MasterKeyFile, cfg.MasterKeyFile, cfg.MasterKeyFile)
	embedded := strings.HasPrefix(cfg.DatabaseURL, "sqlite:") && cfg.MasterKeyFile == defaultKeyFileFor(cfg.DatabaseURL)
	if !embedded {
		return nil, missing
	}
	n, err := st.TenantCount(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, fmt.Errorf("%w; the database already holds tenants, so a new key would not open their data", missing)
	}
	master, err := vault.GenerateMasterKeyFile(cfg.MasterKeyFile)
	if err != nil {
		return nil, err
	}
	logger.WarnContext(ctx, "generated a new master key file for the embedded database; back it up, the data cannot be read without it", "path", cfg.MasterKeyFile)
	return master, nil
}

// defaultKeyFileFor returns the key file that sits beside an SQLite
// database: data/custos.db → data/master.key.
func defaultKeyFileFor(dbURL string) string {
	return filepath.Join(filepath.Dir(strings.TrimPrefix(dbURL, "sqlite:")), "master.key")
}
