package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
)

// apiClient calls /api/v1 with a bearer credential.
type apiClient struct {
	base  string
	token string
}

// api returns a client for srv authenticated with token ("" for none).
func api(srv *server, token string) *apiClient {
	return &apiClient{base: srv.URL + "/api/v1", token: token}
}

// apiResponse is a read response.
type apiResponse struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
}

// do sends method path with body: nil, a []byte or string sent as is, or a
// value encoded as JSON.
func (c *apiClient) do(t *testing.T, method, path string, body any) *apiResponse {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	url := c.base + path
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return readResponse(t, method, url, resp)
}

func (c *apiClient) get(t *testing.T, path string) *apiResponse {
	t.Helper()
	return c.do(t, http.MethodGet, path, nil)
}

// expect fails the test unless the status is one of want.
func (r *apiResponse) expect(t *testing.T, want ...int) *apiResponse {
	t.Helper()
	for _, w := range want {
		if r.Status == w {
			return r
		}
	}
	t.Fatalf("%s %s: status %d, want %v\n%s", r.Method, r.URL, r.Status, want, r.Body)
	return r
}

// decode parses the JSON body into v.
func (r *apiResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s %s: body is not the expected JSON: %v\n%s", r.Method, r.URL, err, r.Body)
	}
}

// assertProblem checks an RFC 9457 problem+json answer with the given status
// whose body mentions each of contains (case-insensitive).
func assertProblem(t *testing.T, r *apiResponse, status int, contains ...string) {
	t.Helper()
	assertProblemIn(t, r, []int{status}, contains...)
}

// assertProblemIn is assertProblem with several acceptable statuses (the
// CONTRACT allows 400 or 422 for validation errors).
func assertProblemIn(t *testing.T, r *apiResponse, statuses []int, contains ...string) {
	t.Helper()
	ok := false
	for _, s := range statuses {
		ok = ok || r.Status == s
	}
	if !ok {
		t.Fatalf("%s %s: status %d, want %v\n%s", r.Method, r.URL, r.Status, statuses, r.Body)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/problem+json" {
		t.Fatalf("%s %s: Content-Type %q, want application/problem+json\n%s", r.Method, r.URL, r.Header.Get("Content-Type"), r.Body)
	}
	var p struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	r.decode(t, &p)
	if p.Status != r.Status || p.Title == "" {
		t.Fatalf("%s %s: problem body has status %d and title %q, want %d and a title\n%s", r.Method, r.URL, p.Status, p.Title, r.Status, r.Body)
	}
	low := strings.ToLower(string(r.Body))
	for _, c := range contains {
		if !strings.Contains(low, strings.ToLower(c)) {
			t.Fatalf("%s %s: problem does not mention %q\n%s", r.Method, r.URL, c, r.Body)
		}
	}
}

// userDTO is the CONTRACT's user resource.
type userDTO struct {
	ID            string   `json:"id"`
	Email         string   `json:"email"`
	Username      string   `json:"username"`
	Name          string   `json:"name"`
	Status        string   `json:"status"`
	EmailVerified bool     `json:"email_verified"`
	Roles         []string `json:"roles"`
	CreatedAt     string   `json:"created_at"`
	UpdatedAt     string   `json:"updated_at"`
}

// page is a list answer.
type page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token"`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
