package finalqueue

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/constructtest"
)

func synth(t *testing.T) (awscdk.Stack, assertions.Template) {
	t.Helper()
	stack := constructtest.Checked("Queues", nil)
	New(stack, "DeadLetters", "the test's undeliverable events")
	return stack, assertions.Template_FromStack(stack, nil)
}

func TestQueueIsAFinalEncryptedTLSOnlyDestination(t *testing.T) {
	_, tmpl := synth(t)
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"SqsManagedSseEnabled":   true,
		"MessageRetentionPeriod": 14 * 24 * 3600,
		"RedriveAllowPolicy":     map[string]any{"redrivePermission": "denyAll"},
		"RedrivePolicy":          assertions.Match_Absent(),
	})
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})})},
	})
}

func TestQueueHasNoNagFindings(t *testing.T) {
	stack, _ := synth(t)
	constructtest.NoFindings(t, stack, nil)
}
