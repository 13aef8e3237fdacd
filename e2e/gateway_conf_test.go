package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The gateway configurations README's "Put Gatehouse in front of your
// services" shows, with the ports and the API's identifier filled in:
// %[1]s working directory, %[2]d gateway port, %[3]d Gatehouse port,
// %[4]d upstream port, %[5]s the URL-encoded API identifier.

// gatewayNginxConf: / needs a valid credential; /admin/ also the
// permission users:x#delete.
const gatewayNginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 128; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;

		location = /_gatehouse {
			internal;
			proxy_pass http://127.0.0.1:%[3]d/forward-auth?resource=%[5]s;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
		}
		location = /_gatehouse_admin {
			internal;
			proxy_pass http://127.0.0.1:%[3]d/forward-auth?resource=%[5]s&permission=users%%3Ax%%23delete;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
		}

		location / {
			auth_request /_gatehouse;
			auth_request_set $gh_user  $upstream_http_x_gatehouse_user;
			auth_request_set $gh_email $upstream_http_x_gatehouse_email;
			auth_request_set $gh_roles $upstream_http_x_gatehouse_roles;
			auth_request_set $gh_token $upstream_http_authorization;
			proxy_set_header X-Gatehouse-User  $gh_user;
			proxy_set_header X-Gatehouse-Email $gh_email;
			proxy_set_header X-Gatehouse-Roles $gh_roles;
			proxy_set_header Authorization     $gh_token;
			proxy_pass http://127.0.0.1:%[4]d;
		}
		location /admin/ {
			auth_request /_gatehouse_admin;
			auth_request_set $gh_user  $upstream_http_x_gatehouse_user;
			auth_request_set $gh_email $upstream_http_x_gatehouse_email;
			auth_request_set $gh_roles $upstream_http_x_gatehouse_roles;
			auth_request_set $gh_token $upstream_http_authorization;
			proxy_set_header X-Gatehouse-User  $gh_user;
			proxy_set_header X-Gatehouse-Email $gh_email;
			proxy_set_header X-Gatehouse-Roles $gh_roles;
			proxy_set_header Authorization     $gh_token;
			proxy_pass http://127.0.0.1:%[4]d;
		}
	}
}
`

// gatewayCaddyfile is the same set-up for Caddy (forward_auth).
const gatewayCaddyfile = `{
	admin off
	auto_https off
	storage file_system %[1]s/data
}

http://127.0.0.1:%[2]d {
	handle /admin/* {
		forward_auth 127.0.0.1:%[3]d {
			uri /forward-auth?resource=%[5]s&permission=users%%3Ax%%23delete
			copy_headers X-Gatehouse-User X-Gatehouse-Email X-Gatehouse-Roles Authorization
		}
		reverse_proxy 127.0.0.1:%[4]d
	}
	handle {
		forward_auth 127.0.0.1:%[3]d {
			uri /forward-auth?resource=%[5]s
			copy_headers X-Gatehouse-User X-Gatehouse-Email X-Gatehouse-Roles Authorization
		}
		reverse_proxy 127.0.0.1:%[4]d
	}
}
`

// startGateway writes conf (formatted with the ports) and runs the gateway
// until the test ends; it returns the gateway's base URL once it answers.
func startGateway(t *testing.T, name, conf string, ghPort, upstreamPort int, resource string) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := fmt.Sprintf(conf, dir, port, ghPort, upstreamPort, resource)
	var cmd *exec.Cmd
	switch name {
	case "nginx":
		path := filepath.Join(dir, "nginx.conf")
		writeFile(t, path, text)
		cmd = exec.Command(nginxBinary(t), "-p", dir, "-c", path, "-e", "stderr")
	case "caddy":
		bin, err := exec.LookPath("caddy")
		if err != nil {
			t.Fatal("caddy is missing: the gateway test needs it (Debian's caddy package)")
		}
		path := filepath.Join(dir, "Caddyfile")
		writeFile(t, path, text)
		cmd = exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("--- %s log ---\n%s", name, logs.String())
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", name, logs.String())
		default:
		}
		// Unauthenticated: 401 from Gatehouse through the gateway.
		if resp, err := http.Get(base + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on port %d does not answer\n%s", name, port, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
