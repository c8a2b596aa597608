package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
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
	// Target is how the Glue jobs reach the warehouse.
	Target WarehouseTarget
}

// WarehouseTarget is everything a Glue job needs to run SQL through the
// Redshift Data API and to COPY from the staging area. Exactly one of
// WorkgroupName and ClusterIdentifier is set.
type WarehouseTarget struct {
	WorkgroupName     *string
	ClusterIdentifier *string
	// ResourceArn is the workgroup's or cluster's ARN, for IAM.
	ResourceArn *string
	Database    string
	// Secret holds the credentials the Data API authenticates with.
	Secret awssecretsmanager.ISecret
	// CopyRole is attached to the warehouse and may read the staging area.
	CopyRole awsiam.IRole
}

// NewWarehouseStack defines the warehouse.
func NewWarehouseStack(scope constructs.Construct, id string, props *WarehouseStackProps) *WarehouseStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	notBuiltYet(stack)
	return &WarehouseStack{Stack: stack}
}
