package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/internal/validation"
	"github.com/gatehouse/gatehouse/modules/audit"
)

// crafted is an event whose every text field holds what CSV must quote
// (quotes, commas, newlines) or defuse (a leading =, +, -, @ or tab).
var crafted = audit.Event{
	ID: "07-crafted", Time: t0.Add(7 * time.Minute),
	Actor:     audit.Ref{Type: "user", ID: `@evil, "x"`},
	Action:    `=HYPERLINK("http://evil.example","click")`,
	Target:    audit.Ref{Type: "\tuser", ID: "+1\nline two"},
	Outcome:   audit.Failure,
	IP:        "-2+3",
	UserAgent: "Mozilla/5.0 \"quoted\", with a comma\nand a newline",
}

// all returns every event the log lists for f, newest first.
func all(t *testing.T, svc *audit.Service, f audit.Filter) []audit.Event {
	t.Helper()
	f.PageSize = 200
	p, err := svc.List(context.Background(), f)
	if err != nil || p.NextPageToken != "" {
		t.Fatalf("list: %v (next %q)", err, p.NextPageToken)
	}
	return p.Items
}

// defused is a cell as the CSV export must write it.
func defused(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

func TestExportCSV(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		ctx := context.Background()
		seed(t, svc)
		if err := svc.Record(ctx, crafted); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := audit.Export(ctx, svc, &out, audit.CSV, audit.Filter{PageSize: 3}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatalf("the export is not CSV: %v", err)
		}
		want := [][]string{{"id", "time", "actor_type", "actor_id", "action", "target_type", "target_id", "outcome", "ip", "user_agent"}}
		for _, e := range all(t, svc, audit.Filter{}) {
			want = append(want, []string{defused(e.ID), e.Time.Format(time.RFC3339Nano), defused(e.Actor.Type), defused(e.Actor.ID),
				defused(e.Action), defused(e.Target.Type), defused(e.Target.ID), defused(e.Outcome), defused(e.IP), defused(e.UserAgent)})
		}
		if len(want) != 8 {
			t.Fatalf("%d events listed, want 7", len(want)-1)
		}
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("CSV rows:\n%q\nwant:\n%q", rows, want)
		}
		// The crafted event is newest: its text is back whole, and every
		// cell that a spreadsheet would run is text.
		got := rows[1]
		if got[0] != crafted.ID || got[3] != "'"+crafted.Actor.ID || got[4] != "'"+crafted.Action || got[5] != "'"+crafted.Target.Type ||
			got[6] != "'"+crafted.Target.ID || got[8] != "'"+crafted.IP || got[9] != crafted.UserAgent {
			t.Fatalf("crafted row %q", got)
		}

		// Filters apply; an empty result is the header alone.
		out.Reset()
		if err := audit.Export(ctx, svc, &out, audit.CSV, audit.Filter{ActorID: "bob", Action: "apikey.revoke"}); err != nil {
			t.Fatal(err)
		}
		if rows, err := csv.NewReader(&out).ReadAll(); err != nil || len(rows) != 2 || rows[1][0] != "03-e3" {
			t.Fatalf("filtered export %q (%v)", rows, err)
		}
		out.Reset()
		if err := audit.Export(ctx, svc, &out, audit.CSV, audit.Filter{ActorID: "nobody"}); err != nil {
			t.Fatal(err)
		}
		if out.String() != strings.Join(want[0], ",")+"\n" {
			t.Fatalf("empty export %q", out.String())
		}
	})
}

func TestExportJSONLinesIsTheAPIShape(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		ctx := context.Background()
		seed(t, svc)
		if err := svc.Record(ctx, crafted); err != nil {
			t.Fatal(err)
		}
		api, _ := newServer(t, db)
		status, body, _ := get(t, api, "auditor", "/api/v1/audit-events?page_size=200")
		if status != 200 {
			t.Fatalf("API: %d %s", status, body)
		}
		var listed struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(body), &listed); err != nil || len(listed.Items) != 7 {
			t.Fatalf("API items %d: %v", len(listed.Items), err)
		}

		var out bytes.Buffer
		if err := audit.Export(ctx, svc, &out, audit.JSONLines, audit.Filter{PageSize: 2}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != len(listed.Items) {
			t.Fatalf("%d lines, want %d:\n%s", len(lines), len(listed.Items), out.String())
		}
		for i, line := range lines {
			var got map[string]any
			if err := json.Unmarshal([]byte(line), &got); err != nil {
				t.Fatalf("line %d %q: %v", i+1, line, err)
			}
			if !reflect.DeepEqual(got, listed.Items[i]) {
				t.Fatalf("line %d:\n%v\nthe API says:\n%v", i+1, got, listed.Items[i])
			}
		}
		if !strings.Contains(lines[0], `"action":"=HYPERLINK(\"http://evil.example\",\"click\")"`) {
			t.Errorf("JSON lines are not the text as recorded: %s", lines[0])
		}
	})
}

