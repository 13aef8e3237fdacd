package authz

import (
	"regexp"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/validation"

	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
)

// Effects.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Rule is a policy rule as clients write it.
type Rule struct {
	Subject   string // "role:<name>" or "user:<id>"
	Resource  string // "<type>:<id>", "*" wildcards
	Action    string // name or "*"
	Effect    string // "allow" or "deny"
	Condition string // optional govaluate expression
}

// Policy is a stored rule.
type Policy struct {
	ID        string
	Subject   string
	Resource  string
	Action    string
	Effect    string
	Condition string
	// BuiltIn rules are seeded by migration and cannot be deleted or
	// replaced through the API.
	BuiltIn   bool
	CreatedAt time.Time
}

// Rule returns the rule part of p.
func (p Policy) Rule() Rule {
	return Rule{Subject: p.Subject, Resource: p.Resource, Action: p.Action, Effect: p.Effect, Condition: p.Condition}
}

// key identifies a rule's content (the unique index of authz_policies).
func (r Rule) key() string {
	return strings.Join([]string{r.Subject, r.Resource, r.Action, r.Effect, r.Condition}, "\x00")
}

// RoleParent is one role→role inheritance edge: Role inherits every rule
// granted to Parent.
type RoleParent struct {
	Role    string
	Parent  string
	BuiltIn bool
}

// Limits.
const (
	// MaxRules bounds PUT /policies and CSV imports.
	MaxRules = 20000
	// MaxConditionLen bounds a condition expression.
	MaxConditionLen = 1024
	maxPartLen      = 256
)

var (
	nameRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`)
	typePatRe  = regexp.MustCompile(`^(\*|[a-z][a-z0-9._-]{0,63}\*?)$`)
	actionRe   = regexp.MustCompile(`^(\*|[a-z][a-z0-9._:-]{0,63})$`)
	idPatRe    = regexp.MustCompile(`^[^\s,"'\\]{1,256}$`)
	condVarsRe = regexp.MustCompile(`^r_(sub|obj|act|ctx)(\.|$)`)
)

// Normalize trims the fields and lower-cases the effect.
func (r Rule) Normalize() Rule {
	r.Subject = strings.TrimSpace(r.Subject)
	r.Resource = strings.TrimSpace(r.Resource)
	r.Action = strings.TrimSpace(r.Action)
	r.Effect = strings.ToLower(strings.TrimSpace(r.Effect))
	r.Condition = strings.TrimSpace(r.Condition)
	return r
}

// Validate checks the syntax of every field, compiling the condition. It
// does not check that the subject's role exists (the Service does).
func (r Rule) Validate() error {
	if err := validateSubject(r.Subject); err != nil {
		return err
	}
	if err := validateResource(r.Resource); err != nil {
		return err
	}
	if !actionRe.MatchString(r.Action) {
		return invalid("action", "must be \"*\" or a lower-case name (letters, digits, . _ : -), got %q", clip(r.Action))
	}
	if r.Effect != Allow && r.Effect != Deny {
		return invalid("effect", "must be \"allow\" or \"deny\", got %q", clip(r.Effect))
	}
	return validateCondition(r.Condition)
}

func validateSubject(s string) error {
	kind, name, ok := strings.Cut(s, ":")
	if !ok || (kind != "role" && kind != "user") {
		return invalid("subject", "must be \"role:<name>\" or \"user:<id>\", got %q", clip(s))
	}
	if !nameRe.MatchString(name) {
		return invalid("subject", "%s name %q is not valid (1–128 letters, digits, . _ @ -)", kind, clip(name))
	}
	return nil
}

func validateResource(s string) error {
	typ, id, ok := strings.Cut(s, ":")
	if !ok {
		return invalid("resource", "must be \"<type>:<id>\" (\"*\" matches any), got %q", clip(s))
	}
	if !typePatRe.MatchString(typ) {
		return invalid("resource", "type %q is not valid (lower-case name, \"*\", or a prefix ending in \"*\")", clip(typ))
	}
	if !idPatRe.MatchString(id) {
		return invalid("resource", "id %q is not valid (1–256 characters without spaces, commas, quotes or backslashes)", clip(id))
	}
	return nil
}

// validateCondition compiles cond with the same functions the enforcer
// uses and checks it reads only request attributes.
func validateCondition(cond string) error {
	if cond == "" {
		return nil
	}
	if len(cond) > MaxConditionLen {
		return invalid("condition", "longer than %d characters", MaxConditionLen)
	}
	expr, err := govaluate.NewEvaluableExpressionWithFunctions(util.EscapeAssertion(cond), conditionFunctions(nil))
	if err != nil {
		return &validation.Error{Field: "condition", Message: "does not parse: " + err.Error(), Parse: true}
	}
	for _, v := range expr.Vars() {
		if !condVarsRe.MatchString(v) {
			return &validation.Error{Field: "condition", Parse: true,
				Message: "may only read r.sub, r.obj, r.act and r.ctx attributes, found " + strings.ReplaceAll(v, "_", ".")}
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
