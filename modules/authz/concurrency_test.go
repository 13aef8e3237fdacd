package authz

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/internal/database"
	"github.com/gatehouse/gatehouse/internal/principal"
	"github.com/gatehouse/gatehouse/internal/testutil"
)

// TestConcurrentDecisionsAndChanges runs decisions while rules and
// inheritance change (run with -race). Admin rights must hold throughout;
// the viewer's right flips with its rule.
func TestConcurrentDecisionsAndChanges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, db database.DB) {
		ctx := principal.With(context.Background(), userP("u-admin"))
		s := newTestService(t, db, newFakeRoles(), Options{})
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					ok, err := s.Can(ctx, userP("u-admin"), principal.Resource{Type: "docs", ID: fmt.Sprint(i % 7)}, "read")
					if err != nil || !ok {
						errs <- fmt.Errorf("admin decision: %v %v", ok, err)
						return
					}
					if _, err := s.Can(ctx, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read"); err != nil {
						errs <- err
						return
					}
					if _, err := s.Evaluate(ctx, EvalRequest{Subject: Entity{Type: "role", ID: "viewer"}, Resource: Entity{Type: "docs", ID: "1"}, Action: "read"}); err != nil {
						errs <- err
						return
					}
				}
			}(g)
		}
		for i := 0; i < 10; i++ {
			p, err := s.CreatePolicy(ctx, Rule{Subject: "role:viewer", Resource: "docs:*", Action: "read", Effect: "allow"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.AddRoleParent(ctx, "editor", "viewer"); err != nil {
				t.Fatal(err)
			}
			mustCan(t, s, userP("u-ed"), principal.Resource{Type: "docs", ID: "1"}, "read", true)
			if err := s.RemoveRoleParent(ctx, "editor", "viewer"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeletePolicy(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
			mustCan(t, s, userP("u-view"), principal.Resource{Type: "docs", ID: "1"}, "read", false)
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}
