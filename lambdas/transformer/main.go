// Command transformer is the Firehose processor of orders-firehose: it
// stamps every order with processing_timestamp and the open run_id.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/transformer/transform"
)

// handler takes the raw invocation so the event is decoded once, by
// transform.Event, rather than scanned by encoding/json first.
type handler struct {
	runID *runstate.Cache
	log   *slog.Logger
}

func (h handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev transform.Event
	if err := ev.UnmarshalJSON(payload); err != nil {
		return nil, err
	}
	runID, err := h.runID.RunID(ctx)
	if err != nil {
		// Firehose retries the batch, then writes it under the error prefix.
		return nil, err
	}
	resp, counts := transform.Transform(ev, transform.Stamp{RunID: runID, At: time.Now()})
	// "rejected" is what the operations stack's metric filter counts: records
	// Firehose will write under the errors/ prefix instead of the landing area.
	h.log.Info("transformed", "invocation_id", ev.InvocationID, "run_id", runID,
		"records", counts.Records, "ok", counts.OK, "rejected", counts.Records-counts.OK, "failed", counts.Failed)
	return json.Marshal(resp)
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ttl, err := strconv.Atoi(os.Getenv(runstate.EnvCacheSeconds))
	if err != nil {
		log.Error(runstate.EnvCacheSeconds+" must be a number of seconds", "error", err)
		os.Exit(1)
	}
	client, err := runstate.ClientFromEnv(os.Getenv)
	if err != nil {
		log.Error("creating the DynamoDB client", "error", err)
		os.Exit(1)
	}
	lambda.Start(handler{
		runID: &runstate.Cache{
			Store: &runstate.Store{Client: client, Table: os.Getenv(runstate.EnvTable)},
			TTL:   time.Duration(ttl) * time.Second,
		},
		log: log,
	})
}
