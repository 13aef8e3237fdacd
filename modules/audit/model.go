package audit

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
)

// Outcomes of an audited action.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Ref names an actor or a target: a type ("user", "client", "api_key",
// "role", ...) and an id.
type Ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Event is one security event. Record fills Actor, IP and UserAgent from the
// request context when they are empty.
type Event struct {
	ID        string            `json:"id"`
	Time      time.Time         `json:"time"`
	Actor     Ref               `json:"actor"`
	Action    string            `json:"action"` // e.g. "user.create", "login.failure"
	Target    Ref               `json:"target"`
	Outcome   string            `json:"outcome"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	Details   map[string]string `json:"details,omitempty"`
}

// Filter selects events for List. Zero fields match everything.
type Filter struct {
	ActorType  string
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Until      time.Time
	PageSize   int
	PageToken  string
}

// Page is one page of events, newest first.
type Page = page.Page[Event]
