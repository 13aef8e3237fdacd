package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// mimeParts decodes a received message into its leaf parts by media type
// ("text/plain", "text/html"), undoing the transfer encoding, as a mail
// client would show them.
func mimeParts(t *testing.T, m testutil.Mail) map[string]string {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		t.Fatalf("the mail to %s is not a message: %v", m.To, err)
	}
	out := map[string]string{}
	var walk func(header map[string][]string, body io.Reader)
	walk = func(header map[string][]string, body io.Reader) {
		get := func(k string) string {
			if v := header[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		media, params, err := mime.ParseMediaType(get("Content-Type"))
		if err != nil {
			media = "text/plain"
		}
		if strings.HasPrefix(media, "multipart/") {
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatalf("the mail to %s: a broken MIME part: %v", m.To, err)
				}
				walk(p.Header, p)
			}
		}
		switch strings.ToLower(get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		var b bytes.Buffer
		if _, err := io.Copy(&b, body); err != nil {
			t.Fatalf("the mail to %s: decode its %s part: %v", m.To, media, err)
		}
		out[media] += b.String()
	}
	walk(msg.Header, msg.Body)
	return out
}

var anyPasswordLink = regexp.MustCompile(`https?://[^\s"'<>]+/password/reset\?token=[A-Za-z0-9_-]+`)

// invitationLink is the one link of an invitation mail: the text and the
// HTML part must both hold it, and it must be absolute on the issuer.
func invitationLink(t *testing.T, srv *server, m testutil.Mail) string {
	t.Helper()
	parts := mimeParts(t, m)
	text := anyPasswordLink.FindAllString(parts["text/plain"], -1)
	htm := anyPasswordLink.FindAllString(parts["text/html"], -1)
	if len(text) == 0 || len(htm) == 0 {
		t.Fatalf("the invitation to %s lacks the link in its text (%d) or HTML (%d) part:\n%s", m.To, len(text), len(htm), m.Raw)
	}
	link := text[0]
	for _, l := range append(text, htm...) {
		if l != link {
			t.Fatalf("the invitation to %s holds two links: %s and %s", m.To, link, l)
		}
	}
	if !strings.HasPrefix(link, srv.URL+"/password/reset?token=") {
		t.Fatalf("the invitation link %s is not absolute on the issuer %s", link, srv.URL)
	}
	return link
}

// navigationStatus is the HTTP status of the page the tab shows.
func navigationStatus(t *testing.T, ctx context.Context) int {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`performance.getEntriesByType("navigation")[0].responseStatus`))
	if err != nil {
		t.Fatalf("the page's status: %v", err)
	}
	return int(s)
}

// signedInClaims exchanges the code and returns the verified ID token's
// claims and the userinfo answer for its access token.
func signedInClaims(t *testing.T, p *oidc.Provider, cfg *oauth2.Config, clientID, code, verifier string) (id, userinfo map[string]any) {
	t.Helper()
	tok, err := cfg.Exchange(ctxTimeout(t), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctxTimeout(t), raw)
	if err != nil {
		t.Fatalf("the ID token: %v", err)
	}
	if err := idt.Claims(&id); err != nil {
		t.Fatal(err)
	}
	ui, err := p.UserInfo(ctxTimeout(t), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if err := ui.Claims(&userinfo); err != nil {
		t.Fatal(err)
	}
	return id, userinfo
}
