package authz

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/testutil"
)

// The benchmarks use 10,000 rules over 1,000 roles (10 per role, on 50
// resource types); the subject holds roles r1, r500 and r999, and r1
// inherits r2, which inherits r3. The request (type3:3, read) is allowed
// by rule r00003 of the inherited role r3.

func benchRules() []policyRow {
	rows := make([]policyRow, 0, 10000)
	for i := 0; i < 10000; i++ {
		rows = append(rows, policyRow{ID: fmt.Sprintf("r%05d", i), Subject: fmt.Sprintf("role:r%d", i%1000),
			Resource: fmt.Sprintf("type%d:%d", i%50, i), Action: []string{"read", "update", "*"}[i%3], Effect: "allow"})
	}
	return rows
}

var benchParents = [][2]string{{"r1", "r2"}, {"r2", "r3"}}

func BenchmarkEnforce(b *testing.B) {
	e := testEngine(b, benchRules(), benchParents)
	sub := subject{Type: "user", ID: "bench", Roles: []string{"r1", "r500", "r999"}}
	allowed := request{Sub: sub, ResType: "type3", ResID: "3", Action: "read"}
	now := time.Now()
	if d, err := e.decide(allowed, now); err != nil || !d.Allowed || d.RuleID != "r00003" {
		b.Fatalf("decision %+v %v, want allowed by r00003", d, err)
	}
	// run decides req on e b.N times (the decision cache on or off).
	run := func(name string, e *engine, noCache bool, req request) {
		b.Run(name, func(b *testing.B) {
			e.noCache = noCache
			defer func() { e.noCache = false }()
			b.ReportAllocs()
			cpu := testutil.StartCPU()
			for i := 0; i < b.N; i++ {
				if _, err := e.decide(req, now); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
		})
	}
	// uncached: the decision cache is off, every call evaluates rules.
	run("uncached", e, true, allowed)
	// uncached-nomatch: no rule of the subject's roles matches.
	run("uncached-nomatch", e, true, request{Sub: sub, ResType: "type7", ResID: "x", Action: "read"})
	run("cached", e, false, allowed)
	// uncached-big-role: the subject's one role has 5,000 rules of its
	// own on 500 resource types (one partition per type).
	big := make([]policyRow, 0, 5000)
	for i := 0; i < 5000; i++ {
		big = append(big, policyRow{ID: fmt.Sprintf("g%05d", i), Subject: "role:big",
			Resource: fmt.Sprintf("type%d:%d", i%500, i), Action: []string{"read", "update", "*"}[i%3], Effect: "allow"})
	}
	// uncachedAllowed checks that wantRule allows req on e, then runs it
	// uncached.
	uncachedAllowed := func(name string, e *engine, req request, wantRule string) {
		if d, err := e.decide(req, now); err != nil || !d.Allowed || d.RuleID != wantRule {
			b.Fatalf("%s: decision %+v %v, want allowed by %s", name, d, err, wantRule)
		}
		run(name, e, true, req)
	}
	uncachedAllowed("uncached-big-role", testEngine(b, big, nil),
		request{Sub: subject{Type: "user", ID: "bench", Roles: []string{"big"}}, ResType: "type3", ResID: "3", Action: "read"}, "g00003")
	// uncached-ten-types: scripts/load.sh's AuthZEN run — three roles of
	// ten rules each, one per resource type.
	uncachedAllowed("uncached-ten-types", testEngine(b, loadScriptRules(), nil),
		request{Sub: subject{Type: "user", ID: "bench", Roles: []string{"r1", "r2", "r3"}}, ResType: "doc3", ResID: "x", Action: "read"}, "l0001-03")
	b.Run("uncached-parallel", func(b *testing.B) {
		e.noCache = true
		defer func() { e.noCache = false }()
		b.ReportAllocs()
		cpu := testutil.StartCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.decide(allowed, now); err != nil {
					b.Error(err)
					return
				}
			}
		})
		cpu.Report(b)
	})
}

// BenchmarkLoad measures a reload of 10,000 rules over 1,000 roles and
// reports the heap the loaded engine retains (MiB-heap) and the heap once
// every partition's enforcer has been built (MiB-heap-all, the most the
// rules can take): each role's ten rules on one resource type
// (benchRules), or on ten types as scripts/load.sh imports them
// (loadScriptRules).
func BenchmarkLoad(b *testing.B) {
	for _, c := range []struct {
		name  string
		rules []policyRow
	}{{"one-type-per-role", benchRules()}, {"ten-types-per-role", loadScriptRules()}} {
		b.Run(c.name, func(b *testing.B) {
			rows := &snapshotRows{policies: append(append([]policyRow{}, builtIns...), c.rules...)}
			for _, p := range benchParents {
				rows.parents = append(rows.parents, parentRow{Role: p[0], Parent: p[1]})
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			e, err := newEngine(store{})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.load(1, rows); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
			for _, si := range e.snap.Load().index.bySubject {
				for _, p := range si.byType {
					_, _ = p.enforcer()
				}
				if si.patterns != nil {
					_, _ = si.patterns.enforcer()
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			all := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := e.load(int64(i), rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(heap, "MiB-heap")
			b.ReportMetric(all, "MiB-heap-all")
			runtime.KeepAlive(e)
		})
	}
}

// loadScriptRules are the rules scripts/load.sh imports: role rN may read
// doc1:* … doc10:*.
func loadScriptRules() []policyRow {
	rows := make([]policyRow, 0, 10000)
	for i := 1; i <= 1000; i++ {
		for j := 1; j <= 10; j++ {
			rows = append(rows, policyRow{ID: fmt.Sprintf("l%04d-%02d", i, j), Subject: fmt.Sprintf("role:r%d", i),
				Resource: fmt.Sprintf("doc%d:*", j), Action: "read", Effect: "allow"})
		}
	}
	return rows
}

// BenchmarkEvaluationHTTP measures POST /access/v1/evaluation with 64
// concurrent clients (b.SetParallelism) and 10,000 rules; "uncached" turns
// the decision cache off.
func BenchmarkEvaluationHTTP(b *testing.B) {
	db := testutil.NewSQLite(b)
	api, svc := newAPI(b, db)
	h := api.Handler
	ctx := context.Background()
	now := time.Now().UTC()
	rows := benchRules()
	for i := range rows {
		rows[i].CreatedAt = now
	}
	if err := db.Gorm.CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	for _, p := range benchParents {
		if err := db.Gorm.Create(&parentRow{Role: p[0], Parent: p[1], CreatedAt: now}).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := svc.st.bump(ctx); err != nil {
		b.Fatal(err)
	}
	if err := svc.Reload(ctx); err != nil {
		b.Fatal(err)
	}
	svc.roles.(*fakeRoles).set("u-bench", "r1", "r500", "r999")
	body := `{"subject":{"type":"user","id":"u-bench"},"action":{"name":"read"},"resource":{"type":"type3","id":"3"}}`
	for _, mode := range []string{"uncached", "cached"} {
		b.Run(mode, func(b *testing.B) {
			svc.eng.noCache = mode == "uncached"
			defer func() { svc.eng.noCache = false }()
			b.ReportAllocs()
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			var fails atomic.Int64
			cpu := testutil.StartCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/access/v1/evaluation", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer admin")
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"decision":true`) {
						if fails.Add(1) == 1 {
							b.Error(rec.Code, rec.Body.String())
						}
						return
					}
				}
			})
			cpu.Report(b)
		})
	}
}
