// Command transformer is the Firehose processor of orders-firehose: it
// stamps every order with processing_timestamp and the open run_id.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/transformer/transform"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ttl, err := strconv.Atoi(os.Getenv("RUN_ID_CACHE_SECONDS"))
	if err != nil {
		log.Error("RUN_ID_CACHE_SECONDS must be a number of seconds", "error", err)
		os.Exit(1)
	}
	// AWS_ENDPOINT_URL_DYNAMODB, honoured by the SDK, points tests at dynalite.
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("loading the AWS configuration", "error", err)
		os.Exit(1)
	}
	cache := &runstate.Cache{
		Store: &runstate.Store{Client: dynamodb.NewFromConfig(awsCfg), Table: os.Getenv("RUN_STATE_TABLE")},
		TTL:   time.Duration(ttl) * time.Second,
	}
	lambda.Start(func(ctx context.Context, ev transform.Event) (events.KinesisFirehoseResponse, error) {
		runID, err := cache.RunID(ctx)
		if err != nil {
			// Firehose retries the batch, then writes it under the error prefix.
			return events.KinesisFirehoseResponse{}, err
		}
		resp, counts := transform.Transform(ev, transform.Stamp{RunID: runID, At: time.Now()})
		log.Info("transformed", "invocation_id", ev.InvocationID, "run_id", runID,
			"records", counts.Records, "ok", counts.OK, "failed", counts.Failed)
		return resp, nil
	})
}
