package provider

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/modules/identity"
)

func TestClaimsFor(t *testing.T) {
	updated := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	u := identity.User{ID: "u1", Email: "ada@example.test", Username: "ada", Name: "Ada Lovelace", EmailVerified: true, UpdatedAt: updated}
	noUsername := u
	noUsername.Username = ""
	tests := []struct {
		name   string
		user   identity.User
		roles  []string
		scopes []string
		want   map[string]any
	}{
		{"openid only: sub", u, []string{"admin"}, []string{"openid"}, map[string]any{"sub": "u1"}},
		{"profile", u, nil, []string{"openid", "profile"}, map[string]any{
			"sub": "u1", "name": "Ada Lovelace", "preferred_username": "ada", "updated_at": updated.Unix()}},
		{"profile falls back to email as username", noUsername, nil, []string{"profile"}, map[string]any{
			"sub": "u1", "name": "Ada Lovelace", "preferred_username": "ada@example.test", "updated_at": updated.Unix()}},
		{"email", u, nil, []string{"openid", "email"}, map[string]any{"sub": "u1", "email": "ada@example.test", "email_verified": true}},
		{"roles sorted, deduplicated", u, []string{"user-admin", "admin", "admin"}, []string{"roles"}, map[string]any{
			"sub": "u1", "roles": []string{"admin", "user-admin"}}},
		{"roles scope without roles: empty array", u, nil, []string{"roles"}, map[string]any{"sub": "u1", "roles": []string{}}},
		{"roles need the scope", u, []string{"admin"}, []string{"openid", "profile", "email"}, map[string]any{
			"sub": "u1", "name": "Ada Lovelace", "preferred_username": "ada", "updated_at": updated.Unix(),
			"email": "ada@example.test", "email_verified": true}},
		{"API scopes release nothing", u, []string{"admin"}, []string{"users:read"}, map[string]any{"sub": "u1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := claimsFor(tt.user, tt.roles, nil, tt.scopes)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("claimsFor = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestClaimsForPermissions pins the permissions claim: present exactly when
// the caller passes a non-nil list (the client has the option), whatever
// the scopes; always a sorted, deduplicated array; independent of roles.
func TestClaimsForPermissions(t *testing.T) {
	u := identity.User{ID: "u1", Email: "ada@example.test"}
	tests := []struct {
		name   string
		roles  []string
		perms  []string
		scopes []string
		want   map[string]any
	}{
		{"option off (nil): no claim", nil, nil, []string{"openid"}, map[string]any{"sub": "u1"}},
		{"empty list: empty array", nil, []string{}, []string{"openid"}, map[string]any{"sub": "u1", "permissions": []string{}}},
		{"sorted, deduplicated", nil, []string{"users:*#read", "invoice:*#read", "users:*#read"}, []string{"openid"},
			map[string]any{"sub": "u1", "permissions": []string{"invoice:*#read", "users:*#read"}}},
		{"no scope needed", nil, []string{"*:*#*"}, nil, map[string]any{"sub": "u1", "permissions": []string{"*:*#*"}}},
		{"beside roles and email", []string{"auditor"}, []string{"*:*#read"}, []string{"openid", "email", "roles"},
			map[string]any{"sub": "u1", "email": "ada@example.test", "email_verified": false,
				"roles": []string{"auditor"}, "permissions": []string{"*:*#read"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]string(nil), tt.perms...)
			if tt.perms != nil && in == nil {
				in = []string{}
			}
			got := claimsFor(u, tt.roles, in, tt.scopes)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("claimsFor = %#v\nwant %#v", got, tt.want)
			}
			if !reflect.DeepEqual(in, tt.perms) && !(len(in) == 0 && len(tt.perms) == 0) {
				t.Errorf("claimsFor changed its input: %v", in)
			}
		})
	}
}
