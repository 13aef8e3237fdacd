package authz

import "strings"

// The algebra of rights the no-escalation checks use (covers.go): a rule
// is a span of (resource type, resource id, action) patterns, where "*"
// matches anything; a span contains, overlaps or meets another.

// pat is a keyMatch pattern of one part (type, id or action): a value
// matches when it equals prefix (exact) or starts with it (wild: the
// pattern had a "*"; keyMatch ignores what follows the first "*").
type pat struct {
	prefix string
	wild   bool
}

func parsePat(s string) pat {
	if i := strings.IndexByte(s, '*'); i >= 0 {
		return pat{prefix: s[:i], wild: true}
	}
	return pat{prefix: s}
}

// contains: every value b matches, a matches too.
func (a pat) contains(b pat) bool {
	if !a.wild {
		return !b.wild && a.prefix == b.prefix
	}
	return strings.HasPrefix(b.prefix, a.prefix)
}

// overlaps: some value matches both.
func (a pat) overlaps(b pat) bool {
	switch {
	case !a.wild && !b.wild:
		return a.prefix == b.prefix
	case !a.wild:
		return strings.HasPrefix(a.prefix, b.prefix)
	case !b.wild:
		return strings.HasPrefix(b.prefix, a.prefix)
	}
	return strings.HasPrefix(a.prefix, b.prefix) || strings.HasPrefix(b.prefix, a.prefix)
}

// meet is the intersection of two overlapping patterns: the narrower one.
func (a pat) meet(b pat) pat {
	if a.contains(b) {
		return b
	}
	return a
}

// span is the set of (type, id, action) a rule applies to.
type span struct{ typ, id, act pat }

func spanOf(r Rule) span {
	typ, id, _ := strings.Cut(r.Resource, ":")
	act := pat{prefix: r.Action}
	if r.Action == "*" {
		act = pat{wild: true}
	}
	return span{typ: parsePat(typ), id: parsePat(id), act: act}
}

func (a span) contains(b span) bool {
	return a.typ.contains(b.typ) && a.id.contains(b.id) && a.act.contains(b.act)
}

func (a span) overlaps(b span) bool {
	return a.typ.overlaps(b.typ) && a.id.overlaps(b.id) && a.act.overlaps(b.act)
}

func (a span) meet(b span) span {
	return span{typ: a.typ.meet(b.typ), id: a.id.meet(b.id), act: a.act.meet(b.act)}
}

// scopesCover reports whether scopes allow every (type, action) of s, as
// ScopesAllow decides for one request.
func scopesCover(scopes []string, s span) bool {
	for _, sc := range scopes {
		t, a, ok := strings.Cut(sc, ":")
		if !ok {
			continue
		}
		if (t == "*" || (!s.typ.wild && t == s.typ.prefix)) && (a == "*" || (!s.act.wild && a == s.act.prefix)) {
			return true
		}
	}
	return false
}
