package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/securebucket"
)

// Prefixes of the landing bucket. The source system drops a completion
// file under CompletionPrefix at the end of every batch; the workflow's
// trigger rule and the run rotator match it.
const (
	LandingOrdersPrefix = "orders/"
	CompletionPrefix    = "batch-completion/"
	LandingErrorsPrefix = "errors/"
)

// addLanding defines the `orders` stream and the S3 landing area.
func (s *StorageStack) addLanding(cfg config.Config) {
	names := cfg.Names()
	streamProps := &awskinesis.StreamProps{
		StreamName:      jsii.String(names.Stream),
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(float64(cfg.StreamRetentionHours))),
		// The AWS managed key (aws/kinesis): a customer managed key would bill
		// every producer and consumer call and need grants on each of them.
		Encryption:    awskinesis.StreamEncryption_MANAGED,
		RemovalPolicy: removalPolicy(cfg),
		StreamMode:    awskinesis.StreamMode_PROVISIONED,
	}
	if cfg.StreamMode == "on-demand" {
		streamProps.StreamMode = awskinesis.StreamMode_ON_DEMAND
	} else {
		streamProps.ShardCount = jsii.Number(float64(cfg.StreamShardCount))
	}
	s.Stream = awskinesis.NewStream(s.Stack, jsii.String("Stream"), streamProps)

	s.LandingBucket = securebucket.New(s.Stack, "LandingBucket", securebucket.Props{
		BucketName:            bucketName(s.Stack, cfg, names.LandingBucketSeed, cfg.LandingBucketName),
		Key:                   s.DataKey,
		AccessLogs:            s.AccessLogs,
		AccessLogsPrefix:      "landing/",
		ExpirationDays:        cfg.LandingExpirationDays,
		NoncurrentVersionDays: cfg.NoncurrentVersionDays,
		// The workflow's trigger rule matches completion files through the
		// EventBridge events every secure bucket sends.
		Destroy: cfg.RemovalPolicy == "destroy",
	})
}
