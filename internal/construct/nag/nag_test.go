package nag

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

func TestSuppressionsAreRecordedWithTheirFindings(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Nag"), nil)
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	Suppress(role, Suppression("AwsSolutions-IAM5", "A test role that only exists to carry suppressions.",
		"Resource::*", `regex:/^Resource::.*\/orders\/\*$/`))
	meta, _ := json.Marshal(assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::IAM::Role"), nil))
	for _, want := range []string{`"id":"AwsSolutions-IAM5"`, `"Resource::*"`, `{"regex":"/^Resource::.*\\/orders\\/\\*$/"}`} {
		if !strings.Contains(string(meta), want) {
			t.Errorf("metadata lacks %s: %s", want, meta)
		}
	}
}

func TestAReasonMustSayWhy(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "AwsSolutions-S1") {
			t.Errorf("a short reason was accepted: %v", r)
		}
	}()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Nag"), nil)
	Suppress(stack, Suppression("AwsSolutions-S1", "because"))
}

// Findings must catch a finding, or every test that expects none proves
// nothing.
func TestFindingsCatchAnInsecureResource(t *testing.T) {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Insecure"), nil)
	awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AdministratorAccess"))},
	})
	AddChecks(app)
	if got := strings.Join(Findings(stack), "\n"); !strings.Contains(got, "AwsSolutions-IAM4") {
		t.Errorf("no IAM4 finding for a managed policy: %q", got)
	}
}
