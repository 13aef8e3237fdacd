package apikeys

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/modules/identity"
)

// ServiceAccountDomain is the mail domain of generated service-account
// addresses (".invalid" is reserved by RFC 2606: nothing is ever sent).
const ServiceAccountDomain = "service-accounts.invalid"

// CreateServiceAccount creates a Machine user through the identity module
// (which validates and audits it as user.create). Without an email one is
// generated under ServiceAccountDomain. Its API keys are then created with
// Create like anyone's.
func (s *Service) CreateServiceAccount(ctx context.Context, name, email string) (identity.User, error) {
	if strings.TrimSpace(email) == "" {
		local, err := randomBase62(12)
		if err != nil {
			return identity.User{}, err
		}
		email = "sa-" + strings.ToLower(local) + "@" + ServiceAccountDomain
	}
	return s.users.CreateUser(ctx, identity.NewUser{Email: email, Name: name, Machine: true})
}

type serviceAccountCreateBody struct {
	Name  string `json:"name" minLength:"1" maxLength:"200"`
	Email string `json:"email,omitempty" maxLength:"254" doc:"Optional; generated under service-accounts.invalid when omitted."`
}

type serviceAccountInput struct {
	Body serviceAccountCreateBody
}

// ServiceAccountBody is a service account in API responses.
type ServiceAccountBody struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Machine   bool      `json:"machine"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

type serviceAccountOutput struct {
	Body ServiceAccountBody
}

func registerServiceAccounts(hapi huma.API, a api) {
	huma.Register(hapi, huma.Operation{
		OperationID: "create-service-account", Method: http.MethodPost, Path: "/service-accounts",
		Summary: "Create a service account (a machine user that authenticates with API keys)",
		Tags:    []string{"API keys"}, DefaultStatus: http.StatusCreated, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *serviceAccountInput) (*serviceAccountOutput, error) {
		if err := a.can(ctx, principal.Resource{Type: "users", ID: "*"}, "create"); err != nil {
			return nil, err
		}
		u, err := a.svc.CreateServiceAccount(ctx, in.Body.Name, in.Body.Email)
		if err != nil {
			return nil, httpError(err)
		}
		roles := u.Roles
		if roles == nil {
			roles = []string{}
		}
		return &serviceAccountOutput{Body: ServiceAccountBody{
			ID: u.ID, Email: u.Email, Name: u.Name, Status: u.Status, Machine: u.Machine,
			Roles: roles, CreatedAt: u.CreatedAt,
		}}, nil
	})
}
