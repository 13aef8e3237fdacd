package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

// The provider implements the seam the sign-in pages drive.
var _ flow.AuthFlow = (*Provider)(nil)

// PendingRequest returns what the login and consent pages need to know about
// an authorization request that is neither expired nor completed.
func (p *Provider) PendingRequest(ctx context.Context, id string) (flow.PendingRequest, error) {
	a, err := p.storage.loadAuthRequest(ctx, id)
	if err != nil {
		return flow.PendingRequest{}, err
	}
	if err := checkBrowser(ctx, a); err != nil {
		return flow.PendingRequest{}, err
	}
	if a.done {
		return flow.PendingRequest{}, flow.ErrUnknownAuthRequest
	}
	rec, err := p.client(ctx, a.ClientID)
	if err != nil {
		return flow.PendingRequest{}, fmt.Errorf("oidc: client of auth request: %w", err)
	}
	pr := flow.PendingRequest{
		ID: a.ID, ClientID: a.ClientID, ClientName: rec.Name, FirstParty: rec.FirstParty,
		Scopes: slices.Clone(a.Scopes), Prompt: slices.Clone(a.Prompt), ACRValues: slices.Clone(a.ACRValues),
		LoginHint: a.LoginHint, UILocales: slices.Clone(a.UILocales), RedirectURI: a.RedirectURI,
		CreatedAt: a.CreatedAt,
	}
	if a.MaxAge != nil {
		d := time.Duration(*a.MaxAge) * time.Second
		pr.MaxAge = &d
	}
	return pr, nil
}

// CompleteRequest records the authentication on the request (once: a
// compare-and-swap on done) and returns the library's callback URL, which
// issues the code to the client's redirect_uri.
func (p *Provider) CompleteRequest(ctx context.Context, id string, a flow.Authentication) (string, error) {
	if a.UserID == "" || a.AuthTime.IsZero() || len(a.AMR) == 0 {
		return "", errors.New("oidc: completeRequest: user id, auth time and amr are required")
	}
	req, err := p.storage.loadAuthRequest(ctx, id)
	if err != nil {
		return "", err
	}
	if err := checkBrowser(ctx, req); err != nil {
		return "", err
	}
	if req.done {
		return "", flow.ErrUnknownAuthRequest
	}
	// max_age (and prompt=login, which the library turns into max_age=0) is
	// met by an authentication during this request or within max_age.
	fresh := !a.AuthTime.Before(req.CreatedAt.Truncate(time.Second))
	if req.MaxAge != nil && !fresh && p.now().Sub(a.AuthTime) > time.Duration(*req.MaxAge)*time.Second {
		return "", errors.New("oidc: completeRequest: authentication older than max_age")
	}
	if req.HintSubject != "" && req.HintSubject != a.UserID {
		return "", errors.New("oidc: completeRequest: signed-in user differs from id_token_hint")
	}
	if a.ACR == "" {
		a.ACR = flow.ACRPassword
		if slices.Contains(a.AMR, flow.AMRHardware) {
			a.ACR = flow.ACRPhishingResistant
		}
	}
	a.AuthTime = a.AuthTime.UTC().Truncate(time.Second)
	body, err := json.Marshal(a)
	if err != nil {
		return "", err
	}
	res := database.Conn(ctx, p.db.Gorm).Model(&authRequestRow{}).
		Where("id = ? AND done = ?", id, false).
		Updates(map[string]any{"done": true, "authn": string(body)})
	if res.Error != nil {
		return "", fmt.Errorf("oidc: complete auth request: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return "", flow.ErrUnknownAuthRequest
	}
	return p.issuer + pathCallback + "?id=" + url.QueryEscape(id), nil
}

// failRequests codes the pages may end a request with (OpenID Connect Core
// 1.0 §3.1.2.6, RFC 6749 §4.1.2.1, OpenID Connect Step-up / RFC 9470).
var failCodes = map[string]bool{
	"access_denied": true, "login_required": true, "consent_required": true,
	"interaction_required": true, "account_selection_required": true,
	"unmet_authentication_requirements": true, "temporarily_unavailable": true,
}

// FailRequest ends the request with an OAuth error and returns the client's
// registered redirect_uri carrying error, error_description and state (the
// library's op.AuthResponseURL, as op.AuthRequestError builds it).
func (p *Provider) FailRequest(ctx context.Context, id, code, description string) (string, error) {
	if !failCodes[code] {
		return "", fmt.Errorf("oidc: failRequest: unsupported error code %q", code)
	}
	a, err := p.storage.loadAuthRequest(ctx, id)
	if err != nil {
		return "", err
	}
	if err := checkBrowser(ctx, a); err != nil {
		return "", err
	}
	// oidc.Error's type is unexported, so codes such as consent_required
	// cannot be built with it; this carries the same form fields.
	e := &authErrorResponse{Error: code, Description: description, State: a.State}
	u, err := op.AuthResponseURL(a.RedirectURI, a.ResponseType, a.ResponseMode, e, p.op.Encoder())
	if err != nil {
		return "", err
	}
	if err := p.storage.DeleteAuthRequest(ctx, id); err != nil {
		return "", err
	}
	return u, nil
}

// authErrorResponse is an authorization error response (RFC 6749 §4.1.2.1).
type authErrorResponse struct {
	Error       string `schema:"error"`
	Description string `schema:"error_description,omitempty"`
	State       string `schema:"state,omitempty"`
}
