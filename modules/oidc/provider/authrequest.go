package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"gorm.io/gorm"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/secret"
)

// authRequest is a pending authorization request (OpenID Connect Core
// 1.0 §3.1.2.1), persisted so that any replica can continue the flow. It
// implements op.AuthRequest.
type authRequest struct {
	ID                  string            `json:"-"`
	ClientID            string            `json:"client_id"`
	RedirectURI         string            `json:"redirect_uri"`
	State               string            `json:"state,omitempty"`
	Nonce               string            `json:"nonce,omitempty"`
	Scopes              []string          `json:"scopes"`
	ResponseType        oidc.ResponseType `json:"response_type"`
	ResponseMode        oidc.ResponseMode `json:"response_mode,omitempty"`
	Prompt              []string          `json:"prompt,omitempty"`
	MaxAge              *uint             `json:"max_age,omitempty"`
	UILocales           []string          `json:"ui_locales,omitempty"`
	LoginHint           string            `json:"login_hint,omitempty"`
	ACRValues           []string          `json:"acr_values,omitempty"`
	CodeChallenge       string            `json:"code_challenge,omitempty"`
	CodeChallengeMethod string            `json:"code_challenge_method,omitempty"`
	HintSubject         string            `json:"hint_subject,omitempty"` // sub of a valid id_token_hint
	Resource            string            `json:"resource,omitempty"`     // RFC 8707 (resource.go)
	CreatedAt           time.Time         `json:"-"`

	done        bool
	browserHash string
	authn       flow.Authentication
	// grantID names the grant the code starts (set when loaded by code).
	grantID string
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string          { return a.ID }
func (a *authRequest) GetACR() string         { return a.authn.ACR }
func (a *authRequest) GetAMR() []string       { return a.authn.AMR }
func (a *authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.authn.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetNonce() string       { return a.Nonce }
func (a *authRequest) GetRedirectURI() string { return a.RedirectURI }
func (a *authRequest) GetScopes() []string    { return a.Scopes }
func (a *authRequest) GetState() string       { return a.State }
func (a *authRequest) GetSubject() string     { return a.authn.UserID }
func (a *authRequest) Done() bool             { return a.done }
func (a *authRequest) sessionID() string      { return a.authn.SessionID }
func (a *authRequest) GetResponseType() oidc.ResponseType {
	return a.ResponseType
}
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// LogValue keeps secrets (state, nonce, challenge) out of logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("client_id", a.ClientID), slog.Any("scopes", a.Scopes))
}

type authRequestRow struct {
	ID        string `gorm:"primaryKey"`
	ClientID  string
	Request   string
	Authn     string
	Done      bool
	CreatedAt time.Time
	ExpiresAt time.Time
	// BrowserHash is the SHA-256 of the starting browser's auth-session
	// cookie; CodeIssuedAt is set once, when the request's code is issued
	// (browser_binding.go).
	BrowserHash  string
	CodeIssuedAt *time.Time
}

func (authRequestRow) TableName() string { return "oidc_auth_requests" }

type codeRow struct {
	CodeHash      string `gorm:"primaryKey"`
	AuthRequestID string
	ClientID      string
	GrantID       string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RedeemedAt    *time.Time
}

func (codeRow) TableName() string { return "oidc_codes" }

// CreateAuthRequest stores a validated authorization request (op.AuthStorage).
func (s *storage) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	now := s.p.now()
	a := &authRequest{
		ID: id.String(), ClientID: r.ClientID, RedirectURI: r.RedirectURI, State: r.State, Nonce: r.Nonce,
		Scopes: r.Scopes, ResponseType: r.ResponseType, ResponseMode: r.ResponseMode,
		Prompt: r.Prompt, MaxAge: r.MaxAge, LoginHint: r.LoginHint, ACRValues: r.ACRValues,
		CodeChallenge: r.CodeChallenge, CodeChallengeMethod: string(r.CodeChallengeMethod),
		HintSubject: userID, CreatedAt: now, Resource: authorizeResource(ctx),
	}
	for _, t := range r.UILocales {
		a.UILocales = append(a.UILocales, t.String())
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	row := authRequestRow{ID: a.ID, ClientID: a.ClientID, Request: string(body), CreatedAt: now, ExpiresAt: now.Add(s.p.opts.AuthRequestTTL),
		BrowserHash: browserHash(ctx)}
	if err := database.Conn(ctx, s.p.db.Gorm).Create(&row).Error; err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

// loadAuthRequest returns the unexpired request or errUnknownAuthRequest.
func (s *storage) loadAuthRequest(ctx context.Context, id string) (*authRequest, error) {
	var row authRequestRow
	err := database.Conn(ctx, s.p.db.Gorm).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, flow.ErrUnknownAuthRequest
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: load auth request: %w", err)
	}
	if !s.p.now().Before(row.ExpiresAt) {
		return nil, flow.ErrUnknownAuthRequest
	}
	a := new(authRequest)
	if err := json.Unmarshal([]byte(row.Request), a); err != nil {
		return nil, fmt.Errorf("oidc: decode auth request: %w", err)
	}
	a.ID, a.CreatedAt, a.done, a.browserHash = row.ID, row.CreatedAt, row.Done, row.BrowserHash
	if row.Authn != "" {
		if err := json.Unmarshal([]byte(row.Authn), &a.authn); err != nil {
			return nil, fmt.Errorf("oidc: decode auth request: %w", err)
		}
	}
	return a, nil
}

// AuthRequestByID (op.AuthStorage).
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	a, err := s.loadAuthRequest(ctx, id)
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request").WithParent(err)
	}
	return a, nil
}

