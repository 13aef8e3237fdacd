package provider

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/client"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/testutil"
	"github.com/gatehouse/gatehouse/modules/oidc/internal/oidctest"
)

// get fetches url, with If-None-Match when etag is set.
func get(t *testing.T, url, etag string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func keyIDs(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	ids := map[string]string{}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			t.Errorf("key %s is not a valid public key", k.KeyID)
		}
		ids[k.KeyID] = k.Algorithm
	}
	return ids
}

// Discovery and the JWKS carry a strong ETag; a matching If-None-Match gets
// 304 with no body, and "Rotate now" changes the JWKS and its ETag (and
// not discovery's, which names the JWKS only by URL).
func TestDocumentsRevalidate(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ts := newTestServer(t, db)
		for _, path := range []string{pathDiscovery, pathKeys} {
			res, body := get(t, ts.URL+path, "")
			etag := res.Header.Get("ETag")
			if res.StatusCode != 200 || len(etag) < 10 || etag[0] != '"' || len(body) == 0 {
				t.Fatalf("%s: %d, ETag %q, %d bytes", path, res.StatusCode, etag, len(body))
			}
			if cc := res.Header.Get("Cache-Control"); cc == "" {
				t.Errorf("%s: no Cache-Control", path)
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
				res, body := get(t, ts.URL+path, inm)
				if res.StatusCode != http.StatusNotModified || len(body) != 0 || res.Header.Get("ETag") != etag {
					t.Errorf("%s If-None-Match %s: %d, %d bytes, ETag %q", path, inm, res.StatusCode, len(body), res.Header.Get("ETag"))
				}
			}
			if res, _ := get(t, ts.URL+path, `"stale"`); res.StatusCode != 200 {
				t.Errorf("%s with a stale ETag: %d", path, res.StatusCode)
			}
		}

		res, before := get(t, ts.URL+pathKeys, "")
		etag := res.Header.Get("ETag")
		oldIDs := keyIDs(t, before)
		if algs := len(oldIDs); algs != 3 {
			t.Fatalf("JWKS has %d keys, want RS256, ES256 and EdDSA", algs)
		}
		dres, dbody := get(t, ts.URL+pathDiscovery, "")
		// zitadel/oidc's relying-party discovery reads the same bytes.
		d, err := client.Discover(context.Background(), ts.URL, http.DefaultClient)
		if err != nil || d.Issuer != ts.URL || d.JwksURI != ts.URL+pathKeys || !slices.Contains(d.IDTokenSigningAlgValuesSupported, "RS256") {
			t.Fatalf("zitadel discovery of %s: %+v %v", dbody, d, err)
		}
		if err := ts.p.RotateSigningKeys(oidctest.SystemCtx()); err != nil {
			t.Fatal(err)
		}
		res, after := get(t, ts.URL+pathKeys, etag)
		if res.StatusCode != 200 || res.Header.Get("ETag") == etag {
			t.Fatalf("JWKS after rotation: %d, ETag %q (was %q)", res.StatusCode, res.Header.Get("ETag"), etag)
		}
		newIDs := keyIDs(t, after)
		if len(newIDs) != 6 {
			t.Errorf("JWKS after rotation has %d keys, want 6 (retired keys stay)", len(newIDs))
		}
		for id := range oldIDs {
			if _, ok := newIDs[id]; !ok {
				t.Errorf("retired key %s left the JWKS", id)
			}
		}
		if res, _ := get(t, ts.URL+pathDiscovery, dres.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
			t.Errorf("discovery changed with the keys: %d", res.StatusCode)
		}
	})
}

// A replica that did not rotate serves the new JWKS, with the same ETag as
// the replica that did, once it re-reads the key set (its periodic refresh
// runs rotate(false), as Run does).
func TestJWKSAcrossReplicas(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		mk := oidctest.MasterKey(t)
		a := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk)
		a.keys.waitPending() // the first start's RS256 key, so b finds every key
		b := newTestProvider(t, db, "https://id.example.test", oidctest.NewUsers(), mk)
		if a.keys.jwks().etag != b.keys.jwks().etag {
			t.Fatal("two replicas over the same keys answer different ETags")
		}
		old := b.keys.jwks().etag
		if err := a.RotateSigningKeys(oidctest.SystemCtx()); err != nil {
			t.Fatal(err)
		}
		if _, err := b.keys.rotate(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		if got := b.keys.jwks().etag; got == old || got != a.keys.jwks().etag {
			t.Errorf("replica ETag %q after refresh; rotating replica %q, before %q", got, a.keys.jwks().etag, old)
		}
	})
}

// jsonContains reports whether body holds every fragment.
func jsonContains(body []byte, fragments ...string) bool {
	for _, f := range fragments {
		if !strings.Contains(string(body), f) {
			return false
		}
	}
	return true
}
