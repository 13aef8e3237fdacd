// Command loadgen is the load run's HTTP load generator (scripts/load.sh):
// C keep-alive connections send one request after another for a duration,
// then it prints requests/s, the latency percentiles and the failures on a
// RESULT line. Bodies can vary per request: -body-file cycles through the
// file's lines (e.g. 60,000 pre-issued tokens), and {n} in -body is
// replaced by a counter unique to the request (a cache never answers).
//
//	loadgen -url http://127.0.0.1:8080/healthz -c 16 -duration 10s
//	loadgen -url …/oauth/introspect -method POST -H 'Authorization: Basic …' \
//	        -H 'Content-Type: application/x-www-form-urlencoded' -body-file tokens.txt -body-format 'token=%s'
//
// Only loopback URLs are accepted.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	var hdrs headers
	target := flag.String("url", "", "URL (loopback only)")
	method := flag.String("method", http.MethodGet, "HTTP method")
	body := flag.String("body", "", "request body; {n} becomes a per-request counter")
	bodyFile := flag.String("body-file", "", "file whose lines are cycled through as bodies (see -body-format)")
	bodyFormat := flag.String("body-format", "%s", "format of a body made from a -body-file line")
	conns := flag.Int("c", 16, "concurrent connections")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	flag.Var(&hdrs, "H", "header 'Name: value' (repeatable)")
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil || u.Host == "" {
		log.Fatalf("loadgen: -url %q is not an absolute URL", *target)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		log.Fatalf("loadgen: %s is not a loopback address", u.Hostname())
	}
	var lines []string
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			log.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, fmt.Sprintf(*bodyFormat, l))
			}
		}
		if len(lines) == 0 {
			log.Fatalf("loadgen: %s has no lines", *bodyFile)
		}
	}
	header := http.Header{}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			log.Fatalf("loadgen: header %q: want 'Name: value'", h)
		}
		header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{
		MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true,
	}}

	var counter, non2xx, failed atomic.Int64
	varied := strings.Contains(*body, "{n}")
	nextBody := func() []byte {
		n := counter.Add(1)
		switch {
		case lines != nil:
			return []byte(lines[int(n-1)%len(lines)])
		case varied:
			return []byte(strings.ReplaceAll(*body, "{n}", strconv.FormatInt(n, 10)))
		default:
			return []byte(*body)
		}
	}
	deadline := time.Now().Add(*duration)
	lat := make([][]time.Duration, *conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *conns {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				req, err := http.NewRequest(*method, *target, bytes.NewReader(nextBody()))
				if err != nil {
					log.Fatal(err)
				}
				req.Header = header.Clone()
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if res.StatusCode >= 400 {
					non2xx.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	fmt.Printf("RESULT requests=%d rate=%.1f p50=%s p99=%s non2xx=%d errors=%d\n",
		len(all), float64(len(all))/elapsed.Seconds(), fmtDur(pct(0.50)), fmtDur(pct(0.99)), non2xx.Load(), failed.Load())
}

// fmtDur prints a latency the way wrk does (µs below 1 ms, ms above).
func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0fus", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
