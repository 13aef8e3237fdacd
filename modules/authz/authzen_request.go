package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Wire types and decoders of AuthZEN requests (§6.1, §7.1). Decoding is
// strict about types (an id that is a number is a 400) and lenient about
// unknown members, which the spec allows for extension.

type azEntity struct {
	Type       *string        `json:"type"`
	ID         *string        `json:"id"`
	Properties map[string]any `json:"properties,omitempty"`
}

type azAction struct {
	Name       *string        `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// azEvaluation is one evaluation; in a batch every member is optional and
// falls back to the request's top-level value.
type azEvaluation struct {
	Subject  *azEntity      `json:"subject"`
	Action   *azAction      `json:"action"`
	Resource *azEntity      `json:"resource"`
	Context  map[string]any `json:"context"`
}

type azBatch struct {
	azEvaluation
	Evaluations []azEvaluation `json:"evaluations"`
	Options     map[string]any `json:"options"`
}

type azDecision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// badRequest is a malformed AuthZEN request (HTTP 400).
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return &badRequest{msg: fmt.Sprintf(format, args...)} }

// decodeJSON reads exactly one JSON object from body.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badf("the body is not a valid JSON request: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badf("the body must hold exactly one JSON object")
	}
	return nil
}

// DecodeEvaluation parses an /access/v1/evaluation body.
func DecodeEvaluation(body []byte) (EvalRequest, error) {
	var ev azEvaluation
	if err := decodeJSON(body, &ev); err != nil {
		return EvalRequest{}, err
	}
	return ev.toRequest("")
}

// EvaluationsRequest is a decoded /access/v1/evaluations body: each item
// already has the top-level defaults applied (items[i].err is set when
// that item alone is malformed). Single is true when the body had no
// evaluations array, which makes it a single evaluation (§7.1).
type EvaluationsRequest struct {
	Items    []EvalItem
	Semantic string
	Single   bool
}

// EvalItem is one member of a batch.
type EvalItem struct {
	Request EvalRequest
	Err     error
}

// DecodeEvaluations parses an /access/v1/evaluations body.
func DecodeEvaluations(body []byte) (EvaluationsRequest, error) {
	var b azBatch
	if err := decodeJSON(body, &b); err != nil {
		return EvaluationsRequest{}, err
	}
	out := EvaluationsRequest{Semantic: ExecuteAll}
	if v, ok := b.Options["evaluations_semantic"]; ok {
		s, _ := v.(string)
		switch s {
		case ExecuteAll, DenyOnFirstDeny, PermitOnFirstPermit:
			out.Semantic = s
		default:
			return out, badf("options.evaluations_semantic must be %s, %s or %s", ExecuteAll, DenyOnFirstDeny, PermitOnFirstPermit)
		}
	}
	if len(b.Evaluations) == 0 {
		r, err := b.azEvaluation.toRequest("")
		if err != nil {
			return out, err
		}
		out.Single = true
		out.Items = []EvalItem{{Request: r}}
		return out, nil
	}
	if len(b.Evaluations) > MaxEvaluations {
		return out, &tooMany{n: len(b.Evaluations)}
	}
	out.Items = make([]EvalItem, len(b.Evaluations))
	for i, it := range b.Evaluations {
		if it.Subject == nil {
			it.Subject = b.Subject
		}
		if it.Action == nil {
			it.Action = b.Action
		}
		if it.Resource == nil {
			it.Resource = b.Resource
		}
		if it.Context == nil {
			it.Context = b.Context
		}
		r, err := it.toRequest(fmt.Sprintf("evaluations[%d].", i))
		out.Items[i] = EvalItem{Request: r, Err: err}
	}
	return out, nil
}

type tooMany struct{ n int }

func (e *tooMany) Error() string {
	return fmt.Sprintf("at most %d evaluations per request, got %d", MaxEvaluations, e.n)
}

func (ev azEvaluation) toRequest(prefix string) (EvalRequest, error) {
	var r EvalRequest
	str := func(field string, v *string) (string, error) {
		if v == nil || *v == "" {
			return "", badf("%s%s is required", prefix, field)
		}
		if len(*v) > maxFieldLen {
			return "", badf("%s%s is longer than %d bytes", prefix, field, maxFieldLen)
		}
		return *v, nil
	}
	if ev.Subject == nil {
		return r, badf("%ssubject is required", prefix)
	}
	if ev.Resource == nil {
		return r, badf("%sresource is required", prefix)
	}
	if ev.Action == nil {
		return r, badf("%saction is required", prefix)
	}
	var err error
	if r.Subject.Type, err = str("subject.type", ev.Subject.Type); err != nil {
		return r, err
	}
	if r.Subject.ID, err = str("subject.id", ev.Subject.ID); err != nil {
		return r, err
	}
	if r.Resource.Type, err = str("resource.type", ev.Resource.Type); err != nil {
		return r, err
	}
	if r.Resource.ID, err = str("resource.id", ev.Resource.ID); err != nil {
		return r, err
	}
	if r.Action, err = str("action.name", ev.Action.Name); err != nil {
		return r, err
	}
	r.Subject.Properties = normalizeJSON(ev.Subject.Properties)
	r.Resource.Properties = normalizeJSON(ev.Resource.Properties)
	r.Context = normalizeJSON(ev.Context)
	return r, nil
}

// normalizeJSON turns json.Number into float64 (govaluate's number type).
func normalizeJSON(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalizeValue(v)
	}
	return out
}

func normalizeValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		return normalizeJSON(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeValue(e)
		}
		return out
	}
	return v
}

// DecodeActionSearch parses an /access/v1/search/action body (§8.6):
// subject and resource are required, there is no action.
func DecodeActionSearch(body []byte) (EvalRequest, error) {
	var ev azEvaluation
	if err := decodeJSON(body, &ev); err != nil {
		return EvalRequest{}, err
	}
	if ev.Action != nil {
		return EvalRequest{}, badf("an action search has no action")
	}
	name := "*"
	ev.Action = &azAction{Name: &name}
	r, err := ev.toRequest("")
	r.Action = ""
	return r, err
}
