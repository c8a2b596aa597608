// Package usagelimit caps a Redshift Serverless workgroup's compute per
// period. CloudFormation has no resource for Redshift Serverless usage
// limits, so an AWS SDK custom resource creates, updates and deletes it.
package usagelimit

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the limit.
type Props struct {
	// WorkgroupArn is the workgroup the limit applies to.
	WorkgroupArn *string
	// RpuHours is the compute allowed per Period.
	RpuHours int
	// Period is daily, weekly or monthly.
	Period string
	// BreachAction is log, emit-metric or deactivate (refuse queries until
	// the period ends).
	BreachAction string
	// Logs receives the custom resource function's logs.
	Logs awslogs.ILogGroup
}

// Limit is the usage limit and the custom resource that manages it.
type Limit struct {
	Resource customresources.AwsCustomResource
	// Role is what the custom resource's function runs as.
	Role awsiam.Role
}

// New defines the limit.
func New(scope constructs.Construct, id string, props Props) Limit {
	c := constructs.NewConstruct(scope, jsii.String(id))
	stack := awscdk.Stack_Of(c)
	settings := map[string]any{
		"amount":       props.RpuHours,
		"breachAction": props.BreachAction,
	}
	create := map[string]any{
		"resourceArn": props.WorkgroupArn,
		"usageType":   "serverless-compute",
		"period":      props.Period,
	}
	for k, v := range settings {
		create[k] = v
	}
	update := map[string]any{"usageLimitId": customresources.NewPhysicalResourceIdReference()}
	for k, v := range settings {
		update[k] = v
	}
	id2 := customresources.PhysicalResourceId_FromResponse(jsii.String("usageLimit.usageLimitId"))
	// Limits get generated ids, so updating and deleting one can only be
	// scoped to this account's and region's limits.
	limits := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("redshift-serverless"),
		Resource:     jsii.String("usagelimit"),
		ResourceName: jsii.String("*"),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
	// An own role instead of the provider's default one, which carries the
	// broad AWSLambdaBasicExecutionRole managed policy.
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Manages the Redshift Serverless usage limit"),
	})
	props.Logs.GrantWrite(role)
	r := customresources.NewAwsCustomResource(c, jsii.String("Resource"), &customresources.AwsCustomResourceProps{
		ResourceType: jsii.String("Custom::RedshiftServerlessUsageLimit"),
		OnCreate: &customresources.AwsSdkCall{
			Service:            jsii.String("RedshiftServerless"),
			Action:             jsii.String("createUsageLimit"),
			Parameters:         create,
			PhysicalResourceId: id2,
		},
		OnUpdate: &customresources.AwsSdkCall{
			Service:            jsii.String("RedshiftServerless"),
			Action:             jsii.String("updateUsageLimit"),
			Parameters:         update,
			PhysicalResourceId: id2,
		},
		OnDelete: &customresources.AwsSdkCall{
			Service:                  jsii.String("RedshiftServerless"),
			Action:                   jsii.String("deleteUsageLimit"),
			Parameters:               map[string]any{"usageLimitId": customresources.NewPhysicalResourceIdReference()},
			IgnoreErrorCodesMatching: jsii.String("ResourceNotFoundException"),
		},
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("redshift-serverless:CreateUsageLimit"),
				Resources: &[]*string{props.WorkgroupArn},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("redshift-serverless:UpdateUsageLimit", "redshift-serverless:DeleteUsageLimit"),
				Resources: &[]*string{limits},
			}),
		}),
		Role:                role,
		LogGroup:            props.Logs,
		InstallLatestAwsSdk: jsii.Bool(false),
	})
	return Limit{Resource: r, Role: role}
}
