package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// PublisherStackProps configure the publisher stack.
type PublisherStackProps struct {
	awscdk.StackProps
	Config  config.Config
	Storage *StorageStack
}

// PublisherStack holds the optional EC2 publisher instance.
type PublisherStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
}

// NewPublisherStack defines the optional EC2 publisher instance.
func NewPublisherStack(scope constructs.Construct, id string, props *PublisherStackProps) *PublisherStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &PublisherStack{Stack: stack}
}
