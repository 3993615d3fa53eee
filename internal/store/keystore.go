package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/vault"
)

// keyCheckName is the vault_meta row holding the master key check.
const keyCheckName = "master_key_check"

// KeyStore keeps the vault's key material in the tenant_keys and vault_meta
// tables. It works below the privacy layer, with SQL, because keys are read
// before any viewer exists; nothing but the vault uses it.
type KeyStore struct {
	db  *sql.DB
	clk clock.Clock
}

// KeyStore returns the vault's key store on s.
func (s *Store) KeyStore() *KeyStore { return &KeyStore{db: s.DB, clk: s.clk} }

var _ vault.KeyStore = (*KeyStore)(nil)

// LoadKeyCheck returns the stored master key check, or nil when none is
// stored yet.
func (k *KeyStore) LoadKeyCheck(ctx context.Context) ([]byte, error) {
	var v []byte
	err := k.db.QueryRowContext(ctx, `SELECT value FROM vault_meta WHERE name = $1`, keyCheckName).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading key check: %w", err)
	}
	return v, nil
}

// SaveKeyCheck stores the master key check.
func (k *KeyStore) SaveKeyCheck(ctx context.Context, check []byte) error {
	_, err := k.db.ExecContext(ctx, `INSERT INTO vault_meta (name, value) VALUES ($1, $2)`, keyCheckName, check)
	if err != nil {
		return fmt.Errorf("storing key check: %w", err)
	}
	return nil
}

// LoadTenantKeys returns a tenant's wrapped keys.
func (k *KeyStore) LoadTenantKeys(ctx context.Context, tenantID string) (vault.TenantKeys, error) {
	var tk vault.TenantKeys
	err := k.db.QueryRowContext(ctx,
		`SELECT key_id, wrapped_data_key, wrapped_index_key FROM tenant_keys WHERE tenant_id = $1`, tenantID).
		Scan(&tk.KeyID, &tk.WrappedDataKey, &tk.WrappedIndexKey)
	if errors.Is(err, sql.ErrNoRows) {
		return tk, vault.ErrNoTenantKeys
	}
	if err != nil {
		return tk, fmt.Errorf("reading tenant keys: %w", err)
	}
	return tk, nil
}

// SaveTenantKeys stores a tenant's wrapped keys once.
func (k *KeyStore) SaveTenantKeys(ctx context.Context, tenantID string, tk vault.TenantKeys) error {
	res, err := k.db.ExecContext(ctx,
		`INSERT INTO tenant_keys (tenant_id, key_id, wrapped_data_key, wrapped_index_key, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO NOTHING`,
		tenantID, tk.KeyID, tk.WrappedDataKey, tk.WrappedIndexKey, k.clk.Now().UTC())
	if err != nil {
		return fmt.Errorf("storing tenant keys: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return vault.ErrTenantKeysExist
	}
	return nil
}

// TenantCount returns how many tenants exist; the server uses it to decide
// whether it may generate a master key file.
func (s *Store) TenantCount(ctx context.Context) (int, error) {
	var n int
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting tenants: %w", err)
	}
	return n, nil
}

// UseVault rebuilds the ent client so that its hooks encrypt and index with
// v. Call it once, after opening the vault and before serving.
func (s *Store) UseVault(v *vault.Vault) {
	s.vault = v
	s.Client = newClient(s.drv, s.clk, v, s.forms)
}
