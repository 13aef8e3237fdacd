package provider

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/httpserver"
	"github.com/labstack/echo/v4"
)

// browserEndpoint serves the endpoints a browser visits (/authorize, its
// callback, /end_session). When the library refuses a request without
// redirecting (unknown client, unregistered redirect_uri: RFC 6749 §4.1.2.1
// forbids redirecting then), a browser gets the server's HTML error page
// instead of the library's JSON or plain text.
func (p *Provider) browserEndpoint(c echo.Context) error {
	rec := &bufferedResponse{header: http.Header{}}
	p.opHandler().ServeHTTP(rec, c.Request())
	if rec.status >= 400 && !httpserver.IsAPIRequest(c.Request()) {
		msg := strings.TrimSpace(rec.body.String())
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(rec.body.Bytes(), &e) == nil && e.Error != "" {
			msg = e.Error
			if e.Description != "" {
				msg = e.Description
			}
		}
		if msg == "" || len(msg) > 500 {
			msg = http.StatusText(rec.status)
		}
		return echo.NewHTTPError(rec.status, msg)
	}
	w := c.Response()
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, err := w.Write(rec.body.Bytes())
	return err
}

// bufferedResponse holds a small response until we know how to answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}