// countingLister is the real service, counting the pages read.
type countingLister struct {
	*audit.Service
	pages int
}

func (l *countingLister) List(ctx context.Context, f audit.Filter) (audit.Page, error) {
	l.pages++
	return l.Service.List(ctx, f)
}

// recordingWriter records a newer event through the same database at every
// page the export flushes: a write while the export is under way.
type recordingWriter struct {
	bytes.Buffer
	t       *testing.T
	svc     *audit.Service
	flushes int
}

func (w *recordingWriter) Flush() {
	w.flushes++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := audit.Event{ID: fmt.Sprintf("new-%03d", w.flushes), Time: time.Now(), Action: "user.update"}
	if err := w.svc.Record(ctx, e); err != nil {
		w.t.Errorf("a write during the export failed: %v", err)
	}
}

// seedMany records n events in one transaction, two per second so that
// the id breaks ties, and returns their ids newest first.
func seedMany(t *testing.T, db database.DB, svc *audit.Service, n int) []string {
	t.Helper()
	ids := make([]string, n)
	err := database.Transact(context.Background(), db.Gorm, func(ctx context.Context) error {
		for i := range n {
			id := fmt.Sprintf("m-%04d", i)
			ids[n-1-i] = id
			e := audit.Event{ID: id, Time: t0.Add(time.Duration(i/2) * time.Second), Actor: audit.Ref{Type: "user", ID: "alice"}, Action: "user.update"}
			if err := svc.Record(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestExportManyPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		want := seedMany(t, db, svc, 250)
		l := &countingLister{Service: svc}
		w := &recordingWriter{t: t, svc: svc}
		if err := audit.Export(context.Background(), l, w, audit.JSONLines, audit.Filter{PageSize: 7}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n") {
			var e struct{ ID string }
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			got = append(got, e.ID)
		}
		// Every event once, newest first; the ones recorded meanwhile are
		// newer than the cursor, so not in this export.
		if !equal(got, want) {
			t.Fatalf("exported %d ids %v..., want %d newest first", len(got), got[:min(len(got), 5)], len(want))
		}
		// 35 full pages of 7 and one of 5, each its own read and flush.
		if l.pages != 36 || w.flushes != 36 {
			t.Fatalf("%d pages read, %d flushes; want 36 of each", l.pages, w.flushes)
		}
		if n := len(all(t, svc, audit.Filter{Action: "user.update", Since: t0.Add(time.Hour)})); n != 36 {
			t.Fatalf("%d events recorded during the export, want 36", n)
		}
	})
}

// cancellingWriter cancels the export's context once the first page is out.
type cancellingWriter struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancellingWriter) Flush() { w.cancel() }

func TestExportStopsWhenCancelled(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		svc := audit.New(db)
		seedMany(t, db, svc, 30)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := &cancellingWriter{cancel: cancel}
		if err := audit.Export(ctx, svc, w, audit.CSV, audit.Filter{PageSize: 10}); err == nil {
			t.Fatal("the export ended without an error after its context was cancelled")
		}
		rows, err := csv.NewReader(&w.Buffer).ReadAll()
		if err != nil || len(rows) != 11 || rows[1][0] != "m-0029" || rows[10][0] != "m-0020" {
			t.Fatalf("%d rows written (%v), want the header and the first page", len(rows), err)
		}
	})
}

func TestExportRefusesBadInput(t *testing.T) {
	svc := audit.New(testutil.NewSQLite(t))
	for _, s := range []string{"", "xml", "CSV", "csv "} {
		if _, err := audit.ParseFormat(s); err == nil {
			t.Errorf("format %q accepted", s)
		} else if ve, ok := validation.As(err); !ok || ve.Field != "query.format" {
			t.Errorf("format %q: %v", s, err)
		}
	}
	// A filter List refuses comes back before anything is written.
	var out bytes.Buffer
	err := audit.Export(context.Background(), svc, &out, audit.CSV, audit.Filter{Since: t0.Add(time.Hour), Until: t0})
	if ve, ok := validation.As(err); !ok || ve.Field != "query.since" || out.Len() != 0 {
		t.Fatalf("err = %v, %d bytes written", err, out.Len())
	}
	if err := audit.Export(context.Background(), svc, io.Discard, audit.Format("xml"), audit.Filter{}); err == nil {
		t.Fatal("an unknown format exported")
	}
}
