package identity

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits. Emails follow RFC 5321 §4.5.3.1 (254 octets for a usable
// path); names are bounded to keep pages and tokens sane.
const (
	MaxEmailBytes       = 254
	MaxNameChars        = 200
	MaxUsernameChars    = 64
	MaxRoleNameChars    = 64
	MaxDescriptionChars = 500
	MaxQueryChars       = 254
)

var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$`)
	roleNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$`)
)

// normalizeEmail returns the trimmed address and its lower-cased form (the
// unique key), or a validation.Error. Only a bare addr-spec is accepted: no
// display name, no angle brackets, no comments.
func normalizeEmail(in string) (email, normalized string, err error) {
	email = strings.TrimSpace(in)
	if email == "" {
		return "", "", invalid("email", "is required")
	}
	if len(email) > MaxEmailBytes {
		return "", "", invalid("email", "must be at most 254 bytes")
	}
	if !utf8.ValidString(email) || strings.ContainsFunc(email, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", "", invalid("email", "must not contain spaces or control characters")
	}
	addr, perr := mail.ParseAddress(email)
	if perr != nil || addr.Address != email || addr.Name != "" {
		return "", "", invalid("email", "is not a valid email address")
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || len(local) > 64 || domain == "" || strings.HasPrefix(domain, "[") {
		return "", "", invalid("email", "is not a valid email address")
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", "", invalid("email", "is not a valid email address")
	}
	return email, strings.ToLower(email), nil
}

// normalizeUsername lower-cases and checks a username: 1-64 characters of
// a-z, 0-9, '.', '_', '-', starting and ending with a letter or digit. It
// cannot contain '@', so a login is an email exactly when it has one.
func normalizeUsername(in string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(in))
	if u == "" {
		return "", nil
	}
	if len(u) > MaxUsernameChars {
		return "", invalid("username", "must be at most 64 characters long")
	}
	if !usernamePattern.MatchString(u) {
		return "", invalid("username", "may contain only letters, digits, '.', '_' and '-', and must start and end with a letter or digit")
	}
	return u, nil
}

// checkName validates a display name: at most 200 characters, no control
// characters.
func checkName(in string) (string, error) {
	n := strings.TrimSpace(in)
	if !utf8.ValidString(n) {
		return "", invalid("name", "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(n) > MaxNameChars {
		return "", invalid("name", "must be at most 200 characters long")
	}
	if strings.ContainsFunc(n, unicode.IsControl) {
		return "", invalid("name", "must not contain control characters")
	}
	return n, nil
}

// CheckRoleName validates a role name: a lower-case slug ("user-admin",
// "billing_reader") of at most 64 characters starting with a letter.
func CheckRoleName(name string) error {
	if name == "" {
		return invalid("name", "is required")
	}
	if len(name) > MaxRoleNameChars {
		return invalid("name", "must be at most 64 characters long")
	}
	if !roleNamePattern.MatchString(name) {
		return invalid("name", "must be a lower-case slug: letters, digits and single '-' or '_' between them, starting with a letter")
	}
	return nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxDescriptionChars {
		return "", invalid("description", "must be at most 500 characters of text")
	}
	if strings.ContainsFunc(d, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return "", invalid("description", "must not contain control characters")
	}
	return d, nil
}

// normalizeQuery is the search prefix as stored: trimmed and lower-cased.
func normalizeQuery(q string) string { return strings.ToLower(strings.TrimSpace(q)) }
