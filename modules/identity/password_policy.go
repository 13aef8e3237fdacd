package identity

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// Password policy, after NIST SP 800-63B §5.1.1.2: at least 8 characters,
// up to 256 accepted (1024 bytes), checked against a list of commonly used
// passwords and a few context words; no composition rules, no expiry.
const (
	MinPasswordChars = 8
	MaxPasswordChars = 256
	MaxPasswordBytes = 1024
)

// commonPasswords holds the most common passwords of 8 characters or more,
// lower-cased, one per line, most common first (about 18,000 entries; derived
// from the MIT-licensed zxcvbn-ts "language-common" frequency list, whose
// shorter entries the minimum length already rejects).
//
//go:embed common_passwords.txt
var commonPasswordsText string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

func isCommonPassword(pw string) bool {
	commonOnce.Do(func() {
		lines := strings.Split(commonPasswordsText, "\n")
		commonSet = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				commonSet[l] = struct{}{}
			}
		}
	})
	_, ok := commonSet[strings.ToLower(pw)]
	return ok
}

// CheckPassword applies the policy. context holds words the password must
// not be (the user's email, its local part, the username): a password equal
// to one of them is as guessable as a common one. The error is a
// *validation.Error for field "password" with a message fit for the user.
func CheckPassword(pw string, context ...string) error {
	if !utf8.ValidString(pw) {
		return invalid("password", "must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordChars {
		return invalid("password", "must be at least 8 characters long")
	}
	if n > MaxPasswordChars || len(pw) > MaxPasswordBytes {
		return invalid("password", "must be at most 256 characters long")
	}
	lower := strings.ToLower(pw)
	if isCommonPassword(lower) || isTrivialPattern(lower) {
		return invalid("password", "is too common or easy to guess; choose a longer or less predictable one")
	}
	for _, w := range append(context, "gatehouse") {
		w = strings.ToLower(strings.TrimSpace(w))
		if len(w) >= 3 && (lower == w || strings.TrimRight(lower, "0123456789!") == w) {
			return invalid("password", "must not be your email, username or the service's name")
		}
	}
	return nil
}

// isTrivialPattern catches what lists miss: one character repeated
// ("aaaaaaaa"), a short unit repeated ("abcabcabc", "12121212") and
// straight runs ("12345678901", "abcdefghij", "98765432").
func isTrivialPattern(s string) bool {
	r := []rune(s)
	for unit := 1; unit <= 4 && unit < len(r); unit++ {
		rep := true
		for i := unit; i < len(r); i++ {
			if r[i] != r[i-unit] {
				rep = false
				break
			}
		}
		if rep {
			return true
		}
	}
	for _, step := range []rune{1, -1} {
		run := true
		for i := 1; i < len(r); i++ {
			d := r[i] - r[i-1]
			// Digits wrap around: "7890123" is a run too.
			if isDigit(r[i]) && isDigit(r[i-1]) {
				d = (d + 10) % 10
				if step < 0 {
					d -= 10
				}
			}
			if d != step {
				run = false
				break
			}
		}
		if run {
			return true
		}
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
