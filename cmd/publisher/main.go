// Command publisher is the source system of the orders pipeline: it sends
// one batch of orders to the `orders` stream and, once every record is
// acknowledged, writes the batch's completion object that starts the Glue
// workflow. See the README's "Publisher" section.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/orders-pipeline/orders-pipeline/internal/publisher"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := publisher.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
