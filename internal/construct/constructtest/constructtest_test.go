package constructtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// recorder keeps the failures reported to it instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// A Checked stack is checked, and NoFindings reports the findings ours
// claims and no other, or every test that expects none proves nothing.
func TestNoFindingsReportsTheConstructsFindings(t *testing.T) {
	stack := Checked("Insecure", nil)
	awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AdministratorAccess"))},
	})
	every := &recorder{TB: t}
	NoFindings(every, stack, nil)
	if got := strings.Join(every.errors, "\n"); !strings.Contains(got, "AwsSolutions-IAM4") {
		t.Errorf("no IAM4 failure for a managed policy: %q", got)
	}
	others := &recorder{TB: t}
	NoFindings(others, stack, func(f string) bool { return !strings.Contains(f, "/Role") })
	if len(others.errors) > 0 {
		t.Errorf("findings ours did not claim were reported: %q", others.errors)
	}
}
