package main

import (
	"context"

	"github.com/gatehouse/gatehouse/modules/apikeys"
	"github.com/gatehouse/gatehouse/modules/oidc/signin"
)

// accountKeys adapts apikeys.Service to the sign-in pages' signin.APIKeys
// (a user's own keys on /account): oidc may not import apikeys, so main
// joins them. The calls are the API's, audited alike.
type accountKeys struct{ s *apikeys.Service }

var _ signin.APIKeys = accountKeys{}

// CreateKey issues an unrestricted key (the owner's rights) for userID.
func (a accountKeys) CreateKey(ctx context.Context, userID, name string) (signin.APIKey, string, error) {
	k, err := a.s.Create(ctx, apikeys.NewKey{UserID: userID, Name: name})
	if err != nil {
		return signin.APIKey{}, "", err
	}
	return accountKey(k.Key), k.Secret, nil
}

// ListKeys returns every active key of userID, page by page.
func (a accountKeys) ListKeys(ctx context.Context, userID string) ([]signin.APIKey, error) {
	var out []signin.APIKey
	f := apikeys.Filter{UserID: userID}
	for {
		pg, err := a.s.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, k := range pg.Items {
			out = append(out, accountKey(k))
		}
		if pg.NextPageToken == "" {
			return out, nil
		}
		f.PageToken = pg.NextPageToken
	}
}

// RevokeKey revokes the key with id.
func (a accountKeys) RevokeKey(ctx context.Context, id string) error {
	_, err := a.s.Revoke(ctx, id)
	return err
}

func accountKey(k apikeys.Key) signin.APIKey {
	return signin.APIKey{ID: k.ID, Name: k.Name, Prefix: apikeys.Prefix + k.PublicID,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt}
}
