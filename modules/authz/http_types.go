package authz

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/page"
)

// The JSON shapes of the policy API (http_api.go).

// policyJSON is a rule on the wire (the contract's policies object).
type policyJSON struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject" doc:"role:<name> or user:<id>"`
	Resource  string    `json:"resource" doc:"<type>:<id>; * matches any value, abc* any value starting with abc"`
	Action    string    `json:"action" doc:"an action name or *"`
	Effect    string    `json:"effect" enum:"allow,deny"`
	Condition string    `json:"condition,omitempty" doc:"optional govaluate expression over r.sub, r.obj, r.act, r.ctx"`
	BuiltIn   bool      `json:"built_in"`
	CreatedAt time.Time `json:"created_at"`
}

func toJSON(p Policy) policyJSON {
	return policyJSON(p)
}

// ruleJSON is a rule as clients send it.
type ruleJSON struct {
	Subject   string `json:"subject" maxLength:"200" doc:"role:<name> or user:<id>"`
	Resource  string `json:"resource" maxLength:"300" doc:"<type>:<id>"`
	Action    string `json:"action" maxLength:"80"`
	Effect    string `json:"effect" doc:"allow or deny"`
	Condition string `json:"condition,omitempty" maxLength:"1024"`
}

func (r ruleJSON) rule() Rule {
	return Rule(r)
}

type listPoliciesInput struct {
	Subject  string `query:"subject" doc:"only rules of this subject, e.g. role:editor"`
	Resource string `query:"resource" doc:"only rules with exactly this resource pattern"`
	page.Query
}

type listPoliciesOutput struct {
	Body page.Page[policyJSON]
}

type policyOutput struct {
	Body policyJSON
}

type idInput struct {
	ID string `path:"id" maxLength:"64"`
}

type createInput struct {
	Body ruleJSON
}

type updateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body ruleJSON
}

type replaceInput struct {
	Body struct {
		Policies []ruleJSON `json:"policies" doc:"the complete set of rules that are not built in"`
	}
}

type replaceOutput struct {
	Body struct {
		Items []policyJSON `json:"items"`
	}
}

type exportOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

type importInput struct {
	RawBody []byte `contentType:"text/csv"`
}

type importOutput struct {
	Body struct {
		Policies    int `json:"policies" doc:"rules stored (built-in rules and duplicates are skipped)"`
		RoleParents int `json:"role_parents"`
	}
}

type validateOutput struct {
	Body struct {
		Valid bool     `json:"valid"`
		Rule  ruleJSON `json:"rule" doc:"the rule as it would be stored (normalized)"`
	}
}

type roleInput struct {
	Name string `path:"name" maxLength:"128"`
}

type roleParentInput struct {
	Name   string `path:"name" maxLength:"128"`
	Parent string `path:"parent" maxLength:"128"`
}

type parentsOutput struct {
	Body struct {
		Items []parentJSON `json:"items"`
	}
}

type parentJSON struct {
	Role    string `json:"role"`
	Parent  string `json:"parent"`
	BuiltIn bool   `json:"built_in"`
}
