package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
	"github.com/gatehouse/gatehouse/internal/validation"
)

// Format is an export's file format.
type Format string

// The export formats: CSV with a header row, and JSON lines, one event per
// line in the API's JSON shape.
const (
	CSV       Format = "csv"
	JSONLines Format = "jsonl"
)

// ParseFormat reads the format parameter of an export.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case CSV, JSONLines:
		return f, nil
	}
	return "", validation.Field("query.format", "must be csv or jsonl")
}

// ContentType is the media type of a download in format f.
func (f Format) ContentType() string {
	if f == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson"
}

// Lister lists one page of events: Service.List.
type Lister interface {
	List(ctx context.Context, f Filter) (Page, error)
}

// csvHeader names the CSV columns; the actor and target are split in two.
var csvHeader = []string{"id", "time", "actor_type", "actor_id", "action", "target_type", "target_id", "outcome", "ip", "user_agent"}

// Export writes every event matching f to w in format, newest first. It
// reads one page at a time with List's cursor, each page its own query, so
// memory stays bounded and no transaction or lock is held between pages
// (a writer on SQLite waits for one page's read at most). Nothing is written
// before the first page is read: an error from the filter comes back with
// w untouched. After each page, w is flushed if it can be (an
// http.ResponseWriter). f.PageToken is ignored; f.PageSize is the page read
// (zero: page.MaxSize).
func Export(ctx context.Context, l Lister, w io.Writer, format Format, f Filter) error {
	if _, err := ParseFormat(string(format)); err != nil {
		return err
	}
	if f.PageSize == 0 {
		f.PageSize = page.MaxSize
	}
	f.PageToken = ""
	out := newExportWriter(w, format)
	for {
		p, err := l.List(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range p.Items {
			if err := out.write(e); err != nil {
				return err
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
		if p.NextPageToken == "" {
			return nil
		}
		f.PageToken = p.NextPageToken
	}
}

// exportWriter encodes events in one format, buffering until flush: a
// CSV writer, or a JSON encoder over a buffer.
type exportWriter struct {
	w      io.Writer
	csv    *csv.Writer
	header bool
	buf    *bufio.Writer
	json   *json.Encoder
}

func newExportWriter(w io.Writer, format Format) *exportWriter {
	if format == CSV {
		return &exportWriter{w: w, csv: csv.NewWriter(w)}
	}
	buf := bufio.NewWriter(w)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return &exportWriter{w: w, buf: buf, json: enc}
}

func (x *exportWriter) write(e Event) error {
	if x.json != nil {
		return x.json.Encode(eventBody(e))
	}
	if err := x.writeHeader(); err != nil {
		return err
	}
	return x.csv.Write([]string{
		csvCell(e.ID), e.Time.UTC().Format(time.RFC3339Nano), csvCell(e.Actor.Type), csvCell(e.Actor.ID),
		csvCell(e.Action), csvCell(e.Target.Type), csvCell(e.Target.ID), csvCell(e.Outcome),
		csvCell(e.IP), csvCell(e.UserAgent),
	})
}

// flush writes what is buffered to w and flushes w; a CSV of no events
// still gets its header row.
func (x *exportWriter) flush() error {
	var err error
	if x.csv != nil {
		if err = x.writeHeader(); err == nil {
			x.csv.Flush()
			err = x.csv.Error()
		}
	} else {
		err = x.buf.Flush()
	}
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	if fl, ok := x.w.(interface{ Flush() }); ok {
		fl.Flush()
	}
	return nil
}

// writeHeader writes the CSV header row, once.
func (x *exportWriter) writeHeader() error {
	if x.header {
		return nil
	}
	x.header = true
	return x.csv.Write(csvHeader)
}

// csvCell defuses a spreadsheet formula (OWASP "CSV injection"): a cell
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// single quote, so a spreadsheet shows it as text instead of running it.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
