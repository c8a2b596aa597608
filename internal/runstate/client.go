package runstate

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Environment variables of the functions that use the run state. The
// stack that sets them names them by these constants.
const (
	// EnvTable names the run-state table (transformer and run rotator).
	EnvTable = "RUN_STATE_TABLE"
	// EnvCacheSeconds is how long the transformer caches the open run id.
	EnvCacheSeconds = "RUN_ID_CACHE_SECONDS"
)

// ClientFromEnv builds the DynamoDB client of a Lambda function from the
// variables the Lambda service sets (AWS_REGION and the execution role's
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), plus the
// SDK's standard AWS_ENDPOINT_URL_DYNAMODB override that tests use to point
// at dynalite. It reads them directly instead of through the SDK's config
// loader, whose SSO, STS and IMDS providers a Lambda never uses and which
// take a third of the transformer's 10 MB binary budget.
func ClientFromEnv(getenv func(string) string) (*dynamodb.Client, error) {
	region, key, secret := getenv("AWS_REGION"), getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || key == "" || secret == "" {
		return nil, errors.New("AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (the Lambda service sets them)")
	}
	opts := dynamodb.Options{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if endpoint := getenv("AWS_ENDPOINT_URL_DYNAMODB"); endpoint != "" {
		opts.BaseEndpoint = aws.String(endpoint)
	}
	return dynamodb.New(opts), nil
}
