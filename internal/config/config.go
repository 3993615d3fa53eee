// Package config owns the server's settings: their flags, their CUSTOS_*
// environment variables, their defaults and their validation. Every problem
// is reported at once.
package config

import (
	"time"

	"github.com/custos-crm/custos/internal/mail"

	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Config holds the settings of `custos serve` and the other commands.
type Config struct {
	// Addr is where the server listens (CUSTOS_ADDR, --addr).
	Addr string
	// DatabaseURL names the database (CUSTOS_DATABASE_URL, --database-url):
	// postgres://… or sqlite:PATH.
	DatabaseURL string
	// AutoMigrate applies pending migrations when serving
	// (CUSTOS_AUTO_MIGRATE); default true on SQLite, false on PostgreSQL.
	AutoMigrate bool
	// Dev turns on development aids such as GraphQL introspection
	// (CUSTOS_DEV).
	Dev bool
	// Demo creates the demo tenant when the database holds no tenant
	// (CUSTOS_DEMO).
	Demo bool
	// TrustedProxies lists the proxies whose X-Forwarded-For is believed
	// (CUSTOS_TRUSTED_PROXIES, comma-separated addresses or CIDR prefixes).
	TrustedProxies []netip.Prefix
	// LogLevel is debug, info, warn or error (CUSTOS_LOG_LEVEL).
	LogLevel slog.Level
	// MasterKeyFile holds the 32-byte master key (CUSTOS_MASTER_KEY_FILE);
	// default: master.key beside an SQLite database, required otherwise.
	MasterKeyFile string
	// FileDir keeps attachment content in this directory instead of the
	// database (CUSTOS_FILE_DIR).
	FileDir string
	// MaxUploadBytes is the largest attachment accepted
	// (CUSTOS_MAX_UPLOAD_BYTES, default 20 MiB).
	MaxUploadBytes int64
	// PublicURL is where browsers reach the server (CUSTOS_PUBLIC_URL);
	// default http://localhost:<port>. Passkeys use its host name as the
	// relying party, so it cannot be an IP address.
	PublicURL string
	// AllowLoopbackIdP lets identity providers live on loopback addresses
	// (CUSTOS_DEV_ALLOW_LOOPBACK_IDP; development and tests only).
	AllowLoopbackIdP bool
	// HashConcurrency bounds the argon2id hashes running at once
	// (CUSTOS_HASH_CONCURRENCY); default half the CPUs, at least 1.
	HashConcurrency int
	// HashMaxWait is how long a sign-in, step-up or password change waits
	// for a free hashing slot before it is refused with RATE_LIMITED
	// (CUSTOS_HASH_MAX_WAIT, default 1s).
	HashMaxWait time.Duration
	// ViewerCacheTTL is how long a signed-in user's loaded rights (grants,
	// roles, scope sets) serve their further requests (CUSTOS_VIEWER_CACHE_TTL,
	// default 2s; 0 turns the cache off). Changes made through this server
	// apply at once; changes made through another one within this time.
	ViewerCacheTTL time.Duration
	// SMTP is the mail server for e-mail notifications (CUSTOS_SMTP_URL);
	// nil turns e-mail off.
	SMTP *mail.Config
	// AllowLoopbackWebhooks lets webhook endpoints be http:// URLs on
	// loopback addresses (CUSTOS_DEV_ALLOW_LOOPBACK_WEBHOOKS; development
	// and tests only).
	AllowLoopbackWebhooks bool
	// JobPollInterval is how often idle job workers look for work
	// (CUSTOS_JOB_POLL_INTERVAL, default 500ms).
	JobPollInterval time.Duration
}

// DefaultDatabaseURL is the embedded database used when none is configured.
const DefaultDatabaseURL = "sqlite:data/custos.db"

// Load reads the settings from args (flags) and getenv; flags win over the
// environment. All problems are joined into one error.
func Load(name string, args []string, getenv func(string) string) (Config, *flag.FlagSet, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(discard{})
	addr := fs.String("addr", env("CUSTOS_ADDR", "127.0.0.1:8080"), "listen address (CUSTOS_ADDR)")
	dbURL := fs.String("database-url", env("CUSTOS_DATABASE_URL", DefaultDatabaseURL), "database URL: postgres://… or sqlite:PATH (CUSTOS_DATABASE_URL)")
	autoMigrate := fs.String("auto-migrate", env("CUSTOS_AUTO_MIGRATE", ""), "apply migrations when serving: true or false; default true on SQLite, false on PostgreSQL (CUSTOS_AUTO_MIGRATE)")
	dev := fs.String("dev", env("CUSTOS_DEV", "false"), "development mode: GraphQL introspection on (CUSTOS_DEV)")
	demo := fs.String("demo", env("CUSTOS_DEMO", "false"), "create the demo tenant in an empty database (CUSTOS_DEMO)")
	proxies := fs.String("trusted-proxies", env("CUSTOS_TRUSTED_PROXIES", ""), "comma-separated proxy addresses or prefixes whose X-Forwarded-For is believed (CUSTOS_TRUSTED_PROXIES)")
	level := fs.String("log-level", env("CUSTOS_LOG_LEVEL", "info"), "debug, info, warn or error (CUSTOS_LOG_LEVEL)")
	keyFile := fs.String("master-key-file", env("CUSTOS_MASTER_KEY_FILE", ""), "file holding the 32-byte master key (CUSTOS_MASTER_KEY_FILE); default master.key beside an SQLite database")
	fileDir := fs.String("file-dir", env("CUSTOS_FILE_DIR", ""), "keep attachment content in this directory instead of the database (CUSTOS_FILE_DIR)")
	maxUpload := fs.String("max-upload-bytes", env("CUSTOS_MAX_UPLOAD_BYTES", "20971520"), "largest attachment in bytes (CUSTOS_MAX_UPLOAD_BYTES)")
	publicURL := fs.String("public-url", env("CUSTOS_PUBLIC_URL", ""), "where browsers reach the server (CUSTOS_PUBLIC_URL); default http://localhost:<port>")
	loopbackIdP := fs.String("dev-allow-loopback-idp", env("CUSTOS_DEV_ALLOW_LOOPBACK_IDP", "false"), "let identity providers live on loopback addresses: development and tests only (CUSTOS_DEV_ALLOW_LOOPBACK_IDP)")
	smtpURL := fs.String("smtp-url", env("CUSTOS_SMTP_URL", ""), "mail server for e-mail notifications, e.g. smtp://user:pass@host:587?from=noreply@example.com (CUSTOS_SMTP_URL); empty turns e-mail off")
	loopbackHooks := fs.String("dev-allow-loopback-webhooks", env("CUSTOS_DEV_ALLOW_LOOPBACK_WEBHOOKS", "false"), "let webhooks use http:// and loopback addresses: development and tests only (CUSTOS_DEV_ALLOW_LOOPBACK_WEBHOOKS)")
	poll := fs.String("job-poll-interval", env("CUSTOS_JOB_POLL_INTERVAL", "500ms"), "how often idle job workers look for work (CUSTOS_JOB_POLL_INTERVAL)")
	hashes := fs.String("hash-concurrency", env("CUSTOS_HASH_CONCURRENCY", ""), "argon2id hashes at once; default half the CPUs (CUSTOS_HASH_CONCURRENCY)")
	hashWait := fs.String("hash-max-wait", env("CUSTOS_HASH_MAX_WAIT", "1s"), "how long a sign-in waits for a hashing slot before it is refused with RATE_LIMITED (CUSTOS_HASH_MAX_WAIT)")
	viewerTTL := fs.String("viewer-cache-ttl", env("CUSTOS_VIEWER_CACHE_TTL", "2s"), "how long a signed-in user's loaded rights are reused; 0 turns the cache off (CUSTOS_VIEWER_CACHE_TTL)")
	if err := fs.Parse(args); err != nil {
		return Config{}, fs, err
	}
	var (
		cfg  = Config{Addr: *addr, DatabaseURL: *dbURL}
		errs []error
	)
	parseBool := func(name, v string, dst *bool) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
			return
		}
		*dst = b
	}
	if cfg.Addr == "" {
		errs = append(errs, errors.New("CUSTOS_ADDR: must not be empty"))
	}
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "sqlite:"):
		cfg.AutoMigrate = true
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		cfg.AutoMigrate = false
	default:
		errs = append(errs, fmt.Errorf("CUSTOS_DATABASE_URL: must start with postgres:// or sqlite:"))
	}
	if *autoMigrate != "" {
		parseBool("CUSTOS_AUTO_MIGRATE", *autoMigrate, &cfg.AutoMigrate)
	}
	parseBool("CUSTOS_DEV", *dev, &cfg.Dev)
	parseBool("CUSTOS_DEMO", *demo, &cfg.Demo)
	for _, p := range strings.Split(*proxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			addr, err := netip.ParseAddr(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("CUSTOS_TRUSTED_PROXIES: %q is not an address or prefix", p))
				continue
			}
			cfg.TrustedProxies = append(cfg.TrustedProxies, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("CUSTOS_TRUSTED_PROXIES: %q is not an address or prefix", p))
			continue
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix.Masked())
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("CUSTOS_LOG_LEVEL: %q is not debug, info, warn or error", *level))
	}
	cfg.MasterKeyFile = *keyFile
	if cfg.MasterKeyFile == "" {
		if path, ok := strings.CutPrefix(cfg.DatabaseURL, "sqlite:"); ok {
			cfg.MasterKeyFile = filepath.Join(filepath.Dir(path), "master.key")
		} else {
			errs = append(errs, errors.New("CUSTOS_MASTER_KEY_FILE: required with PostgreSQL"))
		}
	}
	cfg.FileDir = *fileDir
	cfg.PublicURL = strings.TrimRight(*publicURL, "/")
	if cfg.PublicURL != "" && !strings.HasPrefix(cfg.PublicURL, "http://") && !strings.HasPrefix(cfg.PublicURL, "https://") {
		errs = append(errs, fmt.Errorf("CUSTOS_PUBLIC_URL: %q must start with http:// or https://", cfg.PublicURL))
	}
	parseBool("CUSTOS_DEV_ALLOW_LOOPBACK_IDP", *loopbackIdP, &cfg.AllowLoopbackIdP)
	if n, err := strconv.ParseInt(*maxUpload, 10, 64); err != nil || n < 1 {
		errs = append(errs, fmt.Errorf("CUSTOS_MAX_UPLOAD_BYTES: %q is not a positive number", *maxUpload))
	} else {
		cfg.MaxUploadBytes = n
	}
	if *smtpURL != "" {
		sc, err := mail.ParseURL(*smtpURL)
		if err != nil {
			errs = append(errs, err)
		} else {
			cfg.SMTP = &sc
		}
	}
	parseBool("CUSTOS_DEV_ALLOW_LOOPBACK_WEBHOOKS", *loopbackHooks, &cfg.AllowLoopbackWebhooks)
	if d, err := time.ParseDuration(*poll); err != nil || d < 10*time.Millisecond || d > time.Minute {
		errs = append(errs, fmt.Errorf("CUSTOS_JOB_POLL_INTERVAL: %q is not a duration between 10ms and 1m", *poll))
	} else {
		cfg.JobPollInterval = d
	}
	cfg.HashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	if *hashes != "" {
		n, err := strconv.Atoi(*hashes)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("CUSTOS_HASH_CONCURRENCY: %q is not a positive number", *hashes))
		} else {
			cfg.HashConcurrency = n
		}
	}
	if d, err := time.ParseDuration(*hashWait); err != nil || d < 10*time.Millisecond || d > time.Minute {
		errs = append(errs, fmt.Errorf("CUSTOS_HASH_MAX_WAIT: %q is not a duration between 10ms and 1m", *hashWait))
	} else {
		cfg.HashMaxWait = d
	}
	if d, err := time.ParseDuration(*viewerTTL); err != nil || d < 0 || d > time.Minute {
		errs = append(errs, fmt.Errorf("CUSTOS_VIEWER_CACHE_TTL: %q is not a duration between 0 and 1m", *viewerTTL))
	} else {
		cfg.ViewerCacheTTL = d
	}
	return cfg, fs, errors.Join(errs...)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
