// Package web holds the embedded templates and static files and renders
// pages. Every template is parsed at start-up, so a broken template fails
// boot rather than a request.
//
// A page template lives at templates/<module>/<page>.html and defines
// "title" and "content"; it is rendered inside templates/layout/base.html.
// Static files are served under /static/ with a content hash in the query
// string, so they can be cached for a year.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed templates static
var files embed.FS

// Page is embedded in every view's data.
type Page struct {
	Title string
	// CSRF is the token every form repeats in a hidden csrf_token field.
	CSRF string
	// User is the signed-in user's display name, empty when signed out.
	User  string
	Flash string
	Error string
}

// Renderer renders named pages.
type Renderer struct {
	pages  map[string]*template.Template
	hashes map[string]string
}

// New parses every page under templates/ with the base layout.
func New() (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}, hashes: map[string]string{}}
	if err := r.hashStatic(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"static": r.staticURL}
	base, err := template.New("base.html").Funcs(funcs).ParseFS(files, "templates/layout/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || strings.HasPrefix(p, "templates/layout/") {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(files, p); err != nil {
			return fmt.Errorf("web: parse %s: %w", p, err)
		}
		r.pages[strings.TrimPrefix(p, "templates/")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Render writes page name (e.g. "oidc/login.html") with data. The page is
// rendered to a buffer first so a template error never sends half a page.
func (r *Renderer) Render(w io.Writer, name string, data any) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base.html", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// Has reports whether a page exists (for tests of a module's pages).
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }

func (r *Renderer) hashStatic() error {
	return fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		r.hashes[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
}

// staticURL is the template function {{static "style.css"}}.
func (r *Renderer) staticURL(name string) (string, error) {
	h, ok := r.hashes[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// StaticHandler serves /static/*.
func StaticHandler() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fileServer := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		if path.Ext(req.URL.Path) == "" {
			http.NotFound(w, req)
			return
		}
		fileServer.ServeHTTP(w, req)
	})
}
