package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/runrotator/rotate"
	"github.com/orders-pipeline/orders-pipeline/lambdas/transformer/transform"
)

// IngestionStackProps configure the ingestion stack.
type IngestionStackProps struct {
	awscdk.StackProps
	Config config.Config
	// DataKey encrypts the landing objects and the log groups.
	DataKey awskms.IKey
	// Stream is Firehose's source, LandingBucket its destination and
	// LandingTable the schema it converts against.
	Stream        awskinesis.IStream
	LandingBucket awss3.IBucket
	LandingTable  awsglue.CfnTable
	// RunState holds the open run id the transformer stamps and the
	// rotator rotates.
	RunState awsdynamodb.ITable
	// LastJob is the workflow's last job, whose success restarts the
	// continuous loop (and rotates the run there).
	LastJob string
}

// IngestionStack holds Kinesis stream to Firehose to the S3 landing area.
type IngestionStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// DeliveryStream is the Firehose `orders-firehose`.
	DeliveryStream awskinesisfirehose.IDeliveryStream
	// Transformer stamps processing_timestamp and run_id on every record.
	Transformer awslambda.IFunction
	// TransformerLogs is the transformer's log group; its per-invocation
	// counts feed the rejected-records metric of the operations stack.
	TransformerLogs awslogs.ILogGroup
	// RunRotator closes the open run and opens the next one; the
	// orchestration stack makes it a target of the workflow's trigger rule.
	RunRotator awslambda.IFunction
}

// Firehose's S3 prefixes. Orders are partitioned Hive-style (so Athena and
// Spark prune by partition) by dynamic partitioning on the keys the
// transformer returns with every record: the UTC date and hour of its own
// processing_timestamp and its run id. A record's folder therefore always
// agrees with its stamp (Firehose's !{timestamp} is the arrival time, which
// differs near an hour boundary), and each run's rows, late deliveries
// included, sit in the folders of that run only. Failures (which carry no
// keys) stay partitioned by arrival time and error type.
const (
	landingDataPrefix = config.OrdersPrefix +
		"processing_date=!{partitionKeyFromLambda:" + transform.PartitionDate + "}/" +
		"processing_hour=!{partitionKeyFromLambda:" + transform.PartitionHour + "}/" +
		"run=!{partitionKeyFromLambda:" + transform.PartitionRun + "}/"
	landingErrorPrefix = config.ErrorsPrefix + "!{firehose:error-output-type}/processing_date=!{timestamp:yyyy-MM-dd}/processing_hour=!{timestamp:HH}/"
	// dynamicPartitioningRetrySeconds is how long Firehose retries delivering
	// a partition to S3 before it writes the records under errors/.
	dynamicPartitioningRetrySeconds = 300
)

