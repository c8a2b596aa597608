package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// IngestionStackProps configure the ingestion stack.
type IngestionStackProps struct {
	awscdk.StackProps
	Config  config.Config
	Storage *StorageStack
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
	// RunRotator closes the open run and opens the next one; the
	// orchestration stack makes it a target of the workflow's trigger rule.
	RunRotator awslambda.IFunction
}

// NewIngestionStack defines Kinesis stream to Firehose to the S3 landing area.
func NewIngestionStack(scope constructs.Construct, id string, props *IngestionStackProps) *IngestionStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &IngestionStack{Stack: stack}
}
