package vault_test

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/custos-crm/custos/internal/vault"
)

// memStore is an in-memory vault.KeyStore for tests.
type memStore struct {
	mu          sync.Mutex
	check       []byte
	tenants     map[string]vault.TenantKeys
	tenantSaves int
	loadErr     error // returned by LoadTenantKeys when set
	// racer, when set, is a key check another server saves first: the next
	// SaveKeyCheck stores it and fails, like a unique-key violation.
	racer []byte
}

func newMemStore() *memStore {
	return &memStore{tenants: make(map[string]vault.TenantKeys)}
}

func (s *memStore) LoadKeyCheck(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.check), nil
}

func (s *memStore) SaveKeyCheck(_ context.Context, check []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.racer != nil {
		s.check, s.racer = s.racer, nil
		return errors.New("duplicate key")
	}
	if s.check == nil { // first writer wins
		s.check = bytes.Clone(check)
	}
	return nil
}

func (s *memStore) LoadTenantKeys(_ context.Context, tenantID string) (vault.TenantKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadErr != nil {
		return vault.TenantKeys{}, s.loadErr
	}
	k, ok := s.tenants[tenantID]
	if !ok {
		return vault.TenantKeys{}, vault.ErrNoTenantKeys
	}
	return k, nil
}

func (s *memStore) SaveTenantKeys(_ context.Context, tenantID string, k vault.TenantKeys) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[tenantID]; ok {
		return vault.ErrTenantKeysExist
	}
	s.tenants[tenantID] = k
	s.tenantSaves++
	return nil
}

func (s *memStore) saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenantSaves
}

func (s *memStore) keys(tenantID string) vault.TenantKeys {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tenants[tenantID]
}
