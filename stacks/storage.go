package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/securebucket"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
)

// StorageStackProps configure the stateful storage stack.
type StorageStackProps struct {
	awscdk.StackProps
	Config config.Config
}

// StorageStack owns the pipeline's data. Never rename the construct IDs in
// here: a new logical ID makes CloudFormation replace (and lose) a resource.
type StorageStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// DataKey encrypts the buckets, the stream and the Glue job outputs.
	DataKey awskms.Key
	// AccessLogs receives the S3 server access logs of every bucket.
	AccessLogs awss3.Bucket
	// Stream is the Kinesis stream `orders` the publisher writes to.
	Stream awskinesis.Stream
	// LandingBucket is the S3 landing area (orders/ and batch-completion/).
	LandingBucket awss3.Bucket
	// StagingBucket is the S3 staging area (orders/, exploded).
	StagingBucket awss3.Bucket
	// AthenaResults holds the Athena query results of the audit jobs.
	AthenaResults awss3.Bucket
	// GlueCode holds the Glue jobs' shared Python modules under their own
	// names (common/<module>.py), which --extra-py-files needs.
	GlueCode awss3.Bucket
	// AuditTable is `orders-audit-table`, one item per run id and layer.
	AuditTable awsdynamodb.ITable
	// RunState holds the open run id the transformer stamps on records.
	RunState awsdynamodb.Table
	// Database is the Glue database `ecommerce-database`.
	Database awsglue.CfnDatabase
	// LandingTable is the Glue table `orders` over the landing area.
	LandingTable awsglue.CfnTable
}

// NewStorageStack defines the stateful storage.
func NewStorageStack(scope constructs.Construct, id string, props *StorageStackProps) *StorageStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	s := &StorageStack{Stack: stack}

	s.DataKey = awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
		Alias:             jsii.String(dataKeyAlias(cfg)),
		Description:       jsii.String("Encrypts the orders pipeline's data at rest"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(cfg),
	})
	// Only AWS services (S3, Firehose, DynamoDB, Glue, Redshift) may create
	// grants on the data key, on a caller's behalf (CT.KMS.PR.3).
	s.DataKey.AddToResourcePolicy(servicekey.GrantsOnlyForAWSServices(), nil)
	// Server access logs cannot be delivered to an SSE-KMS or an Object Lock
	// bucket, so this one bucket has S3-managed keys and no Object Lock
	// (Control Tower exemptions S3.PR.10 and S3.PR.9).
	s.AccessLogs = securebucket.New(stack, "AccessLogs", securebucket.Props{
		AccessLogDestination: true,
		ExpirationDays:       90,
		Destroy:              cfg.RemovalPolicy == "destroy",
	})
	suppress(s.AccessLogs, rule("AwsSolutions-S1", "This is the access-log bucket itself; logging it into itself would loop."))
	s.addLanding(cfg)
	s.addCatalog(cfg)
	s.addRunState(cfg)
	s.AuditTable = newAuditTable(stack, cfg, s.DataKey)
	addStagingArea(s, cfg)
	return s
}
