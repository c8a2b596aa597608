// Package finalqueue is a queue where messages that could not be delivered
// end up, for an operator to inspect and replay within 14 days. It is a
// final destination: no other queue may use it as its dead-letter queue,
// and it has none itself (there is nothing to do with a message it cannot
// hold).
//
// It uses SQS-managed encryption: the pipeline's such queues hold pointers
// and metadata (stream shard and sequence numbers, EventBridge events about
// completion files), never order data. A customer managed key would have to
// come from the storage stack as a cross-stack import, which the Control
// Tower check CT.SQS.PR.2 cannot read, and every sender would need a grant
// on it.
package finalqueue

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
)

// retentionDays is how long a message waits for an operator.
const retentionDays = 14

// New defines the queue; destinationOf says, for the cdk-nag record, what
// ends up in it.
func New(scope constructs.Construct, id, destinationOf string) awssqs.Queue {
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(retentionDays)),
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{
			RedrivePermission: awssqs.RedrivePermission_DENY_ALL,
		},
	})
	nag.Suppress(q, nag.Suppression("AwsSolutions-SQS3", "This queue is itself the final destination of "+destinationOf+"; its messages are kept 14 days for an operator to replay, a second dead-letter queue would add nothing."))
	return q
}
