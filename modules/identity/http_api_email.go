package identity

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// createInvitationInput is POST /api/v1/invitations: like creating a user
// without a password, but the user gets a one-time link (7 days) to set one.
// An existing user without a password is invited again (the earlier link
// stops working).
type createInvitationInput struct {
	Body struct {
		Email string   `json:"email" maxLength:"254" doc:"Email address; the invitation goes there."`
		Name  string   `json:"name,omitempty" maxLength:"200" doc:"Display name (new users)."`
		Roles []string `json:"roles,omitempty" maxItems:"50" doc:"Role names to assign (new users)."`
	}
}

// invitationOutput is the invited user: 201 when the invitation created
// them, 200 when it re-invited a user who has no password yet.
type invitationOutput struct {
	Status int
	Body   invitationJSON
}

// invitationJSON is the user, and the invitation link when no mail server
// is configured: the caller (who may invite) passes it on themselves.
type invitationJSON struct {
	userJSON
	Link string `json:"link,omitempty" doc:"The one-time invitation link (valid 7 days). Present only when no mail server is configured (GATEHOUSE_SMTP_URL unset); with one the link is only mailed to the user."`
}

type userVerificationInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (m *identityModule) mountEmailAPI(api huma.API) {
	huma.Register(api, huma.Operation{OperationID: "create-invitation", Method: http.MethodPost, Path: "/invitations",
		Summary: "Invite a user (creates one without a password: 201; or re-invites one who has none: 200)", Tags: []string{"users"},
		DefaultStatus: http.StatusCreated, MaxBodyBytes: userBody}, m.createInvitation)
	huma.Register(api, huma.Operation{OperationID: "send-email-verification", Method: http.MethodPost, Path: "/users/{id}/email-verification",
		Summary: "Mail the user a link that confirms their email address", Tags: []string{"users"},
		DefaultStatus: http.StatusAccepted}, m.sendVerification)
}

// createInvitation needs what creating the user needs: users:create, and
// for each role the right to assign it without escalation. Re-inviting an
// existing user also needs every right that user holds.
func (m *identityModule) createInvitation(ctx context.Context, in *createInvitationInput) (*invitationOutput, error) {
	roles, err := m.mayCreateWithRoles(ctx, in.Body.Roles)
	if err != nil {
		return nil, err
	}
	status := http.StatusCreated
	if existing, err := m.svc.UserByEmail(ctx, in.Body.Email); err == nil {
		if err := m.guardTarget(ctx, existing.ID); err != nil {
			return nil, err
		}
		status = http.StatusOK
	} else if !errors.Is(err, ErrNotFound) {
		return nil, m.internal(ctx, err)
	}
	inv, err := m.svc.InviteUser(ctx, NewUser{Email: in.Body.Email, Name: in.Body.Name, Roles: roles})
	if errors.Is(err, ErrEmailTaken) {
		return nil, huma.Error409Conflict("a user with this email already has a password or is a service account",
			&huma.ErrorDetail{Location: "body.email", Message: "is already in use"})
	}
	if err != nil {
		return nil, m.apiError(ctx, err, "body.roles")
	}
	return &invitationOutput{Status: status, Body: invitationJSON{userJSON: toUserJSON(inv.User), Link: inv.Link}}, nil
}

// sendVerification mails a confirmation link to the user's own address;
// one's own account, or users:update on someone else's.
func (m *identityModule) sendVerification(ctx context.Context, in *userVerificationInput) (*struct{}, error) {
	if err := m.can(ctx, userRes(in.ID), "update"); err != nil {
		return nil, err
	}
	if err := m.svc.RequestEmailVerification(ctx, in.ID); err != nil {
		return nil, m.apiError(ctx, err, "")
	}
	return nil, nil
}
