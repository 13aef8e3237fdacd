package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckCmd probes the local server's /readyz. Distroless images have no
// curl, so the container health check runs the binary itself.
type healthcheckCmd struct {
	URL string `help:"URL to probe; defaults to /readyz on the listen address."`
}

func (h healthcheckCmd) Run(e *env) error {
	url := h.URL
	if url == "" {
		host, port, err := net.SplitHostPort(e.cfg.Addr)
		if err != nil {
			return fmt.Errorf("GATEHOUSE_ADDR %q: %w", e.cfg.Addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		url = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(e.ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", resp.Status)
	}
	return nil
}
