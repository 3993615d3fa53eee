// Command custos is the Custos CRM server: `custos serve` (the default),
// `custos migrate` and `custos bootstrap`. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // tenant time zones must resolve on machines without zoneinfo

	"github.com/custos-crm/custos/internal/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "custos:", err)
		os.Exit(1)
	}
}

// run runs the command named by args with settings from getenv; it returns
// when the command is done or ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return command.Run(ctx, args, getenv, stdout, stderr)
}
