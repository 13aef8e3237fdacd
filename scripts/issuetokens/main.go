// Command issuetokens pre-issues N distinct access tokens with the
// client_credentials grant and writes them one a line, for the load run's
// introspection over many different tokens (scripts/load.sh): every
// introspection then verifies a signature the server has not seen yet,
// until the list wraps around.
//
//	issuetokens -token-url http://127.0.0.1:18080/oauth/token -client-id … -client-secret … -n 60000 -out tokens.txt
//
// Only loopback URLs are accepted.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

func main() {
	tokenURL := flag.String("token-url", "", "token endpoint (loopback only)")
	id := flag.String("client-id", "", "client id (client_credentials allowed)")
	secret := flag.String("client-secret", "", "client secret")
	n := flag.Int("n", 60000, "tokens to issue")
	c := flag.Int("c", 8, "concurrent requests")
	out := flag.String("out", "tokens.txt", "output file, one token a line")
	flag.Parse()
	u, err := url.Parse(*tokenURL)
	if err != nil || u.Host == "" {
		log.Fatalf("issuetokens: -token-url %q is not an absolute URL", *tokenURL)
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		log.Fatalf("issuetokens: %s is not a loopback address", u.Hostname())
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c}}
	tokens := make([]string, *n)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= *n || failed.Load() > 10 {
					return
				}
				tok, err := issue(client, *tokenURL, *id, *secret)
				if err != nil {
					if failed.Add(1) == 1 {
						log.Printf("issuetokens: %v", err)
					}
					continue
				}
				tokens[i] = tok
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		log.Fatalf("issuetokens: %d requests failed", failed.Load())
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, t := range tokens {
		fmt.Fprintln(w, t)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

func issue(client *http.Client, tokenURL, id, secret string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token endpoint: %d %s", res.StatusCode, body)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: no access_token in %s", body)
	}
	return t.AccessToken, nil
}
