package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/gatehouse/gatehouse/internal/module"
	"github.com/gatehouse/gatehouse/migrations"
	"github.com/gatehouse/gatehouse/modules/admin"
	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/audit"
	"github.com/gatehouse/gatehouse/modules/authz"
	"github.com/gatehouse/gatehouse/modules/identity"
	"github.com/gatehouse/gatehouse/modules/mail"
	"github.com/gatehouse/gatehouse/modules/oidc"
	"github.com/gatehouse/gatehouse/modules/passkeys"
	"github.com/gatehouse/gatehouse/web"
)

// app is the wired service graph that serve and the sub-commands use.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	db     database.DB

	audit    *audit.Service
	mail     *mail.Service
	identity *identity.Service
	authz    *authz.Service
	apikeys  *apikeys.Service
	passkeys *passkeys.Service
	oidc     *oidc.Module

	// What serve needs: the authenticators, the HTTP modules, the error
	// pages, and the work to do once at start and for the server's life.
	bearer     httpserver.BearerAuthenticator
	session    httpserver.SessionAuthenticator
	reauth     httpserver.Reauthenticator
	modules    []module.Module
	web        *web.Renderer
	startup    []func(ctx context.Context) error
	background []func(ctx context.Context) error
}

// newApp builds everything, by hand and in order: the database (migrated),
// then every service from the ones before it, then the listeners between
// them, then the HTTP modules. Reading it top to bottom shows how Gatehouse
// fits together; no dependency is resolved late.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (a *app, err error) {
	masterKey, err := cfg.MasterKeyBytes()
	if err != nil {
		return nil, err
	}
	db, err := database.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if err := migrations.Up(ctx, db); err != nil {
		return nil, err
	}
	pages, err := web.New()
	if err != nil {
		return nil, err
	}
	a = &app{cfg: cfg, logger: logger, db: db, web: pages}

	// Services. Audit and mail depend on nothing; identity records through
	// audit and mails links through mail; authz reads identity's roles; the
	// rest use all three (mail for security notices: a passkey added or
	// removed, an API key created, an account locked).
	a.audit = audit.New(db)
	a.mail, err = mail.New(db, mailOptions(cfg, logger))
	if err != nil {
		return nil, err
	}
	a.identity = identity.New(db, identity.Deps{Audit: a.audit, Mailer: a.mail}, identity.Options{Issuer: cfg.Issuer, ReturnHashMemory: true})
	a.authz, err = authz.New(ctx, db, authz.Deps{Roles: a.identity, Audit: a.audit}, authz.Options{
		Logger:        logger,
		IsUnknownUser: func(err error) bool { return errors.Is(err, identity.ErrNotFound) },
	})
	if err != nil {
		return nil, err
	}
	a.apikeys = apikeys.New(db, apikeys.Deps{Users: a.identity, Audit: a.audit, Notifier: a.mail}, apikeys.Options{Logger: logger})
	a.passkeys, err = passkeys.New(db, passkeys.Deps{Users: a.identity, Audit: a.audit, Notifier: a.mail},
		passkeys.Options{RPOrigin: cfg.Issuer, Logger: logger})
	if err != nil {
		return nil, err
	}
	a.oidc, err = oidc.New(db, oidc.Deps{
		Users: a.identity, Audit: a.audit, Authorizer: a.authz, Permissions: a.authz, Pages: pages, Passkeys: a.passkeys,
		Recovery: a.identity,
		APIKeys:  a.apikeys, // API keys as token-exchange subjects and at /forward-auth
		Notifier: a.mail,    // an account locked after failed sign-ins is told
		// /account: "Change password" and the user's own API keys.
		Passwords: a.identity, AccountKeys: accountKeys{a.apikeys},
	}, oidc.Options{Issuer: cfg.Issuer, MasterKey: masterKey, Logger: logger, RefreshReuseInterval: cfg.RefreshReuse()})
	if err != nil {
		return nil, err
	}

	// Listeners: identity tells the others of its changes inside the
	// change's transaction, so consequences commit or roll back with it.
	a.identity.AddListener(a.authz)        // roles changed: drop the user's cached roles
	a.identity.AddRoleListener(a.authz)    // a deleted role takes its rules along
	a.identity.AddListener(a.apikeys)      // disabled or deleted: their keys stop working
	a.identity.AddListener(a.passkeys)     // deleted: their passkeys go
	a.identity.AddListener(a.oidc)         // disabled or deleted: tokens, then sessions end
	a.identity.AddPasswordListener(a.oidc) // password set: refresh tokens and other sessions end

	// HTTP: API keys ("gh_…") and access tokens authenticate /api/v1 and the
	// bearer routes; the oidc module's sessions authenticate pages.
	a.bearer = bearerChain{keys: a.apikeys, tokens: a.oidc}
	a.session = a.oidc
	a.reauth = a.oidc.Reauth()
	a.modules = []module.Module{
		identity.NewModule(a.identity, identity.ModuleOptions{
			Authorizer: a.authz, Grants: a.authz, Pages: pages,
			SecureCookies: cfg.IssuerIsHTTPS(), Logger: logger,
		}),
		apikeys.NewModule(a.apikeys, a.authz),
		audit.NewModule(a.audit, a.authz),
		authz.NewModule(a.authz, cfg.Issuer),
		passkeys.NewModule(a.passkeys),
		a.oidc,
		admin.New(admin.Deps{
			Users: a.identity, Roles: a.identity, Authorizer: a.authz, Grants: a.authz, Pages: pages,
			Policies: a.authz, Clients: a.oidc.Clients(), APIKeys: a.apikeys, Audit: a.audit, Keys: a.oidc,
			Counts: admin.Counts{Users: a.identity.CountUsers, Sessions: a.oidc.CountSessions,
				Clients: a.oidc.Clients().Count, APIKeys: a.apikeys.CountActive},
			Activity: a.audit, Links: a.identity, Mail: a.mail, Sessions: a.oidc, Passkeys: a.passkeys,
		}, admin.Options{Issuer: cfg.Issuer, Logger: logger}),
	}
	a.startup = []func(context.Context) error{a.ensureAdmin, a.oidc.Init}
	a.background = []func(context.Context) error{a.mail.Run, a.authz.Run, a.apikeys.Run, a.passkeys.Run, a.oidc.Run}
	return a, nil
}

func (a *app) close() {
	a.oidc.Close() // background key generation uses the database
	_ = a.db.Close()
}

// mailOptions turns the validated GATEHOUSE_SMTP_* settings into the mail
// service's; without a server, mailed links go to the log.
func mailOptions(cfg config.Config, logger *slog.Logger) mail.Options {
	opts := mail.Options{Issuer: cfg.Issuer, Logger: logger}
	if s, _ := cfg.SMTPServer(); s != nil {
		opts.From = s.From
		opts.Server = &mail.Server{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password,
			ImplicitTLS: s.ImplicitTLS, InsecureSkipVerify: s.InsecureSkipVerify}
	}
	return opts
}
