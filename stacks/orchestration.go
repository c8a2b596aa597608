package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// OrchestrationStackProps configure the orchestration stack.
type OrchestrationStackProps struct {
	awscdk.StackProps
	Config    config.Config
	Storage   *StorageStack
	Warehouse *WarehouseStack
	Ingestion *IngestionStack
}

// OrchestrationStack holds the EventBridge trigger, the Glue workflow
// `orders-workflow`, its crawlers and jobs.
type OrchestrationStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
}

// NewOrchestrationStack defines the orchestration layer.
func NewOrchestrationStack(scope constructs.Construct, id string, props *OrchestrationStackProps) *OrchestrationStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &OrchestrationStack{Stack: stack}
}
