package signin

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/modules/oidc/flow"
)

// errSessionNotFound: no live session for that cookie value or id. Pages treat
// it as "signed out"; the provider's RP-initiated logout ignores it.
var errSessionNotFound = errors.New("oidc: session not found or expired")

// session is a server-side browser session. The cookie carries a random
// value; the row stores only its SHA-256, so a database dump does not hand
// out live sessions. ID is the public id (the ID token's sid).
type session struct {
	ID         string
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// AuthTime is the time of the most recent authentication in the session
	// (OIDC Core 1.0 §2 auth_time); AMR accumulates every method proven.
	AuthTime time.Time
	// PasskeyAt is when a passkey was last proven in the session (zero if
	// never): step-up asks for one proven during the request.
	PasskeyAt time.Time
	AMR       []string
	ACR       string
	IP        string
	UserAgent string
	// ExpiresAt is the absolute end; the idle end is LastSeenAt+IdleTimeout.
	ExpiresAt time.Time
}

// authentication returns what the session proves, for completeRequest.
func (s session) authentication() flow.Authentication {
	return flow.Authentication{
		UserID:    s.UserID,
		SessionID: s.ID,
		AuthTime:  s.AuthTime,
		AMR:       slices.Clone(s.AMR),
		ACR:       s.ACR,
	}
}

// hasMethod reports whether the session proved method (an AMR value).
func (s session) hasMethod(method string) bool { return slices.Contains(s.AMR, method) }

type sessionRow struct {
	ID         string     `gorm:"column:id;primaryKey"`
	TokenHash  string     `gorm:"column:token_hash"`
	UserID     string     `gorm:"column:user_id"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastSeenAt time.Time  `gorm:"column:last_seen_at"`
	AuthTime   time.Time  `gorm:"column:auth_time"`
	PasskeyAt  *time.Time `gorm:"column:passkey_at"`
	AMR        string     `gorm:"column:amr"`
	ACR        string     `gorm:"column:acr"`
	IP         string     `gorm:"column:ip"`
	UserAgent  string     `gorm:"column:user_agent"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
}

func (sessionRow) TableName() string { return "oidc_sessions" }

func (r sessionRow) toSession() session {
	return session{
		ID:         r.ID,
		UserID:     r.UserID,
		CreatedAt:  r.CreatedAt.UTC(),
		LastSeenAt: r.LastSeenAt.UTC(),
		AuthTime:   r.AuthTime.UTC(),
		PasskeyAt:  passkeyTime(r.PasskeyAt),
		AMR:        strings.Fields(r.AMR),
		ACR:        r.ACR,
		IP:         r.IP,
		UserAgent:  r.UserAgent,
		ExpiresAt:  r.ExpiresAt.UTC(),
	}
}

// sessionTimeouts bound a session's life.
type sessionTimeouts struct {
	// Idle ends a session not used for this long.
	Idle time.Duration
	// Absolute ends a session this long after it began, used or not.
	Absolute time.Duration
	// Touch is the least time between two last_seen_at writes, so a busy
	// browser does not cause a write per request.
	Touch time.Duration
}

// defaultSessionTimeouts: a working day idle, a week at most.
var defaultSessionTimeouts = sessionTimeouts{Idle: 12 * time.Hour, Absolute: 7 * 24 * time.Hour, Touch: time.Minute}

// normalizeAMR sorts and de-duplicates methods (RFC 8176 values).
func normalizeAMR(amr []string) []string {
	out := make([]string, 0, len(amr))
	for _, m := range amr {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

// acrFor derives the ACR from the methods proven: "phr" (phishing-resistant)
// once a hardware-bound key with user verification was proven, else "pwd".
func acrFor(amr []string) string {
	if slices.Contains(amr, flow.AMRHardware) {
		return flow.ACRPhishingResistant
	}
	return flow.ACRPassword
}

// passkeyTime is a nullable passkey_at as a time (zero when never).
func passkeyTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// provesPasskey reports whether methods include a passkey (hwk).
func provesPasskey(methods []string) bool { return slices.Contains(methods, flow.AMRHardware) }

func sessionTruncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
