package servicekey

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/constructtest"
)

func TestKeyRotatesAndLetsOnlyAWSServicesCreateGrants(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Keys"), nil)
	New(stack, "Key", Props{Alias: "alias/test", Description: "test"})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
		"EnableKeyRotation": true,
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
			"Sid": "GrantsOnlyForAWSServices", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
			"Action": "kms:CreateGrant", "Resource": "*",
			"Condition": map[string]any{"BoolIfExists": map[string]any{"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
		}})},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]any{"AliasName": "alias/test"})
}

func TestKeyFollowsTheRemovalPolicy(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Keys"), nil)
	New(stack, "Kept", Props{Description: "retained by default"})
	New(stack, "Gone", Props{Description: "deleted with the stack", RemovalPolicy: awscdk.RemovalPolicy_DESTROY})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResource(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Retain"})
	tmpl.HasResource(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Delete"})
	tmpl.ResourceCountIs(jsii.String("AWS::KMS::Alias"), jsii.Number(0))
}

func TestKeyHasNoNagFindings(t *testing.T) {
	stack := constructtest.Checked("Keys", nil)
	New(stack, "Key", Props{Description: "test"})
	constructtest.NoFindings(t, stack, nil)
}
