package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/oidc"
	"github.com/gatehouse/gatehouse/web"
)

// app is the wired service graph. Every dependency is built here, by hand,
// in order: reading newApp top to bottom shows how the modules fit together.
type app struct {
	cfg       config.Config
	logger    *slog.Logger
	db        database.DB
	masterKey []byte
	web       *web.Renderer

	audit *audit.Service

	identity *identity.Service
	apikeys  *apikeys.Service
	oidc     *oidc.Module
	authz    *authz.Service

	// modules are mounted on the HTTP server by serve.
	modules []module.Module
	// background tasks run for the life of the server (key rotation,
	// clean-up, last-used flushing); each returns when ctx ends.
	background []func(ctx context.Context) error
	// startup tasks run once after migrations, before listening
	// (bootstrap admin, first-start instructions).
	startup []func(ctx context.Context) error
	// bearer and session turn credentials into principals for the server.
	bearer  httpserver.BearerAuthenticator
	session httpserver.SessionAuthenticator
}

// newApp opens the database and builds every service. With migrate it first
// applies pending migrations (serve); sub-commands expect a migrated database
// and apply migrations too, so a fresh database works from any command.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (*app, error) {
	key, err := cfg.MasterKeyBytes()
	if err != nil {
		return nil, err
	}
	db, err := database.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := migrations.Up(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	renderer, err := web.New()
	if err != nil {
		db.Close()
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, db: db, masterKey: key, web: renderer}
	a.audit = audit.NewService(db.Gorm)

	// Each module is wired in its own function below, in dependency order.
	for _, wire := range []func(ctx context.Context) error{
		a.wireIdentity,
		a.wireAPIKeys,
		a.wireAuthz,
		a.wireOIDC,
		a.wireAudit,
	} {
		if err := wire(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("wire: %w", err)
		}
	}
	// API keys and OAuth access tokens both authenticate /api/v1.
	a.bearer = bearerChain{keys: a.apikeys, tokens: a.oidc}
	return a, nil
}

func (a *app) close() { _ = a.db.Close() }
