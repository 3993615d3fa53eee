package command

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/forms"
	"github.com/custos-crm/custos/internal/demo"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/mail"
	"github.com/custos-crm/custos/internal/server"
	"github.com/custos-crm/custos/internal/workflows"
)

// shutdownGrace is how long requests in flight may finish after SIGTERM.
const shutdownGrace = 15 * time.Second

// Serve runs the HTTP server until ctx is cancelled, then shuts it down
// gracefully.
func Serve(ctx context.Context, args []string, env Env) error {
	cfg, err := loadConfig("serve", args, env)
	if err != nil {
		return err
	}
	cfg, logger, st, err := openStore(ctx, "serve", args, env, cfg.AutoMigrate)
	if err != nil {
		return err
	}
	defer st.Close()
	if !cfg.AutoMigrate {
		status, err := st.Status(ctx)
		if err != nil {
			return fmt.Errorf("reading schema version: %w", err)
		}
		if !status.Current() {
			return fmt.Errorf("%w (%d pending)", errSchemaBehind, len(status.Pending))
		}
		pending, err := jobs.Pending(ctx, st)
		if err != nil {
			return fmt.Errorf("reading job queue schema version: %w", err)
		}
		if pending > 0 {
			return fmt.Errorf("%w (%d job queue migrations pending)", errSchemaBehind, pending)
		}
	}

	if _, err := openVault(ctx, cfg, st, logger); err != nil {
		return err
	}
	if cfg.AutoMigrate {
		if _, err := migrate(ctx, st, logger, env.Clock); err != nil {
			return err
		}
	}
	hasher := password.NewHasher(password.DefaultParams(), cfg.HashConcurrency)
	if cfg.Demo {
		sys := systemContext(ctx, logger, env.Clock, "", "create demo tenant")
		creds, err := demo.Seed(sys, st.Client, hasher)
		if err != nil {
			return fmt.Errorf("creating demo tenant: %w", err)
		}
		if creds != nil {
			creds.Print(env.Stdout)
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	publicURL := cfg.PublicURL
	if publicURL == "" {
		// Passkeys need a host name, not an address.
		publicURL = "http://localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	var mailer mail.Sender
	if cfg.SMTP != nil {
		mailer = mail.NewSMTP(*cfg.SMTP, env.Clock.Now)
		logger.InfoContext(ctx, "e-mail on", "smtp", cfg.SMTP.Redacted())
	}
	formRegistry, err := forms.DefaultRegistry()
	if err != nil {
		return err
	}
	if err := workflows.RegisterPlugins(formRegistry); err != nil {
		return err
	}
	formRegistry.InstallFormats()
	bg, err := server.NewBackground(server.BackgroundConfig{
		Forms: formRegistry,
		Store: st, Clock: env.Clock, Logger: logger, Registry: registry, Mail: mailer, PublicURL: publicURL,
		AllowLoopbackWebhooks: cfg.AllowLoopbackWebhooks, PollInterval: cfg.JobPollInterval,
	})
	if err != nil {
		return err
	}
	if err := bg.EnsureDefaults(ctx, st.Client, logger, env.Clock.Now()); err != nil {
		return fmt.Errorf("creating default workflows: %w", err)
	}
	if cfg.Demo {
		if err := demo.SeedWork(ctx, st.Client, bg.WorkItems); err != nil {
			return fmt.Errorf("creating demo tickets and projects: %w", err)
		}
	}
	handler, err := server.NewApp(server.AppConfig{
		Background:        bg,
		AllowHTTPWebhooks: cfg.AllowLoopbackWebhooks,
		Store:             st,
		Clock:             env.Clock,
		Hasher:            hasher,
		Hashing:           authn.HashLimits{Concurrent: cfg.HashConcurrency, MaxWait: cfg.HashMaxWait},
		ViewerCacheTTL:    viewerCacheTTL(cfg.ViewerCacheTTL),
		Logger:            logger,
		Registry:          registry,
		TrustedProxies:    cfg.TrustedProxies,
		Introspection:     cfg.Dev,
		Files:             files.Config{Dir: cfg.FileDir, MaxSize: cfg.MaxUploadBytes},
		PublicURL:         publicURL,
		AllowLoopbackIdP:  cfg.AllowLoopbackIdP,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(env.Stdout, "custos: listening on http://%s\n", ln.Addr())
	fmt.Fprintf(env.Stdout, "custos: open %s/login in a browser\n", publicURL)
	logger.InfoContext(ctx, "listening", "addr", ln.Addr().String())

	// Jobs run on a context of their own, so that shutdown can let them
	// finish after the request context is gone.
	if err := bg.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := bg.Stop(shutdownCtx); err != nil {
		logger.Error("stopping jobs", "error", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// viewerCacheTTL maps the setting, where 0 turns the cache off, to the
// application's, where zero means the default.
func viewerCacheTTL(d time.Duration) time.Duration {
	if d == 0 {
		return authn.ViewerCacheOff
	}
	return d
}
