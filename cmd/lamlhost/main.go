// Command lamlhost answers inbound-SMS webhooks with per-number JavaScript
// and Lua scripts. See the README for the configuration and script API.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on machines without a zone database
)

func main() {
	// Scripts see UTC unless their number sets a time zone: goja's Date
	// reads the process's local zone.
	time.Local = time.UTC
	// Each message allocates a few tens of KiB and keeps none; a collector
	// that waits for three times the live heap instead of twice costs
	// half the CPU and little memory, as the live heap is small.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `lamlhost answers SMS webhooks with per-number JavaScript and Lua scripts.

Usage:
  lamlhost [serve] [-config config.toml] [-listen ADDR]
  lamlhost check   [-config config.toml]
  lamlhost try     [-config config.toml] -to NUMBER [-from NUMBER] [-body TEXT]
                   [-sid SID] [-media URL]...

Commands:
  serve   serve the webhook (the default)
  check   compile every routed script; exit non-zero on any problem
  try     run one number's script on one message and print the LaML

Run "lamlhost COMMAND -h" for the flags of a command.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "check":
		return check(args, stdout, stderr)
	case "try":
		return try(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "lamlhost: unknown command %q\n\n%s", cmd, usage)
	return 2
}
