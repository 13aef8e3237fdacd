// Package page is the one way Gatehouse lists things: keyset pagination with
// opaque cursors. A store asks for Size+1 rows after the cursor, and Cut
// trims the extra row and turns the last kept row into the next cursor, so
// pages stay stable while rows are inserted (no offset drift).
//
// The API's list shape is the same everywhere (CONTRACT.md "Lists"):
// {"items": [...], "next_page_token": "…"}, with page_size and page_token in
// the query; an empty next_page_token means the last page.
package page

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Page sizes: a zero size means DefaultSize; more than MaxSize is refused.
const (
	DefaultSize = 50
	MaxSize     = 200
	// maxTokenLen bounds what Decode reads; every cursor we issue is shorter.
	maxTokenLen = 256
)

// ErrBadToken: the page token was not issued by this API. Services wrap or
// return it; the API answers 422 naming query.page_token.
var ErrBadToken = errors.New("page_token is not a token this API returned")

// ErrBadSize: page_size is outside 1..MaxSize.
var ErrBadSize = fmt.Errorf("page_size must be between 1 and %d", MaxSize)

// Page is one page of items. An empty NextPageToken means the last page.
type Page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token"`
}

// Query is the page_size/page_token pair every list operation takes; huma
// reads it from the query string when embedded in an input struct.
type Query struct {
	PageSize  int    `query:"page_size" minimum:"1" maximum:"200" default:"50" doc:"Items per page (at most 200)."`
	PageToken string `query:"page_token" maxLength:"256" doc:"next_page_token of the previous page."`
}

// Size returns n, or DefaultSize for zero; ErrBadSize outside 1..MaxSize.
func Size(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultSize, nil
	case n < 0 || n > MaxSize:
		return 0, ErrBadSize
	}
	return n, nil
}

// Encode makes an opaque cursor from the sort key of the last row returned
// (one part per ordered column). Parts must not contain "\x00".
func Encode(parts ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
}

// Decode reverses Encode, requiring exactly n non-empty parts.
func Decode(token string, n int) ([]string, error) {
	// The decoder skips CR and LF; a token we issued has neither.
	if len(token) > maxTokenLen || strings.ContainsAny(token, "\r\n") {
		return nil, ErrBadToken
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil {
		return nil, ErrBadToken
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != n {
		return nil, ErrBadToken
	}
	for _, p := range parts {
		if p == "" {
			return nil, ErrBadToken
		}
	}
	return parts, nil
}

// Cut turns size+1 fetched rows into a page: it keeps the first size rows,
// converts each with conv, and, when there was an extra row, makes the next
// cursor from the last kept row with key.
func Cut[R, T any](rows []R, size int, key func(R) []string, conv func(R) T) Page[T] {
	p := Page[T]{}
	if len(rows) > size {
		rows = rows[:size]
		p.NextPageToken = Encode(key(rows[len(rows)-1])...)
	}
	p.Items = make([]T, len(rows))
	for i, r := range rows {
		p.Items[i] = conv(r)
	}
	return p
}

// Map converts a page's items, keeping its cursor (service DTOs to JSON).
func Map[T, U any](p Page[T], conv func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, len(p.Items)), NextPageToken: p.NextPageToken}
	for i, it := range p.Items {
		out.Items[i] = conv(it)
	}
	return out
}
