package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/clients"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

// cpuMeter reports process CPU time per operation ("cpu-ns/op") and the
// throughput two cores could sustain at that cost ("ops/s@2cores").
type cpuMeter struct{ testutil.CPUMeter }

func startCPU(b *testing.B) *cpuMeter { b.ResetTimer(); return &cpuMeter{testutil.StartCPU()} }

func (m *cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	perOp := m.PerOp(b)
	b.ReportMetric(perOp, "cpu-ns/op")
	b.ReportMetric(2e9/perOp, "ops/s@2cores")
}

// benchProvider is a provider on SQLite with one machine client.
func benchProvider(b *testing.B, alg string) (*Provider, http.Handler, string, string) {
	b.Helper()
	db := testutil.NewSQLite(b)
	p := newTestProvider(b, db, "http://bench.test", oidctest.NewUsers(), oidctest.MasterKey(b))
	c, secret := mustCreateClient(b, p, clients.NewClient{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"users:read"}, AccessTokenAlg: alg})
	return p, p.Handler(), c.ID, secret
}

func tokenRequest(id, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://bench.test/oauth/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"users:read"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(id, secret)
	return r
}

// runParallel serves a request made by req from every benchmark goroutine
// and reports CPU time per op; ok judges each answer.
func runParallel(b *testing.B, h http.Handler, req func() *http.Request, ok func(*httptest.ResponseRecorder) bool) {
	b.ReportAllocs()
	m := startCPU(b)
	defer m.stop(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := httptest.NewRecorder()
			r := req()
			h.ServeHTTP(w, r)
			if !ok(w) {
				b.Fatalf("%s: %d %s", r.URL.Path, w.Code, w.Body)
			}
		}
	})
}

func isOK(w *httptest.ResponseRecorder) bool { return w.Code == http.StatusOK }

func benchClientCredentials(b *testing.B, alg string) {
	_, h, id, secret := benchProvider(b, alg)
	runParallel(b, h, func() *http.Request { return tokenRequest(id, secret) }, isOK)
}

// BenchmarkClientCredentialsES256 is the token endpoint end to end (client
// authentication, JWT signing) with the default ES256 access-token key.
func BenchmarkClientCredentialsES256(b *testing.B) { benchClientCredentials(b, clients.AlgES256) }

// BenchmarkClientCredentialsRS256 is the same with an RS256 key.
func BenchmarkClientCredentialsRS256(b *testing.B) { benchClientCredentials(b, clients.AlgRS256) }

// BenchmarkClientCredentialsEdDSA: the same with an Ed25519 access token.
func BenchmarkClientCredentialsEdDSA(b *testing.B) { benchClientCredentials(b, clients.AlgEdDSA) }

// introspectionBench is a provider with one client and a valid ES256
// access token of it.
type introspectionBench struct {
	h                http.Handler
	id, secret, form string
}

func newIntrospectionBench(b *testing.B) *introspectionBench {
	_, h, id, secret := benchProvider(b, clients.AlgES256)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, tokenRequest(id, secret))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &tok)
	return &introspectionBench{h: h, id: id, secret: secret, form: url.Values{"token": {tok.AccessToken}}.Encode()}
}

// request introspects the token.
func (ib *introspectionBench) request() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://bench.test/oauth/introspect", strings.NewReader(ib.form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(ib.id, ib.secret)
	return r
}

func isActive(w *httptest.ResponseRecorder) bool {
	return w.Code == http.StatusOK && strings.Contains(w.Body.String(), `"active":true`)
}

// BenchmarkIntrospection is RFC 7662 introspection of a valid ES256 token,
// including the cross-replica revocation check.
func BenchmarkIntrospection(b *testing.B) {
	ib := newIntrospectionBench(b)
	// Many resource servers introspect at once (a server doing 20k/s has
	// dozens of requests in flight).
	b.SetParallelism(32)
	runParallel(b, ib.h, ib.request, isActive)
}

// BenchmarkIntrospectionCallers is introspection by exactly 1 and 16
// concurrent callers; "latency-ns/req" is the mean time one request takes,
// which shows any wait for a shared revocation check.
func BenchmarkIntrospectionCallers(b *testing.B) {
	for _, callers := range []int{1, 16} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			ib := newIntrospectionBench(b)
			var next, latency atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			m := startCPU(b)
			for range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						start := time.Now()
						w := httptest.NewRecorder()
						ib.h.ServeHTTP(w, ib.request())
						if !isActive(w) {
							b.Errorf("introspect: %d %s", w.Code, w.Body)
							return
						}
						latency.Add(int64(time.Since(start)))
					}
				}()
			}
			wg.Wait()
			m.stop(b)
			b.ReportMetric(float64(latency.Load())/float64(b.N), "latency-ns/req")
		})
	}
}

func benchGet(b *testing.B, path string) {
	_, h, _, _ := benchProvider(b, clients.AlgES256)
	runParallel(b, h, func() *http.Request { return httptest.NewRequest(http.MethodGet, "http://bench.test"+path, nil) }, isOK)
}

// BenchmarkDiscovery serves the cached discovery document.
func BenchmarkDiscovery(b *testing.B) { benchGet(b, "/.well-known/openid-configuration") }

// BenchmarkJWKS serves the cached key set.
func BenchmarkJWKS(b *testing.B) { benchGet(b, "/keys") }
