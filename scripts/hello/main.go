// Command hello is the load test's yardstick: the smallest Go HTTP server,
// measured with the same wrk settings as Gatehouse to show the machine's
// ceiling on loopback (scripts/load.sh). GET and POST both answer; the load
// run divides every endpoint's server CPU per request by hello's.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	body := []byte(`{"status":"ok"}`)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // POST hello reads its form body, as a token endpoint does
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
