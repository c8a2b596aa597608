// Package servicekey makes every customer-managed KMS key of the pipeline:
// rotated yearly, and with a key policy that lets only AWS services create
// grants on them (Control Tower control CT.KMS.PR.3). Services such as
// Redshift create their grants on the caller's behalf with
// kms:GrantIsForAWSResource set, so they keep working; a principal cannot
// hand out a grant of its own.
package servicekey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure a key.
type Props struct {
	Alias       string
	Description string
	// RemovalPolicy is what happens to the key with its stack: DESTROY
	// schedules its deletion (throwaway environments); empty retains it.
	RemovalPolicy awscdk.RemovalPolicy
}

// New defines the key.
func New(scope constructs.Construct, id string, props Props) awskms.Key {
	removal := props.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	kp := &awskms.KeyProps{
		Description:       jsii.String(props.Description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	}
	if props.Alias != "" {
		kp.Alias = jsii.String(props.Alias)
	}
	key := awskms.NewKey(scope, jsii.String(id), kp)
	key.AddToResourcePolicy(GrantsOnlyForAWSServices(), nil)
	return key
}

// GrantsOnlyForAWSServices is the key-policy statement that denies
// kms:CreateGrant unless an AWS service asks for it.
func GrantsOnlyForAWSServices() awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("GrantsOnlyForAWSServices"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"BoolIfExists": map[string]any{
				"kms:GrantIsForAWSResource": "false",
				"aws:PrincipalIsAWSService": "false",
			},
		},
	})
}
