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

// wildcardRole is a role in stack whose policy grants logs:CreateLogStream
// on each of resources, so cdk-nag reports one IAM5 finding per resource.
func wildcardRole(stack awscdk.Stack, resources ...*string) awsiam.Role {
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings("logs:CreateLogStream"), Resources: &resources}))
	return role
}

// logGroups is an ARN of log groups under prefix, as the CDK formats it
// for stack: literal where the stack's environment is known.
func logGroups(stack awscdk.Stack, prefix string) *string {
	return stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ResourceName: jsii.String(prefix + "*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
}

// suppressJobLogs suppresses IAM5 for the /aws-glue/jobs log groups of the
// role's own stack, once as a plain entry and once as a regular expression.
func suppressJobLogs(role awsiam.Role, regex bool) {
	entry := "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws-glue/jobs*"
	if regex {
		entry = `regex:/^Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:\/aws-glue\/jobs\*$/`
	}
	Suppress(role, Suppression("AwsSolutions-IAM5", "Glue names a run's log groups at run time; only the prefix is known.", entry))
}

// A suppression written with <AWS::Partition>, <AWS::Region> and
// <AWS::AccountId> covers the finding in a stack with a known environment,
// which renders them literally, as in an environment-agnostic one, and
// covers nothing more: the same log groups in another region or account,
// or other log groups, are still reported.
func TestSuppressionsMatchInAKnownEnvironment(t *testing.T) {
	for _, regex := range []bool{false, true} {
		for _, env := range []*awscdk.Environment{nil, {Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1")}} {
			app := awscdk.NewApp(nil)
			stack := awscdk.NewStack(app, jsii.String("Env"), &awscdk.StackProps{Env: env})
			role := wildcardRole(stack,
				logGroups(stack, "/aws-glue/jobs"),
				jsii.String("arn:"+*awscdk.Aws_PARTITION()+":logs:"+*awscdk.Aws_REGION()+":"+*awscdk.Aws_ACCOUNT_ID()+":log-group:/aws-glue/jobs*"),
				jsii.String("arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/jobs*"),
				jsii.String("arn:aws:logs:eu-west-1:210987654321:log-group:/aws-glue/jobs*"),
				logGroups(stack, "/aws-glue/crawlers"))
			suppressJobLogs(role, regex)
			AddChecks(app)
			got := strings.Join(Findings(stack), "\n")
			name := "agnostic"
			if env != nil {
				name = "known environment"
			}
			if regex {
				name += ", regex"
			}
			for _, want := range []string{"log-group:/aws-glue/crawlers*]", "arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/jobs*]", "arn:aws:logs:eu-west-1:210987654321:log-group:/aws-glue/jobs*]"} {
				if !strings.Contains(got, want) {
					t.Errorf("%s: no finding for %s:\n%s", name, want, got)
				}
			}
			// The two forms of the stack's own /aws-glue/jobs log groups are suppressed.
			if n := strings.Count(got, "AwsSolutions-IAM5"); n != 3 {
				t.Errorf("%s: %d IAM5 findings, want the 3 above:\n%s", name, n, got)
			}
		}
	}
}

// In an environment-agnostic stack the entries are recorded as written,
// so the templates are what they were before suppressions learnt about
// environments.
func TestAgnosticEntriesAreRecordedAsWritten(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Agnostic"), nil)
	suppressJobLogs(wildcardRole(stack, logGroups(stack, "/aws-glue/jobs")), false)
	meta, _ := json.Marshal(assertions.Template_FromStack(stack, nil).FindResources(jsii.String("AWS::IAM::Role"), nil))
	if want := `"applies_to":["Resource::arn:\u003cAWS::Partition\u003e:logs:\u003cAWS::Region\u003e:\u003cAWS::AccountId\u003e:log-group:/aws-glue/jobs*"]`; !strings.Contains(string(meta), want) {
		t.Errorf("metadata lacks %s: %s", want, meta)
	}
}
