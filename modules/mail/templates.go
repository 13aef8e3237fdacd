package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Templates, each a plain-text file (first line "Subject: …", a blank
// line, the body) and an HTML alternative rendered in _layout.html. They
// carry no images, tracking pixels or redirecting links: every link is the
// absolute URL it names.
const (
	// TemplateInvite: vars link, name, expires.
	TemplateInvite = "invite"
	// TemplateReset: vars link, expires.
	TemplateReset = "reset"
	// TemplateVerify: vars link, expires (confirm the account's address).
	TemplateVerify = "verify"
	// TemplateEmailChange: vars link, new_email, expires (to the new address).
	TemplateEmailChange = "email_change"
	// TemplateNotice: a security notice; vars detail (one sentence).
	TemplateNotice = "notice"
)

var templateNames = []string{TemplateInvite, TemplateReset, TemplateVerify, TemplateEmailChange, TemplateNotice}

//go:embed templates/*.txt templates/*.html
var templateFS embed.FS

// view is what every template sees.
type view struct {
	Product, Issuer, To                  string
	Link, Name, Email, NewEmail, Expires string
	Detail                               string
}

type templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// parseTemplates parses every template at start, so a broken one fails
// boot rather than a message.
func parseTemplates() (*templates, error) {
	t := &templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, name := range templateNames {
		tt, err := texttemplate.New(name+".txt").Option("missingkey=error").ParseFS(templateFS, "templates/"+name+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail: template %s: %w", name, err)
		}
		ht, err := htmltemplate.New("_layout.html").ParseFS(templateFS, "templates/_layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail: template %s: %w", name, err)
		}
		t.text[name], t.html[name] = tt, ht
	}
	return t, nil
}

func (t *templates) render(name, product, issuer, to string, vars map[string]string) (Message, error) {
	tt, ok := t.text[name]
	if !ok {
		return Message{}, fmt.Errorf("mail: no template %q", name)
	}
	v := view{Product: product, Issuer: issuer, To: to}
	for k, val := range vars {
		switch k {
		case "link":
			v.Link = val
		case "name":
			v.Name = val
		case "email":
			v.Email = val
		case "new_email":
			v.NewEmail = val
		case "expires":
			v.Expires = val
		case "detail":
			v.Detail = val
		default:
			return Message{}, fmt.Errorf("mail: template %s: unknown variable %q", name, k)
		}
	}
	var text, html bytes.Buffer
	if err := tt.Execute(&text, v); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", name, err)
	}
	if err := t.html[name].Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("mail: render %s: %w", name, err)
	}
	first, body, _ := strings.Cut(text.String(), "\n")
	subject, ok := strings.CutPrefix(first, "Subject: ")
	if !ok {
		return Message{}, fmt.Errorf("mail: template %s: the first line must be \"Subject: …\"", name)
	}
	return Message{To: to, Subject: strings.TrimSpace(subject), Text: strings.TrimLeft(body, "\n"), HTML: html.String()}, nil
}