// NewIngestionStack defines Kinesis stream to Firehose to the S3 landing area.
func NewIngestionStack(scope constructs.Construct, id string, props *IngestionStackProps) *IngestionStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	names := cfg.Names()
	s := &IngestionStack{Stack: stack}

	transformer := gofunction.New(stack, "Transformer", gofunction.Props{
		Package:      "lambdas/transformer",
		FunctionName: names.TransformerFunction,
		Description:  "Stamps every order of " + names.DeliveryStream + " with processing_timestamp and the open run_id",
		Environment: map[string]string{
			runstate.EnvTable:        *props.RunState.TableName(),
			runstate.EnvCacheSeconds: strconv.Itoa(cfg.RunIDCacheSeconds),
		},
		// Lambda's CPU share grows with memory; 512 MB decodes a full batch in well under a second.
		MemorySize:   512,
		Timeout:      awscdk.Duration_Minutes(jsii.Number(1)),
		LogGroupName: names.LogGroup(config.LambdaLogs, "transformer"),
		LogKey:       props.DataKey,
	})
	props.RunState.Grant(transformer.Role, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:PutItem"))
	s.Transformer = transformer.Function
	s.TransformerLogs = transformer.LogGroup

	rotatorEnv := map[string]string{
		runstate.EnvTable:          *props.RunState.TableName(),
		rotate.EnvLandingBucket:    *props.LandingBucket.BucketName(),
		rotate.EnvCompletionPrefix: config.CompletionPrefix,
	}
	if cfg.TriggerMode == config.TriggerContinuous {
		// In the continuous loop the workflow restarts when its last job
		// succeeds, and that event rotates the run too.
		rotatorEnv[rotate.EnvLastJob] = props.LastJob
	}
	rotator := gofunction.New(stack, "RunRotator", gofunction.Props{
		Package:      "lambdas/runrotator",
		Description:  "Closes the open run and opens the next when a batch completes",
		Environment:  rotatorEnv,
		LogGroupName: names.LogGroup(config.LambdaLogs, "run-rotator"),
		LogKey:       props.DataKey,
	})
	props.RunState.Grant(rotator.Role, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:UpdateItem"))
	s.RunRotator = rotator.Function

	logs := awslogs.NewLogGroup(stack, jsii.String("DeliveryLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(names.LogGroup(config.FirehoseLogs, "delivery")),
		EncryptionKey: props.DataKey,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	destination := awskinesisfirehose.NewS3Bucket(props.LandingBucket, &awskinesisfirehose.S3BucketProps{
		// Replaced by enableDynamicPartitioning: the L2 refuses partition
		// keys in the prefix, as it cannot enable dynamic partitioning.
		DataOutputPrefix:  jsii.String(config.OrdersPrefix),
		ErrorOutputPrefix: jsii.String(landingErrorPrefix),
		BufferingInterval: awscdk.Duration_Seconds(jsii.Number(float64(cfg.FirehoseBufferIntervalSeconds))),
		BufferingSize:     awscdk.Size_Mebibytes(jsii.Number(float64(cfg.FirehoseBufferSizeMiB))),
		EncryptionKey:     props.DataKey,
		LoggingConfig:     awskinesisfirehose.NewEnableLogging(logs),
		Processors: &[]awskinesisfirehose.IDataProcessor{
			awskinesisfirehose.NewLambdaFunctionProcessor(transformer.Function, &awskinesisfirehose.DataProcessorProps{
				BufferSize:     awscdk.Size_Mebibytes(jsii.Number(float64(cfg.TransformerBufferSizeMiB))),
				BufferInterval: awscdk.Duration_Seconds(jsii.Number(float64(cfg.TransformerBufferIntervalSeconds))),
				Retries:        jsii.Number(3),
			}),
		},
		DataFormatConversion: &awskinesisfirehose.DataFormatConversionProps{
			SchemaConfiguration: awskinesisfirehose.SchemaConfiguration_FromCfnTable(props.LandingTable, nil),
			InputFormat: awskinesisfirehose.NewOpenXJsonInputFormat(&awskinesisfirehose.OpenXJsonInputFormatProps{
				LowercaseColumnNames: jsii.Bool(true),
			}),
			OutputFormat: awskinesisfirehose.NewParquetOutputFormat(&awskinesisfirehose.ParquetOutputFormatProps{
				Compression: awskinesisfirehose.ParquetCompression_SNAPPY(),
			}),
		},
	})
	s.DeliveryStream = awskinesisfirehose.NewDeliveryStream(stack, jsii.String("DeliveryStream"), &awskinesisfirehose.DeliveryStreamProps{
		DeliveryStreamName: jsii.String(names.DeliveryStream),
		Source:             awskinesisfirehose.NewKinesisStreamSource(props.Stream),
		Destination:        destination,
	})
	enableDynamicPartitioning(s.DeliveryStream)
	suppressDeliveryGrants(s.DeliveryStream)
	// The Firehose L2 always adds its regional CIDR mapping; only
	// destinations inside a VPC read it, which this stream has none of, and
	// an unused mapping is a template warning (W7001).
	stack.Node().TryRemoveChild(jsii.String("@aws-cdk--aws-kinesisfirehose.CidrBlocks"))
	return s
}

// enableDynamicPartitioning turns on Firehose's dynamic partitioning, which
// the L2 does not expose: the data prefix then takes the transformer's
// partition keys. Firehose allows it only when the stream is created, so
// turning it on replaces the delivery stream.
func enableDynamicPartitioning(ds awskinesisfirehose.IDeliveryStream) {
	cfn := ds.Node().DefaultChild().(awskinesisfirehose.CfnDeliveryStream)
	cfn.AddPropertyOverride(jsii.String("ExtendedS3DestinationConfiguration.Prefix"), jsii.String(landingDataPrefix))
	cfn.AddPropertyOverride(jsii.String("ExtendedS3DestinationConfiguration.DynamicPartitioningConfiguration"), map[string]any{
		"Enabled":      true,
		"RetryOptions": map[string]any{"DurationInSeconds": dynamicPartitioningRetrySeconds},
	})
}

// suppressDeliveryGrants records why the grants the Firehose L2 writes for
// its S3 destination are acceptable: every one is scoped to this pipeline's
// bucket, key, table or function; the wildcards are in action names and
// object keys the L2 chooses.
func suppressDeliveryGrants(ds awskinesisfirehose.IDeliveryStream) {
	nag.Suppress(ds,
		nag.Suppression("AwsSolutions-KDF1", "Firehose cannot apply its own server-side encryption when a Kinesis stream is the source; records are encrypted in the stream (aws/kinesis) and written to the landing bucket with SSE-KMS under the pipeline's data key."),
		nag.Suppression("AwsSolutions-IAM5", "Firehose writes objects with generated names under the landing bucket, so the grant covers the bucket's objects; the L2 grants read/write action groups on that one bucket only.",
			"Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*", `regex:/^Resource::.*LandingBucket.*\/\*$/`),
		nag.Suppression("AwsSolutions-IAM5", "SSE-KMS writes to the landing bucket generate and re-encrypt data keys under the pipeline's data key; the grant names that key only.",
			"Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"),
		nag.Suppression("AwsSolutions-IAM5", "Firehose invokes the transformer by its ARN, possibly qualified with a version; the grant covers that one function.",
			"Resource::<TransformerFunctionFE009084.Arn>:*"),
		nag.Suppression("AwsSolutions-IAM5", "glue:GetSchemaVersion is added by the L2 for Glue Schema Registry lookups; the conversion here uses the catalog table (granted on its exact ARNs) and the action reads schemas only.",
			"Resource::*"),
	)
}
