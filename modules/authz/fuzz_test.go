package authz

import (
	"reflect"
	"testing"
)

// FuzzParseRule feeds arbitrary CSV to the import parser: it must never
// panic, every rule it accepts must validate, and what it accepts must
// survive an export/parse round trip unchanged.
func FuzzParseRule(f *testing.F) {
	for _, seed := range []string{
		"p, role:admin, *:*, *, allow\n",
		"p, role:viewer, docs:*, read, allow,\n",
		"p, role:staff, files:*, read, allow, \"r.sub.department == r.obj.department\"\n",
		"p, user:0190a1b2-c3d4, docs:secret, read, deny, r.ctx.hour < 6\n",
		"g, role:editor, role:viewer\n",
		"# comment\n\np,role:a,b:c,d,allow\n",
		"p, role:x, docs:*, read, allow, \"a,b\"\n",
		"p, role:x, docs, read, allow\n",
		"q, x\n",
		"p, \"role:x\", docs:*, read, allow, \"unterminated\n",
		"g, role:a, role:a\n",
		"p, role:x, doc*:a*, *, deny, '1' IN r.sub.roles\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, parents, err := ParseCSV(data)
		if err != nil {
			return
		}
		ps := make([]Policy, len(rules))
		for i, r := range rules {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted invalid rule %+v: %v", r, err)
			}
			ps[i] = Policy{Subject: r.Subject, Resource: r.Resource, Action: r.Action, Effect: r.Effect, Condition: r.Condition}
		}
		for _, p := range parents {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted invalid edge %+v: %v", p, err)
			}
		}
		out, err := writeCSV(ps, parents)
		if err != nil {
			t.Fatal(err)
		}
		rules2, parents2, err := ParseCSV(out)
		if err != nil {
			t.Fatalf("export of accepted input does not parse: %v\n%s", err, out)
		}
		if len(rules) != len(rules2) || len(parents) != len(parents2) ||
			(len(rules) > 0 && !reflect.DeepEqual(rules, rules2)) || (len(parents) > 0 && !reflect.DeepEqual(parents, parents2)) {
			t.Fatalf("round trip changed the rules:\n%+v %+v\n%+v %+v", rules, parents, rules2, parents2)
		}
	})
}

// FuzzDecodeEvaluation feeds arbitrary bodies to the AuthZEN decoders: no
// panics, and an accepted request always has its required members.
func FuzzDecodeEvaluation(f *testing.F) {
	for _, seed := range []string{
		`{"subject":{"type":"user","id":"u1"},"action":{"name":"read"},"resource":{"type":"docs","id":"1"},"context":{}}`,
		`{"subject":{"type":"user","id":"u1","properties":{"department":"eng","level":3,"tags":["a",1.5,{"x":null}]}},"action":{"name":"read"},"resource":{"type":"docs","id":"1"}}`,
		`{"subject":{"type":"user","id":"u1"},"resource":{"type":"docs","id":"1"},"options":{"evaluations_semantic":"deny_on_first_deny"},"evaluations":[{"action":{"name":"read"}},{}]}`,
		`{"evaluations":[]}`,
		`{"subject":{"type":"user","id":7}}`,
		`{} {}`,
		`[]`,
		`{"context":{"n":1e400}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(r EvalRequest) {
			if r.Subject.Type == "" || r.Subject.ID == "" || r.Resource.Type == "" || r.Resource.ID == "" || r.Action == "" {
				t.Fatalf("accepted incomplete request %+v", r)
			}
		}
		if r, err := DecodeEvaluation(data); err == nil {
			check(r)
		}
		if r, err := DecodeActionSearch(data); err == nil {
			r.Action = "x"
			check(r)
		}
		b, err := DecodeEvaluations(data)
		if err != nil {
			return
		}
		if len(b.Items) > MaxEvaluations {
			t.Fatalf("%d items accepted", len(b.Items))
		}
		for _, it := range b.Items {
			if it.Err == nil {
				check(it.Request)
			}
		}
	})
}
