package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// newFinalQueue is a queue where messages that could not be delivered end
// up, for an operator to inspect and replay within 14 days. It is a final
// destination: no other queue may use it as its dead-letter queue, and it
// has none itself (there is nothing to do with a message it cannot hold).
//
// It uses SQS-managed encryption: its messages are pointers and metadata
// (stream shard and sequence numbers, EventBridge events about completion
// files), never order data. A customer managed key would have to come from
// the Storage stack as a cross-stack import, which the Control Tower check
// CT.SQS.PR.2 cannot read, and every sender would need a grant on it.
func newFinalQueue(stack awscdk.Stack, id, destinationOf string) awssqs.Queue {
	q := awssqs.NewQueue(stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{
			RedrivePermission: awssqs.RedrivePermission_DENY_ALL,
		},
	})
	suppress(q, rule("AwsSolutions-SQS3", "This queue is itself the final destination of "+destinationOf+"; its messages are kept 14 days for an operator to replay, a second dead-letter queue would add nothing."))
	return q
}
