// Command auditscanner is AuditTableScannerFn: on the audit table's stream,
// it compares every staging / Redshift count with the S3 landing count of
// the same run id and publishes SUCCESS or FAILURE (package reconcile).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
)

// requestTimeout bounds each attempt of every DynamoDB and SNS call, well
// inside the function's timeout: a server that stops answering fails the
// record, which is reported and retried, instead of the whole invocation.
const requestTimeout = 5 * time.Second

func main() {
	scanner, err := newScanner(context.Background())
	if err != nil {
		slog.Error("AuditTableScannerFn cannot start", "error", err.Error())
		os.Exit(1)
	}
	// Failures are reported per record, so the invocation itself never
	// fails: an error here would make Lambda retry the whole batch.
	lambda.Start(func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return scanner.Handle(ctx, ev), nil
	})
}

func newScanner(ctx context.Context) (reconcile.Scanner, error) {
	env := map[string]string{}
	for _, k := range []string{reconcile.EnvTable, reconcile.EnvSuccessTopic, reconcile.EnvFailureTopic, reconcile.EnvClaimTimeout} {
		if env[k] = os.Getenv(k); env[k] == "" {
			return reconcile.Scanner{}, fmt.Errorf("environment variable %s is not set", k)
		}
	}
	timeout, err := strconv.Atoi(env[reconcile.EnvClaimTimeout])
	if err != nil || timeout <= 0 {
		return reconcile.Scanner{}, fmt.Errorf("%s = %q is not a positive number of seconds", reconcile.EnvClaimTimeout, env[reconcile.EnvClaimTimeout])
	}
	// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SNS, when set, point the
	// clients elsewhere (the tests' local servers).
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(requestTimeout)))
	if err != nil {
		return reconcile.Scanner{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return reconcile.Scanner{
		Table: reconcile.Table{
			Client:       dynamodb.NewFromConfig(cfg),
			Name:         env[reconcile.EnvTable],
			ClaimTimeout: time.Duration(timeout) * time.Second,
		},
		Topics: reconcile.Topics{
			Client:  sns.NewFromConfig(cfg, reconcile.PublishOnce),
			Success: env[reconcile.EnvSuccessTopic],
			Failure: env[reconcile.EnvFailureTopic],
		},
		Log: slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}, nil
}
