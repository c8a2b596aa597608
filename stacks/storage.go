package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/eventqueue"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/securebucket"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/servicekey"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
)

// StorageStackProps configure the stateful storage stack.
type StorageStackProps struct {
	awscdk.StackProps
	Config config.Config
	// RemovalPolicy applies to every stateful resource of the stack.
	RemovalPolicy awscdk.RemovalPolicy
}

// StorageStack owns the pipeline's data. Never rename the construct IDs in
// here: a new logical ID makes CloudFormation replace (and lose) a resource.
type StorageStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// DataKey encrypts the buckets, the audit table, the topics, the log
	// groups and the Glue job outputs.
	DataKey awskms.Key
	// AccessLogs receives the S3 server access logs of every bucket.
	AccessLogs awss3.Bucket
	// Stream is the Kinesis stream `orders` the publisher writes to.
	Stream awskinesis.Stream
	// LandingBucket is the S3 landing area (orders/, errors/ and batch-completion/).
	LandingBucket awss3.Bucket
	// StagingBucket is the S3 staging area (orders/, exploded, and redshift-copy/).
	StagingBucket awss3.Bucket
	// AthenaResults holds the Athena query results of the audit jobs.
	AthenaResults awss3.Bucket
	// GlueCode holds the Glue jobs' shared Python modules under their own
	// names (common/<module>.py), which --extra-py-files needs.
	GlueCode awss3.Bucket
	// AuditTable is `orders-audit-table`, one item per run id and layer.
	AuditTable awsdynamodb.Table
	// RunState holds the open run id the transformer stamps on records.
	RunState awsdynamodb.Table
	// Database is the Glue database `ecommerce-database`.
	Database awsglue.CfnDatabase
	// LandingTable is the Glue table `orders` over the landing area.
	LandingTable awsglue.CfnTable
	// LandingCrawlerEvents and StagingCrawlerEvents receive the object
	// events under orders/ of their area, for the crawler of that area (in
	// S3 event mode: it crawls only the folders the events name).
	LandingCrawlerEvents, StagingCrawlerEvents *eventqueue.EventQueue
}

// athenaResultsDays is how long Athena query results are kept: the audit
// jobs read a result once, right after the query, so they only need to
// outlive a retried job run.
const athenaResultsDays = 30

