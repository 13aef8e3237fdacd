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
// revalidates gets 304 Not Modified without the body.
type document struct {
	body []byte
	etag string // quoted: "…"
}

func newDocument(body []byte) *document {
	sum := sha256.Sum256(body)
	return &document{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
}

// serve writes the document, or 304 when If-None-Match names its ETag.
func (d *document) serve(w http.ResponseWriter, r *http.Request, contentType, cacheControl string) {
	h := w.Header()
	h["Etag"] = []string{d.etag}
	h["Cache-Control"] = []string{cacheControl}
	h["Access-Control-Allow-Origin"] = []string{"*"}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, d.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = []string{contentType}
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
