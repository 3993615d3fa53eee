package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MasterKeySize is the length in bytes of the master key.
const MasterKeySize = 32

// keyCheckLabel is what KeyCheck authenticates.
const keyCheckLabel = "custos/key-check/v1"

// LoadMasterKey reads the master key from a key file holding exactly
// MasterKeySize raw bytes. It refuses a file that group or others may read
// or write, and says how to fix a missing, loose or wrongly sized file.
func LoadMasterKey(path string) ([]byte, error) {
	howTo := fmt.Sprintf("make one with: head -c %d /dev/urandom > %s; chmod 600 %s", MasterKeySize, path, path)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vault: master key file %s does not exist; %s: %w", path, howTo, err)
	}
	if err != nil {
		return nil, fmt.Errorf("opening master key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("vault: master key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("vault: master key file %s has mode %04o, which lets group or others at it; run: chmod 600 %s", path, perm, path)
	}
	// Read one byte more than needed to tell "too long" from "just right".
	key, err := io.ReadAll(io.LimitReader(f, MasterKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("reading master key file: %w", err)
	}
	if len(key) != MasterKeySize {
		size := fmt.Sprintf("%d bytes", len(key))
		if len(key) > MasterKeySize {
			size = "more than 32 bytes"
		}
		return nil, fmt.Errorf("vault: master key file %s holds %s, want exactly %d raw bytes; %s", path, size, MasterKeySize, howTo)
	}
	return key, nil
}

// GenerateMasterKeyFile writes MasterKeySize random bytes to a new key file
// at path with mode 0600, creating its parent directory with mode 0700 when
// missing, and returns the key. It refuses to overwrite an existing file.
func GenerateMasterKeyFile(path string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating master key directory: %w", err)
	}
	key, err := randomBytes(MasterKeySize)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("vault: master key file %s already exists; not overwriting it: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("creating master key file: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("writing master key file: %w", err)
	}
	return key, nil
}

// KeyCheck returns HMAC-SHA256(master, "custos/key-check/v1"), the value
// stored in the database to recognise the master key without revealing it.
func KeyCheck(master []byte) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte(keyCheckLabel))
	return mac.Sum(nil)
}
