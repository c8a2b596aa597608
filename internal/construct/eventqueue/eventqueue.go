// Package eventqueue is a queue of S3 object events for exactly one
// consumer (a crawler in event mode, the landing audit), with the redrive
// dead-letter queue that takes a message its consumer received many times
// without deleting.
//
// Both queues use SQS-managed encryption: they hold object keys and sizes,
// never order data, and S3 and EventBridge can send to them without a grant
// on a customer managed key.
package eventqueue

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// retentionDays is SQS's longest retention: a consumer that has not run
// for two weeks (a paused workflow) still finds its events.
const retentionDays = 14

// Props configure the queue.
type Props struct {
	// MaxReceives is how often the consumer may receive a message without
	// deleting it (each time it failed) before it goes to DeadLetters.
	MaxReceives int
	// VisibilityTimeout must be longer than the consumer holds a message
	// before deleting it.
	VisibilityTimeout awscdk.Duration
	// RemovalPolicy applies to both queues.
	RemovalPolicy awscdk.RemovalPolicy
}

// EventQueue is the consumer's queue and its dead-letter queue.
type EventQueue struct {
	Queue       awssqs.Queue
	DeadLetters awssqs.Queue
}

// New defines the two queues.
func New(scope constructs.Construct, id string, props Props) *EventQueue {
	c := constructs.NewConstruct(scope, jsii.String(id))
	// A redrive dead-letter queue must allow redrive; naming its source
	// queue would be a circular reference, so it allows the account's.
	dlq := awssqs.NewQueue(c, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:         awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:         jsii.Bool(true),
		RetentionPeriod:    awscdk.Duration_Days(jsii.Number(retentionDays)),
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{RedrivePermission: awssqs.RedrivePermission_ALLOW_ALL},
		RemovalPolicy:      props.RemovalPolicy,
	})
	q := awssqs.NewQueue(c, jsii.String("Queue"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(retentionDays)),
		VisibilityTimeout: props.VisibilityTimeout,
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(props.MaxReceives))},
		RemovalPolicy:     props.RemovalPolicy,
	})
	return &EventQueue{Queue: q, DeadLetters: dlq}
}

// ReceiveNotifications makes the queue the destination of bucket's Object
// Created and Object Removed notifications under prefix. S3 validates the
// destination when the notification is put, so the bucket waits for the
// queue policy that lets S3 send. The policy names the bucket by name
// (bucketName must not reference the bucket resource: the bucket depends on
// the policy).
func (e *EventQueue) ReceiveNotifications(bucket awss3.Bucket, bucketName *string, prefix string) {
	stack := awscdk.Stack_Of(bucket)
	bucketArn := awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), stack.Partition(), jsii.String(":s3:::"), bucketName})
	allowed := e.Queue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("BucketNotifications"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{e.Queue.QueueArn()},
		Conditions: &map[string]any{
			"ArnEquals":    map[string]any{"aws:SourceArn": bucketArn},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	filter := map[string]any{"S3Key": map[string]any{"Rules": []any{map[string]any{"Name": "prefix", "Value": prefix}}}}
	var configs []any
	for _, event := range []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"} {
		configs = append(configs, map[string]any{"Event": event, "Queue": e.Queue.QueueArn(), "Filter": filter})
	}
	cfn := bucket.Node().DefaultChild().(awss3.CfnBucket)
	cfn.AddPropertyOverride(jsii.String("NotificationConfiguration.QueueConfigurations"), configs)
	bucket.Node().AddDependency(allowed.PolicyDependable)
}

// ConsumeActions are what a consumer that also moves unprocessable messages
// to the dead-letter queue itself (a crawler in event mode) needs on both
// queues, as Glue documents for event-mode crawlers (the batch calls are
// authorized by their single-message actions).
var ConsumeActions = []string{
	"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl",
	"sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:ListDeadLetterSourceQueues",
	"sqs:ListQueueTags", "sqs:PurgeQueue", "sqs:SendMessage",
}

// GrantCrawler lets a crawler in event mode consume the queue and set
// messages aside in the dead-letter queue.
func (e *EventQueue) GrantCrawler(role awsiam.IGrantable) {
	e.Queue.Grant(role, *jsii.Strings(ConsumeActions...)...)
	e.DeadLetters.Grant(role, *jsii.Strings(ConsumeActions...)...)
}