// NewStorageStack defines the stateful storage.
func NewStorageStack(scope constructs.Construct, id string, props *StorageStackProps) *StorageStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg, removal := props.Config, props.RemovalPolicy
	names := cfg.Names()
	s := &StorageStack{Stack: stack}

	// Only AWS services (S3, Firehose, DynamoDB, Glue, Redshift) may create
	// grants on the data key, on a caller's behalf (CT.KMS.PR.3).
	s.DataKey = servicekey.New(stack, "DataKey", servicekey.Props{
		Alias:         names.DataKeyAlias(),
		Description:   "Encrypts the orders pipeline's data at rest",
		RemovalPolicy: removal,
	})
	// Server access logs cannot be delivered to an SSE-KMS or an Object Lock
	// bucket, so this one bucket has S3-managed keys and no Object Lock
	// (Control Tower exemptions S3.PR.10 and S3.PR.9).
	s.AccessLogs = securebucket.New(stack, "AccessLogs", securebucket.Props{
		AccessLogDestination: true,
		ExpirationDays:       90,
		RemovalPolicy:        removal,
	})
	nag.Suppress(s.AccessLogs, nag.Suppression("AwsSolutions-S1", "This is the access-log bucket itself; logging it into itself would loop."))

	streamProps := &awskinesis.StreamProps{
		StreamName:      jsii.String(names.Stream),
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(float64(cfg.StreamRetentionHours))),
		// The AWS managed key (aws/kinesis): a customer managed key would bill
		// every producer and consumer call and need grants on each of them.
		Encryption:    awskinesis.StreamEncryption_MANAGED,
		RemovalPolicy: removal,
		StreamMode:    awskinesis.StreamMode_PROVISIONED,
	}
	if cfg.StreamMode == config.StreamOnDemand {
		streamProps.StreamMode = awskinesis.StreamMode_ON_DEMAND
	} else {
		streamProps.ShardCount = jsii.Number(float64(cfg.StreamShardCount))
	}
	s.Stream = awskinesis.NewStream(stack, jsii.String("Stream"), streamProps)

	// The workflow's trigger rule matches completion objects through the
	// EventBridge events every secure bucket sends.
	landingName := bucketName(stack, cfg, names.LandingBucketSeed, cfg.LandingBucketName)
	s.LandingBucket = s.newDataBucket("LandingBucket", "landing/", removal, securebucket.Props{
		BucketName:            landingName,
		ExpirationDays:        cfg.LandingExpirationDays,
		NoncurrentVersionDays: cfg.NoncurrentVersionDays,
	})
	s.addCatalog(names)

	// The run state holds run and event ids only, no order data, so the AWS
	// managed key suffices and no function needs a grant on DataKey.
	s.RunState = awsdynamodb.NewTable(stack, jsii.String("RunState"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(runstate.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: removal,
	})

	// The audit table is encrypted with the DataKey rather than an
	// AWS-managed key: the counts describe the same data the buckets hold,
	// the key rotates and its use shows in CloudTrail, and the roles that
	// read the table (scanner, audit jobs) are granted that one key instead
	// of a second one. The stream carries new images only: the scanner
	// compares the count just written and never needs the previous one.
	s.AuditTable = awsdynamodb.NewTable(stack, jsii.String("AuditTable"), &awsdynamodb.TableProps{
		TableName:    jsii.String(names.AuditTable),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(audit.RunIDKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(audit.LayerKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: s.DataKey,
		Stream:        awsdynamodb.StreamViewType_NEW_IMAGE,
		RemovalPolicy: removal,
		// A retained table is also protected from a delete in the console.
		DeletionProtection: jsii.Bool(removal != awscdk.RemovalPolicy_DESTROY),
	})

	stagingName := bucketName(stack, cfg, names.StagingBucketSeed, cfg.StagingBucketName)
	s.StagingBucket = s.newDataBucket("StagingBucket", "staging-area/", removal, securebucket.Props{
		BucketName:            stagingName,
		ExpirationDays:        cfg.StagingExpirationDays,
		NoncurrentVersionDays: cfg.NoncurrentVersionDays,
	})
	s.AthenaResults = s.newDataBucket("AthenaResults", "athena-results/", removal, securebucket.Props{
		ExpirationDays:        athenaResultsDays,
		NoncurrentVersionDays: 1,
	})
	// Only the current modules matter: the deployment replaces them.
	s.GlueCode = s.newDataBucket("GlueCode", "glue-code/", removal, securebucket.Props{NoncurrentVersionDays: 1})
	s.LandingCrawlerEvents = newCrawlerEvents(stack, "LandingCrawlerEvents", s.LandingBucket, landingName, removal)
	s.StagingCrawlerEvents = newCrawlerEvents(stack, "StagingCrawlerEvents", s.StagingBucket, stagingName, removal)
	s.allowLogEncryption(names)
	return s
}

// newDataBucket defines a bucket encrypted with DataKey whose server access
// logs go to AccessLogs under logsPrefix; props give the rest.
func (s *StorageStack) newDataBucket(id, logsPrefix string, removal awscdk.RemovalPolicy, props securebucket.Props) awss3.Bucket {
	props.Key, props.AccessLogs, props.AccessLogsPrefix, props.RemovalPolicy = s.DataKey, s.AccessLogs, logsPrefix, removal
	return securebucket.New(s.Stack, id, props)
}

// crawlerEventsMaxReceives is how many crawls may receive an event without
// deleting it (each failed) before it is set aside.
const crawlerEventsMaxReceives = 50

// newCrawlerEvents sends the bucket's object events under orders/ straight
// to a queue (S3 notifications, not EventBridge: a crawler in event mode
// reads S3's own event format). The queues live beside the buckets because
// a bucket's notification must name its queue.
func newCrawlerEvents(stack awscdk.Stack, id string, bucket awss3.Bucket, bucketName *string, removal awscdk.RemovalPolicy) *eventqueue.EventQueue {
	q := eventqueue.New(stack, id, eventqueue.Props{
		MaxReceives: crawlerEventsMaxReceives,
		// Glue holds the messages of a crawl for the crawl's duration.
		VisibilityTimeout: awscdk.Duration_Hours(jsii.Number(1)),
		RemovalPolicy:     removal,
	})
	q.ReceiveNotifications(bucket, bucketName, config.OrdersPrefix)
	return q
}

// bucketName is the one naming rule of the pipeline's data buckets
// (config.BucketName, whose length validation checks): the configured full
// name if any, else the seed name plus a suffix that makes it globally
// unique — bucketNameSuffix, or the account and region the stack deploys to.
func bucketName(stack awscdk.Stack, cfg config.Config, seedName, override string) *string {
	if override != "" || cfg.BucketNameSuffix != "" {
		name, _ := cfg.BucketName(seedName, override)
		return jsii.String(name)
	}
	return awscdk.Fn_Join(jsii.String("-"), &[]*string{jsii.String(seedName), stack.Account(), stack.Region()})
}

// addCatalog declares the Glue database and the landing table `orders`, the
// one source of truth for the landing schema: Firehose converts records
// against it and the landing crawler only adds partitions to it.
func (s *StorageStack) addCatalog(names config.Names) {
	s.Database = awsglue.NewCfnDatabase(s.Stack, jsii.String("Database"), &awsglue.CfnDatabaseProps{
		CatalogId: s.Stack.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(names.Database),
			Description: jsii.String("Orders pipeline: landing and staging tables"),
		},
	})
	s.LandingTable = awsglue.NewCfnTable(s.Stack, jsii.String("LandingTable"), &awsglue.CfnTableProps{
		CatalogId:    s.Stack.Account(),
		DatabaseName: s.Database.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:        jsii.String(names.LandingTable),
			Description: jsii.String("Orders as Firehose lands them: Parquet/Snappy, partitioned by processing time"),
			TableType:   jsii.String("EXTERNAL_TABLE"),
			Parameters: map[string]string{
				"classification":      "parquet",
				"parquet.compression": "SNAPPY",
				"EXTERNAL":            "TRUE",
			},
			PartitionKeys: glueColumns(orders.PartitionColumns),
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      glueColumns(orders.LandingColumns),
				Location:     jsii.String(s3URI(s.LandingBucket, config.OrdersPrefix)),
				InputFormat:  jsii.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
					Parameters:           map[string]string{"serialization.format": "1"},
				},
			},
		},
	})
}

