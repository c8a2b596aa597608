// Command runrotator closes the open run and opens the next one when a
// batch completes (or, in continuous mode, when the workflow restarts).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/runrotator/rotate"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	client, err := runstate.ClientFromEnv(os.Getenv)
	if err != nil {
		log.Error("creating the DynamoDB client", "error", err)
		os.Exit(1)
	}
	store := &runstate.Store{Client: client, Table: os.Getenv(runstate.EnvTable)}
	trigger := rotate.Trigger{
		LandingBucket:    os.Getenv(rotate.EnvLandingBucket),
		CompletionPrefix: os.Getenv(rotate.EnvCompletionPrefix),
		LastJob:          os.Getenv(rotate.EnvLastJob),
	}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (runstate.Rotation, error) {
		rot, err := rotate.Rotate(ctx, store, trigger, ev)
		if err != nil {
			log.Error("run not rotated", "event_id", ev.ID, "error", err)
			return rot, err
		}
		log.Info("run rotated", "event_id", ev.ID, "closed", rot.Closed, "opened", rot.Opened, "duplicate", rot.Duplicate)
		return rot, nil
	})
}
