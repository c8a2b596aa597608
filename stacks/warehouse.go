package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// WarehouseStackProps configure the Redshift warehouse stack.
type WarehouseStackProps struct {
	awscdk.StackProps
	Config  config.Config
	Storage *StorageStack
}

// WarehouseStack owns the Redshift warehouse the Glue jobs load into.
type WarehouseStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
}

// NewWarehouseStack defines the warehouse.
func NewWarehouseStack(scope constructs.Construct, id string, props *WarehouseStackProps) *WarehouseStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &WarehouseStack{Stack: stack}
}
