package e2e

import (
	"net/http"
	"sync"
	"testing"
)

// TestReplicasShareOnePostgres: two servers on one PostgreSQL database with
// one master key. They start at the same moment on an empty database (the
// migration lock must serialise them), a third starts while they run, and a
// user created through one is visible through the others at once.
func TestReplicasShareOnePostgres(t *testing.T) {
	t.Parallel()
	dbURL := newDatabaseURL(t, postgresDB)
	key := newMasterKey()

	var wg sync.WaitGroup
	servers := make([]*server, 2)
	errs := make(chan string, 2)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// tryStart, not startServer: t.Fatal must not run off the test's goroutine.
			s, err := tryStart(t, serverOpts{MasterKey: key}, postgresDB, dbURL)
			if err != nil {
				errs <- err.Error()
				return
			}
			servers[i] = s
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("replica start: %s", e)
	}
	if t.Failed() {
		t.FailNow()
	}
	a, b := servers[0], servers[1]
	c := startServer(t, serverOpts{DatabaseURL: dbURL, MasterKey: key})

	adminKey := a.AdminKey(t)
	var u userDTO
	api(a, adminKey).do(t, "POST", "/users", map[string]any{"email": "replica@example.com", "name": "Replica"}).
		expect(t, http.StatusCreated).decode(t, &u)
	for _, s := range []*server{b, c} {
		var got userDTO
		api(s, adminKey).get(t, "/users/"+u.ID).expect(t, http.StatusOK).decode(t, &got)
		if got.Email != "replica@example.com" {
			t.Errorf("replica %s returned %+v", s.URL, got)
		}
	}

	// Exactly one bootstrap admin although both replicas tried to create it.
	var list page[userDTO]
	api(c, adminKey).get(t, "/users?page_size=200").expect(t, http.StatusOK).decode(t, &list)
	n := 0
	for _, x := range list.Items {
		if x.Email == a.AdminEmail {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d users %s after two replicas bootstrapped, want 1", n, a.AdminEmail)
	}
}
