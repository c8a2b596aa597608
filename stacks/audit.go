package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// AuditStackProps configure the audit stack.
type AuditStackProps struct {
	awscdk.StackProps
	Config  config.Config
	Storage *StorageStack
}

// AuditStack holds the audit table scanner and its notification topics.
type AuditStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// Scanner is AuditTableScannerFn.
	Scanner awslambda.IFunction
	// SuccessTopic and FailureTopic receive the reconciliation outcomes
	// (the same topic when singleNotificationTopic is true).
	SuccessTopic, FailureTopic awssns.ITopic
	// OnFailure receives stream batches the scanner could not process.
	OnFailure awssqs.IQueue
}

// NewAuditStack defines the audit table scanner and its notification topics.
func NewAuditStack(scope constructs.Construct, id string, props *AuditStackProps) *AuditStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	s := &AuditStack{Stack: stack}
	s.SuccessTopic, s.FailureTopic = newNotificationTopics(stack, cfg, props.Storage.DataKey)
	s.OnFailure = newScannerFailureQueue(stack)
	s.Scanner = newAuditScanner(stack, cfg, auditScannerProps{
		Storage: props.Storage, Success: s.SuccessTopic, Failure: s.FailureTopic, OnFailure: s.OnFailure,
	})
	return s
}
