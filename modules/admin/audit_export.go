package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse/gatehouse/modules/audit"
)

// getAuditExport downloads every event that matches the audit page's
// filters (GET /admin/audit/export?format=csv|jsonl&actor=…), with the
// permission the page and the API's list require. audit.Export streams it
// page by page with the list cursor: memory stays bounded, and no
// transaction spans the download.
func (m *Module) getAuditExport(c echo.Context) error {
	ctx := c.Request().Context()
	if err := m.require(ctx, auditEvents, "read"); err != nil {
		return m.pageError(c, err)
	}
	format, err := audit.ParseFormat(c.QueryParam("format"))
	var f audit.Filter
	if err == nil {
		f, err = auditQuery(c).Filter()
	}
	if msg, ok := filterError(err); ok {
		return echo.NewHTTPError(http.StatusBadRequest, msg)
	}
	if err != nil {
		return m.pageError(c, err)
	}

	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, format.ContentType())
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+exportName(time.Now(), format)+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	err = audit.Export(ctx, m.d.Audit, streamWriter{res}, format, f)
	if err == nil {
		return nil
	}
	if !res.Committed {
		// Nothing sent yet: an error page instead of the download.
		h.Del(echo.HeaderContentDisposition)
		h.Del(echo.HeaderContentType)
		if msg, ok := filterError(err); ok {
			return echo.NewHTTPError(http.StatusBadRequest, msg)
		}
		return m.pageError(c, err)
	}
	// Part of the file is sent with a 200: end the connection without the
	// response's proper end, so the download fails rather than look whole.
	if !errors.Is(err, context.Canceled) {
		m.log.ErrorContext(ctx, "audit export", slog.String("error", err.Error()))
	}
	panic(http.ErrAbortHandler)
}

// exportName is the download's file name, dated (UTC).
func exportName(now time.Time, f audit.Format) string {
	return "gatehouse-audit-" + now.UTC().Format("2006-01-02") + "." + string(f)
}

// pageWriteTimeout is how long each page of a download may take to reach
// the client: the server's write timeout counts from the request, and would
// otherwise cut a large export short.
const pageWriteTimeout = time.Minute

// streamWriter is a download's response: each Flush (after a page) sends
// what is buffered and gives the next page pageWriteTimeout anew.
type streamWriter struct{ *echo.Response }

func (w streamWriter) Flush() {
	w.Response.Flush()
	// Not every writer has a deadline (a test recorder): nothing to extend.
	_ = http.NewResponseController(w.Response).SetWriteDeadline(time.Now().Add(pageWriteTimeout))
}