func glueColumns(cols []orders.Column) *[]*awsglue.CfnTable_ColumnProperty {
	out := make([]*awsglue.CfnTable_ColumnProperty, len(cols))
	for i, c := range cols {
		out[i] = &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)}
		if c.Comment != "" {
			out[i].Comment = jsii.String(c.Comment)
		}
	}
	return &out
}

// s3URI is "s3://<bucket>/<prefix>".
func s3URI(bucket awss3.IBucket, prefix string) string {
	return "s3://" + *bucket.BucketName() + "/" + prefix
}

// allowLogEncryption lets CloudWatch Logs encrypt the pipeline's log
// groups with the data key: the Glue crawler and job groups (the Glue
// security configuration asks for it) and the Lambda, Firehose and flow-log
// groups the other stacks name with Names.LogGroup. The key policy has to
// name the Logs service for that, and the condition keeps it to those groups.
func (s *StorageStack) allowLogEncryption(names config.Names) {
	groupArn := func(pattern string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), s.Stack.Partition(), jsii.String(":logs:"), s.Stack.Region(), jsii.String(":"),
			s.Stack.Account(), jsii.String(":log-group:" + pattern),
		})
	}
	s.DataKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("PipelineLogGroupsEncryption"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("logs."), s.Stack.Region(), jsii.String(".amazonaws.com")}), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{
			"ArnLike": map[string]interface{}{"kms:EncryptionContext:aws:logs:arn": &[]*string{
				groupArn("/aws-glue/*"),
				groupArn(names.LogGroup(config.LambdaLogs, "*")),
				groupArn(names.LogGroup(config.FirehoseLogs, "*")),
				groupArn(names.LogGroup(config.FlowLogs, "*")),
			}},
		},
	}), nil)
}
