package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// OperationsStackProps configure the operations stack.
type OperationsStackProps struct {
	awscdk.StackProps
	Config   config.Config
	Pipeline *Pipeline
}

// OperationsStack holds the alarms and the dashboard that watch the pipeline.
type OperationsStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
}

// NewOperationsStack defines the alarms and dashboard.
func NewOperationsStack(scope constructs.Construct, id string, props *OperationsStackProps) *OperationsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &OperationsStack{Stack: stack}
}
