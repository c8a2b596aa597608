package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// GrantDataAPI lets role run SQL on the warehouse through the Redshift Data
// API, the way every Glue job that touches Redshift does: submit statements
// to this workgroup or cluster only, follow and cancel its own statements,
// and authenticate with the target's secret (or, for an existing workgroup
// without one, with temporary credentials of its own IAM identity).
func (t WarehouseTarget) GrantDataAPI(role awsiam.IRole) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"),
		Resources: &[]*string{t.ResourceArn},
	}))
	if strings.HasSuffix(*t.ResourceArn, ":workgroup/*") {
		suppress(role, rule("AwsSolutions-IAM5",
			"An existing workgroup's ARN ends in an id Redshift generated, which the configuration (existingWorkgroupName) does not carry; statements stay limited to workgroups of this account and region.",
			"regex:/^Resource::arn:<AWS::Partition>:redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup\\/\\*$/"))
	}
	// These take a statement id, not a resource; the condition keeps the
	// role to the statements it submitted itself.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
	}))
	suppress(role, rule("AwsSolutions-IAM5",
		"The Redshift Data API's statement actions (DescribeStatement, GetStatementResult, CancelStatement) have no resource-level permissions; a condition limits them to the role's own statements.",
		"Resource::*"))
	if t.Secret != nil {
		// Granted on the role's side only: a grant through the key's policy
		// would make the warehouse stack refer back to the job's stack.
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
			Resources: &[]*string{t.Secret.SecretArn()},
		}))
		if key := t.Secret.EncryptionKey(); key != nil {
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + *awscdk.Stack_Of(role).Region() + ".amazonaws.com"}},
			}))
		}
		return
	}
	if t.WorkgroupName != nil {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("redshift-serverless:GetCredentials"),
			Resources: &[]*string{t.ResourceArn},
		}))
	}
}
