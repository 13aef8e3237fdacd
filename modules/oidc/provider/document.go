package provider

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// document is a public JSON document served from prebuilt bytes (discovery,
// JWKS) with a strong ETag derived from its content, so every replica
// holding the same key set answers the same ETag, and a client that
// revalidates gets 304 Not Modified without the body. The header values
// are built once too: these GETs are the provider's most frequent and
// cheapest requests, and a fresh slice per header was a measurable share.
// The slices are shared by every response and never modified.
type document struct {
	body   []byte
	etag   string        // quoted: "…"
	header []headerValue // ETag, Cache-Control, Access-Control-Allow-Origin
	ctype  []string
}

type headerValue struct {
	name  string
	value []string
}

var anyOrigin = []string{"*"}

// newDocument prepares body for serving as contentType with cacheControl.
func newDocument(body []byte, contentType, cacheControl string) *document {
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
	return &document{body: body, etag: etag, ctype: []string{contentType},
		header: []headerValue{{"Etag", []string{etag}}, {"Cache-Control", []string{cacheControl}}, {"Access-Control-Allow-Origin", anyOrigin}}}
}

// serve writes the document, or 304 when If-None-Match names its ETag.
func (d *document) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, v := range d.header {
		h[v.name] = v.value
	}
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && etagMatches(inm[0], d.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = d.ctype
	_, _ = w.Write(d.body)
}

// etagMatches is If-None-Match's weak comparison (RFC 9110 §13.1.2): "*",
// or any listed tag equal to etag with a W/ prefix ignored.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
