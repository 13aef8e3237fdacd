package audit

import (
	"encoding/json"
	"time"
)

// eventRow is the audit_events row; only this package touches it.
type eventRow struct {
	ID         string `gorm:"primaryKey"`
	Time       time.Time
	ActorType  string
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	Outcome    string
	IP         string `gorm:"column:ip"`
	UserAgent  string
	Details    string
}

func (eventRow) TableName() string { return "audit_events" }

func toRow(e Event) eventRow {
	details := "{}"
	if len(e.Details) > 0 {
		b, _ := json.Marshal(e.Details)
		details = string(b)
	}
	return eventRow{
		ID: e.ID, Time: e.Time, ActorType: e.Actor.Type, ActorID: e.Actor.ID,
		Action: e.Action, TargetType: e.Target.Type, TargetID: e.Target.ID,
		Outcome: e.Outcome, IP: e.IP, UserAgent: e.UserAgent, Details: details,
	}
}

func (r eventRow) toEvent() Event {
	e := Event{
		ID: r.ID, Time: r.Time.UTC(), Actor: Ref{Type: r.ActorType, ID: r.ActorID},
		Action: r.Action, Target: Ref{Type: r.TargetType, ID: r.TargetID},
		Outcome: r.Outcome, IP: r.IP, UserAgent: r.UserAgent,
	}
	if r.Details != "" && r.Details != "{}" {
		_ = json.Unmarshal([]byte(r.Details), &e.Details)
	}
	return e
}
