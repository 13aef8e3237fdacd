// Command gatehouse is the whole identity platform in one binary: the server
// and the administrative sub-commands that act on its database.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse: "+oneLine(err))
		os.Exit(1)
	}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// cli is the command line. Global flags map to GATEHOUSE_* variables: each
// flag --x-y is read from GATEHOUSE_X_Y when not given.
type cli struct {
	Addr                   string        `help:"Listen address." default:":8080"`
	Issuer                 string        `help:"OIDC issuer and public base URL." default:"http://localhost:8080"`
	DatabaseURL            string        `name:"database-url" help:"sqlite:PATH or postgres://..." default:"sqlite:data/gatehouse.db"`
	MasterKey              string        `help:"32 bytes, base64; encrypts secrets at rest."`
	BootstrapAdminEmail    string        `help:"Create this admin at start when no admin exists."`
	BootstrapAdminPassword string        `help:"Password of the bootstrap admin."`
	LogFormat              string        `help:"text or json." default:"text" enum:"text,json"`
	TrustedProxies         string        `name:"trusted-proxies" help:"Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client."`
	LogLevel               string        `help:"debug, info, warn or error." default:"info" enum:"debug,info,warn,error"`
	ReauthMaxAge           time.Duration `name:"reauth-max-age" help:"How recent a proof of identity must be for a sensitive action in a browser session." default:"5m"`
	RefreshReuseInterval   string        `name:"refresh-reuse-interval" help:"How long after a refresh token's rotation a concurrent redemption of it still succeeds; 0 turns it off." default:"5s"`
	SMTPURL                string        `name:"smtp-url" help:"Mail server: smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465 (TLS); unset writes mailed links to the log."`
	SMTPFrom               string        `name:"smtp-from" help:"Sender address of Gatehouse's email."`

	Serve     serveCmd     `cmd:"" help:"Apply pending migrations, then serve."`
	Migrate   migrateCmd   `cmd:"" help:"Database migrations."`
	Users     usersCmd     `cmd:"" help:"Manage users."`
	Apikeys   apikeysCmd   `cmd:"" name:"apikeys" help:"Manage API keys."`
	Clients   clientsCmd   `cmd:"" help:"Manage OAuth clients."`
	Resources resourcesCmd `cmd:"" help:"Manage APIs (resource servers)."`
	Version   versionCmd   `cmd:"" help:"Print the version."`

	Healthcheck healthcheckCmd `cmd:"" help:"Exit 0 when the local server answers /readyz (for container health checks)."`
}

func (c *cli) config() config.Config {
	return config.Config{
		Addr: c.Addr, Issuer: c.Issuer, DatabaseURL: c.DatabaseURL, MasterKey: c.MasterKey,
		BootstrapAdminEmail: c.BootstrapAdminEmail, BootstrapAdminPassword: c.BootstrapAdminPassword,
		LogFormat: c.LogFormat, TrustedProxies: c.TrustedProxies, LogLevel: c.LogLevel, ReauthMaxAge: c.ReauthMaxAge,
		RefreshReuseInterval: c.RefreshReuseInterval, SMTPURL: c.SMTPURL, SMTPFrom: c.SMTPFrom,
	}.WithDefaults()
}

// env gives commands their standard streams and configuration.
type env struct {
	ctx    context.Context
	cfg    config.Config
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// errExit carries kong's exit for --help without killing the test process.
type errExit int

func (e errExit) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// run parses args and runs one sub-command. It never calls os.Exit, so tests
// drive it like the real binary.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdin io.Reader, stdout, stderr io.Writer) (err error) {
	var c cli
	globals := map[string]bool{}
	parser, err := kong.New(&c,
		kong.Name("gatehouse"),
		kong.Description("Gatehouse: a self-hosted identity platform."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(errExit(code)) }),
		kong.Resolvers(envResolver(lookup, globals)),
	)
	if err != nil {
		return err
	}
	for _, f := range parser.Model.Flags {
		globals[f.Name] = true
	}
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(errExit)
			if !ok {
				panic(r)
			}
			if code != 0 {
				err = errors.New("invalid command line")
			}
		}
	}()
	if len(args) == 0 {
		args = []string{"serve"}
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return err
	}
	cfg := c.config()
	if err := cfg.Validate(); err != nil {
		return err
	}
	return kctx.Run(&env{ctx: ctx, cfg: cfg, stdin: stdin, stdout: stdout, stderr: stderr})
}

// envResolver reads global flag --x-y from GATEHOUSE_X_Y. Sub-command flags
// (--email, --name) are not read from the environment.
func envResolver(lookup func(string) (string, bool), globals map[string]bool) kong.Resolver {
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		if !globals[flag.Name] {
			return nil, nil
		}
		v, ok := lookup("GATEHOUSE_" + strings.ToUpper(strings.ReplaceAll(flag.Name, "-", "_")))
		if !ok || v == "" {
			return nil, nil
		}
		return v, nil
	})
}

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	_, err := fmt.Fprintln(e.stdout, "gatehouse "+Version)
	return err
}
