// Package constructtest gives the constructs' tests a stack of their own
// under the project's cdk-nag checks, and the check that a construct
// raises no finding.
package constructtest

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
)

// Checked is a stack named name in an app of its own, made with props (nil
// for none), that has cdk-nag's checks on it as every app of the project
// does (nag.AddChecks): the aspects run on whatever the test adds to the
// stack when it is synthesized.
func Checked(name string, props *awscdk.AppProps) awscdk.Stack {
	app := awscdk.NewApp(props)
	nag.AddChecks(app)
	return awscdk.NewStack(app, jsii.String(name), nil)
}

// NoFindings fails t for each of stack's unsuppressed cdk-nag findings
// that ours reports as the construct's under test (the test's own
// scaffolding may raise findings); a nil ours takes every finding as the
// construct's. stack's app must have the checks (Checked).
func NoFindings(t testing.TB, stack awscdk.Stack, ours func(finding string) bool) {
	t.Helper()
	for _, f := range nag.Findings(stack) {
		if ours == nil || ours(f) {
			t.Errorf("cdk-nag: %s", f)
		}
	}
}