// SaveAuthCode stores the code's SHA-256; the code itself is random (see
// codeCrypto) and lives 60 seconds (RFC 6749 §4.1.2 recommends ≤10 min).
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	a, err := s.loadAuthRequest(ctx, id)
	if err != nil {
		return oidc.ErrInvalidRequest().WithParent(err)
	}
	now := s.p.now()
	row := codeRow{CodeHash: secret.Hash(code), AuthRequestID: id, ClientID: a.ClientID, GrantID: id, CreatedAt: now, ExpiresAt: now.Add(s.p.opts.CodeTTL)}
	// One code per request: the compare-and-swap on code_issued_at and the
	// code's row commit together, so a replayed callback gets none.
	return database.Transact(ctx, s.p.db.Gorm, func(ctx context.Context) error {
		db := database.Conn(ctx, s.p.db.Gorm)
		res := db.Model(&authRequestRow{}).Where("id = ? AND done = ? AND code_issued_at IS NULL", id, true).Update("code_issued_at", now)
		if res.Error != nil {
			return oidc.ErrServerError().WithParent(res.Error)
		}
		if res.RowsAffected != 1 {
			return oidc.ErrInvalidRequest().WithDescription("this authorization request has already been used")
		}
		if err := db.Create(&row).Error; err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	})
}

// AuthRequestByCode redeems a code: one compare-and-swap marks it used. A
// code presented again (or lost in a race) is a replay: every token issued
// from it is revoked (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.5) and the
// answer is invalid_grant.
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	var out *authRequest
	var replay *codeRow
	err := database.Transact(ctx, s.p.db.Gorm, func(ctx context.Context) error {
		db := database.Conn(ctx, s.p.db.Gorm)
		var row codeRow
		err := db.Where("code_hash = ?", secret.Hash(code)).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return oidc.ErrInvalidGrant().WithDescription("unknown authorization code")
		}
		if err != nil {
			return err
		}
		now := s.p.now()
		if row.RedeemedAt != nil {
			replay = &row
			return nil
		}
		if !now.Before(row.ExpiresAt) {
			return oidc.ErrInvalidGrant().WithDescription("authorization code expired")
		}
		res := db.Model(&codeRow{}).Where("code_hash = ? AND redeemed_at IS NULL", row.CodeHash).Update("redeemed_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			replay = &row
			return nil
		}
		a, err := s.loadAuthRequest(ctx, row.AuthRequestID)
		if err != nil {
			return oidc.ErrInvalidGrant().WithDescription("authorization request expired").WithParent(err)
		}
		if !a.done {
			return oidc.ErrInvalidGrant().WithDescription("authorization request not completed")
		}
		a.grantID = row.GrantID
		out = a
		return nil
	})
	if err != nil {
		return nil, oidcOrServerError(err)
	}
	if replay != nil {
		if err := s.p.revokeGrant(ctx, replay.GrantID, "code.reuse_detected", replay.ClientID); err != nil {
			return nil, oidc.ErrServerError().WithParent(err)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used; tokens issued from it are revoked")
	}
	return out, nil
}

// DeleteAuthRequest (op.AuthStorage).
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return database.Conn(ctx, s.p.db.Gorm).Where("id = ?", id).Delete(&authRequestRow{}).Error
}

func oidcOrServerError(err error) error {
	var oe *oidc.Error
	if errors.As(err, &oe) {
		return err
	}
	return oidc.ErrServerError().WithParent(err)
}

// codeCrypto makes authorization codes 256-bit random strings. The library
// would encrypt the auth request id into the code; we look codes up by
// SHA-256 instead, so nothing needs to decrypt them, and bearer tokens are
// never opaque-encrypted (Decrypt always fails, so the library's token
// parsers fall through to JWT verification).
type codeCrypto struct{}

func (codeCrypto) Encrypt(string) (string, error) { return secret.Token(32), nil }

func (codeCrypto) Decrypt(string) (string, error) {
	return "", errors.New("oidc: not an encrypted token")
}
