package authz

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse/gatehouse/internal/validation"
)

// Limits of a CSV import.
const (
	// MaxImportBytes bounds the CSV body.
	MaxImportBytes = 1 << 20
	// MaxImportLines bounds the number of p and g lines.
	MaxImportLines = MaxRules + 1000
)

// ParseCSV reads Casbin's policy CSV as Export writes it:
//
//	p, <subject>, <resource>, <action>, <effect>[, <condition>]
//	g, role:<child>, role:<parent>
//
// Blank lines and lines starting with "#" are skipped; fields may be
// quoted (a condition containing commas must be). Every rule is validated;
// the first error names the line and the field.
func ParseCSV(data []byte) ([]Rule, []RoleParent, error) {
	if len(data) > MaxImportBytes {
		return nil, nil, fmt.Errorf("%w: the CSV exceeds %d bytes", ErrTooLarge, MaxImportBytes)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var rules []Rule
	var parents []RoleParent
	for n := 0; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, &validation.Error{Field: "csv", Message: err.Error(), Parse: true}
		}
		line, _ := r.FieldPos(0) // only valid after a successful Read
		if n >= MaxImportLines {
			return nil, nil, fmt.Errorf("%w: more than %d lines", ErrTooLarge, MaxImportLines)
		}
		kind, rule, parent, err := ParseRule(rec)
		if err != nil {
			var ve *validation.Error
			if errors.As(err, &ve) {
				return nil, nil, &validation.Error{Field: fmt.Sprintf("line %d: %s", line, ve.Field), Message: ve.Message, Parse: ve.Parse}
			}
			return nil, nil, err
		}
		switch kind {
		case "p":
			rules = append(rules, rule)
		case "g":
			parents = append(parents, parent)
		}
	}
	if len(rules) > MaxRules {
		return nil, nil, fmt.Errorf("%w: more than %d rules", ErrTooLarge, MaxRules)
	}
	return rules, parents, nil
}

// ParseRule parses one CSV record: ("p", rule) or ("g", edge). Record
// fields are trimmed; the rule is validated.
func ParseRule(rec []string) (kind string, rule Rule, parent RoleParent, err error) {
	if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
		return "", rule, parent, nil
	}
	f := make([]string, len(rec))
	for i, v := range rec {
		f[i] = strings.TrimSpace(v)
	}
	switch f[0] {
	case "p":
		if len(f) != 5 && len(f) != 6 {
			return "", rule, parent, &validation.Error{Field: "p", Parse: true,
				Message: fmt.Sprintf("a rule has 4 or 5 fields (subject, resource, action, effect[, condition]), got %d", len(f)-1)}
		}
		rule = Rule{Subject: f[1], Resource: f[2], Action: f[3], Effect: f[4]}
		if len(f) == 6 {
			rule.Condition = f[5]
		}
		rule = rule.Normalize()
		return "p", rule, parent, rule.Validate()
	case "g":
		if len(f) != 3 {
			return "", rule, parent, &validation.Error{Field: "g", Parse: true,
				Message: fmt.Sprintf("an inheritance line has 2 fields (role:<child>, role:<parent>), got %d", len(f)-1)}
		}
		parent = RoleParent{Role: strings.TrimPrefix(f[1], "role:"), Parent: strings.TrimPrefix(f[2], "role:")}
		return "g", rule, parent, parent.Validate()
	default:
		return "", rule, parent, &validation.Error{Field: "type", Parse: true,
			Message: fmt.Sprintf("a line starts with \"p\" or \"g\", got %q", clip(f[0]))}
	}
}

// Validate checks both role names.
func (p RoleParent) Validate() error {
	if !nameRe.MatchString(p.Role) {
		return invalid("role", "%q is not a valid role name", clip(p.Role))
	}
	if !nameRe.MatchString(p.Parent) {
		return invalid("parent", "%q is not a valid role name", clip(p.Parent))
	}
	if p.Role == p.Parent {
		return invalid("parent", "a role cannot inherit from itself")
	}
	return nil
}

// writeCSV renders rules and edges in Casbin's CSV policy format.
func writeCSV(policies []Policy, parents []RoleParent) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, p := range policies {
		// Always five values, as the model's p has five tokens.
		rec := []string{"p", p.Subject, p.Resource, p.Action, p.Effect, p.Condition}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	for _, g := range parents {
		if err := w.Write([]string{"g", "role:" + g.Role, "role:" + g.Parent}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
