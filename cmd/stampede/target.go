package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/stampede-load/stampede/infra/demotarget"
)

// DefaultTargetAddr is where `stampede target` listens by default.
const DefaultTargetAddr = "127.0.0.1:8080"

func newTargetCmd() *cobra.Command {
	var (
		addr string
		opts demotarget.Options
	)
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Serve the demo serverless store API to test against",
		Long: `target serves a demo API that imitates a serverless store (products and
search, a token-protected account, asynchronous report jobs, edge pages) with
realistic latencies and cold starts, until interrupted. The examples/ plans
run against it:

  GET  /prod/health                 GET  /prod/products?category=&limit=
  GET  /prod/products/{id}          POST /prod/search
  POST /auth/token                  GET  /prod/account/profile   (Bearer)
  GET  /prod/account/orders         POST /prod/cart/items        (Bearer)
  POST /prod/reports                GET  /prod/reports/{jobId}
  GET  /edge/home                   GET  /edge/content/{slug}
  POST /edge/track`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveTarget(cmd.Context(), cmd, addr, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", DefaultTargetAddr, "address to listen on (host:port)")
	f.Float64Var(&opts.RateLimit, "rate-limit", 0, "answer 429 beyond this many requests per second (0: never)")
	f.BoolVar(&opts.NoDelay, "no-delay", false, "turn simulated latency and cold starts off")
	return cmd
}

// serveTarget serves the demo target on addr until ctx ends.
func serveTarget(ctx context.Context, cmd *cobra.Command, addr string, opts demotarget.Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return exit(ExitInfra, "listen on %s: %w (hint: another process may use the port; try --addr 127.0.0.1:0)", addr, err)
	}
	tg := demotarget.New(opts)
	srv := &http.Server{Handler: tg, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(cmd.OutOrStdout(), "demo target listening on http://%s (Ctrl-C to stop)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return exit(ExitInfra, "serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return exit(ExitInfra, "shut down: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "demo target stopped after %d requests\n", tg.Requests())
	return nil
}
