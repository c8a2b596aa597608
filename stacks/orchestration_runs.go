package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
)

// manifestPrefix in the staging bucket holds one object per workflow run:
// the runs its landing audit counted, which every later step counts too.
const manifestPrefix = "manifests/"

// landingEventsMaxReceives is how many landing audits may read an event
// without deleting it (each failed before writing its counts).
const landingEventsMaxReceives = 50

// landingEventsRuleID is the construct id of the rule feeding the landing
// events queue (it has no physical name: nothing outside refers to it).
const landingEventsRuleID = "LandingEventsRule"

// runInputs are what the audit and load jobs share to count the same runs.
type runInputs struct {
	// events receives the landing bucket's Object Created events under
	// orders/; the landing audit drains it after writing its counts.
	events awssqs.Queue
}

// newLandingEvents routes the landing objects' Object Created events (the
// bucket sends every event to EventBridge) to a queue only the landing
// audit reads: it learns the new objects, and so their runs and partitions,
// without listing the landing area. SQS-managed encryption: the messages
// are object keys, no order data.
func newLandingEvents(stack awscdk.Stack, in orchestrationInputs) runInputs {
	q := awssqs.NewQueue(stack, jsii.String("LandingEvents"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		// Longer than the landing audit holds a message before it deletes it.
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(float64(in.cfg.JobTimeoutMinutes + 5))),
		// A message read by this many landing audits that all failed before
		// deleting it is set aside for an operator (its objects are then
		// counted only when their run is next counted for another reason).
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           newLandingEventsDeadLetters(stack),
			MaxReceiveCount: jsii.Number(landingEventsMaxReceives),
		},
	})
	r := awsevents.NewRule(stack, jsii.String(landingEventsRuleID), &awsevents.RuleProps{
		Description:  jsii.String("Landing objects created under orders/, for the landing audit"),
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3")},
	})
	setEventPattern(r, map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{in.landing.BucketName()}},
			"object": map[string]any{"key": []any{map[string]any{"prefix": LandingOrdersPrefix}}},
		},
	})
	r.AddTarget(awseventstargets.NewSqsQueue(q, nil))
	return runInputs{events: q}
}

// newLandingEventsDeadLetters holds the landing events that many audits read
// without deleting. Unlike the pipeline's final queues it is a redrive
// dead-letter queue, so it must allow redrive (naming the source queue
// would be a circular reference, so it allows the account's queues).
func newLandingEventsDeadLetters(stack awscdk.Stack) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("LandingEventsDeadLetters"), &awssqs.QueueProps{
		Encryption:         awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:         jsii.Bool(true),
		RetentionPeriod:    awscdk.Duration_Days(jsii.Number(14)),
		RedriveAllowPolicy: &awssqs.RedriveAllowPolicy{RedrivePermission: awssqs.RedrivePermission_ALLOW_ALL},
	})
}

// grantLandingRunSelection lets the landing audit choose the runs: read the
// run-state table and mark closed runs counted, drain the events queue,
// register the new partitions and write the manifest.
func grantLandingRunSelection(job *gluejob.Job, in orchestrationInputs, runs runInputs) {
	in.runState.Grant(job.Role, jsii.String("dynamodb:GetItem"), jsii.String("dynamodb:UpdateItem"))
	runs.events.GrantConsumeMessages(job.Role)
	allow(job.Role, append(catalogReadActions, "glue:BatchCreatePartition"),
		catalogResources(awscdk.Stack_Of(job.Role), in.names.Database, in.names.LandingTable)...)
	grantPrefixWrite(job.Role, in.staging, manifestPrefix)
	grantPrefixRead(job.Role, in.staging, manifestPrefix)
}

// grantManifestRead lets a later step read the workflow run's manifest.
func grantManifestRead(role awsiam.IRole, in orchestrationInputs) {
	grantPrefixRead(role, in.staging, manifestPrefix)
}

func (in orchestrationInputs) manifestPath() string {
	return "s3://" + *in.staging.BucketName() + "/" + manifestPrefix
}
