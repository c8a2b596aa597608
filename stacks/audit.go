package stacks

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/finalqueue"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
)

// AuditStackProps configure the audit stack.
type AuditStackProps struct {
	awscdk.StackProps
	Config config.Config
	// DataKey encrypts the topics, the scanner's logs and the audit table.
	DataKey awskms.IKey
	// AuditTable's stream feeds the scanner.
	AuditTable awsdynamodb.ITable
}

// AuditStack holds the audit table scanner and its notification topics.
type AuditStack struct {
	// Stack is kept as a field, not embedded: jsii cannot pass a Go struct
	// that embeds a construct back into the CDK.
	Stack awscdk.Stack
	// Scanner is AuditTableScannerFn.
	Scanner awslambda.IFunction
	// SuccessTopic and FailureTopic receive the reconciliation outcomes
	// (the same topic when singleNotificationTopic is true).
	SuccessTopic, FailureTopic awssns.ITopic
	// OnFailure receives stream batches the scanner could not process.
	OnFailure awssqs.IQueue
}

// NewAuditStack defines the audit table scanner and its notification topics.
func NewAuditStack(scope constructs.Construct, id string, props *AuditStackProps) *AuditStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	s := &AuditStack{Stack: stack}
	s.SuccessTopic, s.FailureTopic = newNotificationTopics(stack, cfg, props.DataKey)
	// The metadata (shard, sequence numbers) of stream batches the scanner
	// gave up on, so they can be found and replayed.
	s.OnFailure = finalqueue.New(stack, "ScannerOnFailure", "the audit stream mapping's failed batches")
	s.Scanner = newAuditScanner(stack, cfg, props, s)
	return s
}

// scannerTimeoutSeconds bounds one batch: a few DynamoDB calls and one
// publish per record. The scanner's pending claims go stale after it, so it
// is also the function's CLAIM_TIMEOUT_SECONDS.
const scannerTimeoutSeconds = 60

// newAuditScanner defines AuditTableScannerFn on the audit table's stream.
func newAuditScanner(stack awscdk.Stack, cfg config.Config, props *AuditStackProps, s *AuditStack) awslambda.IFunction {
	table := props.AuditTable
	fn := gofunction.New(stack, "Scanner", gofunction.Props{
		Package:      "lambdas/auditscanner",
		FunctionName: cfg.Names().AuditScannerFunction,
		Description:  "Compares each staging / Redshift count in the audit table with the landing count of its run id and notifies SUCCESS or FAILURE",
		Timeout:      awscdk.Duration_Seconds(jsii.Number(scannerTimeoutSeconds)),
		Environment: map[string]string{
			reconcile.EnvTable:        *table.TableName(),
			reconcile.EnvSuccessTopic: *s.SuccessTopic.TopicArn(),
			reconcile.EnvFailureTopic: *s.FailureTopic.TopicArn(),
			reconcile.EnvClaimTimeout: strconv.Itoa(scannerTimeoutSeconds),
		},
		LogGroupName: cfg.Names().LogGroup(config.LambdaLogs, "audit-scanner"),
		LogKey:       props.DataKey,
	})
	grantScannerTableAccess(fn.Role, table.TableArn(), props.DataKey)
	s.SuccessTopic.GrantPublish(fn.Role)
	if s.FailureTopic != s.SuccessTopic {
		s.FailureTopic.GrantPublish(fn.Role)
	}

	compared := make([]*string, len(audit.ComparedLayers))
	for i, l := range audit.ComparedLayers {
		compared[i] = jsii.String(string(l))
	}
	fn.Function.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		// From the oldest record: a mapping created or re-enabled later
		// still reconciles what the audit jobs wrote meanwhile.
		StartingPosition: awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:        jsii.Number(100),
		// Only audit-job writes of the compared layers invoke the function:
		// not the landing count (see README, "Audit and notifications"),
		// not the scanner's own notified# items, not removals.
		Filters: &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{
			"eventName": awslambda.FilterRule_Or(jsii.String("INSERT"), jsii.String("MODIFY")),
			"dynamodb": map[string]interface{}{
				"NewImage": map[string]interface{}{
					audit.LayerKey: map[string]interface{}{"S": awslambda.FilterRule_Or(compared...)},
				},
			},
		})},
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(cfg.AuditRetryAttempts)),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(float64(cfg.AuditMaxRecordAgeSeconds))),
		OnFailure:               awslambdaeventsources.NewSqsDlq(s.OnFailure),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	nag.Suppress(fn.Role,
		nag.Suppression("AwsSolutions-IAM5", "dynamodb:ListStreams has no resource-level permissions, so the stream mapping's grant needs Resource *; "+
			"the kms:GenerateDataKey* / kms:ReEncrypt* families are what publishing to the SSE-KMS topics calls and are granted on the one DataKey only.",
			"Resource::*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"),
	)
	return fn.Function
}

// grantScannerTableAccess lets the scanner read audit items and write only
// its own notification attributes. IAM cannot restrict a sort key value
// (dynamodb:LeadingKeys covers the partition key only), so the write is
// limited by attribute instead: UpdateItem may touch only the notified_*
// / notify_* attributes, which keeps every record_count an audit job wrote
// out of the scanner's reach. PutItem and DeleteItem are not granted.
func grantScannerTableAccess(role awsiam.IRole, tableArn *string, key awskms.IKey) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadAuditItems"),
		Actions:   jsii.Strings("dynamodb:GetItem"),
		Resources: &[]*string{tableArn},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnNotificationAttributes"),
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{tableArn},
		Conditions: &map[string]interface{}{
			"ForAllValues:StringEquals": map[string]interface{}{"dynamodb:Attributes": jsii.Strings(audit.NotifiedAttributes...)},
			"StringEqualsIfExists":      map[string]interface{}{"dynamodb:ReturnValues": jsii.Strings("NONE")},
		},
	}))
	// The table is encrypted with the DataKey.
	key.Grant(role, jsii.String("kms:Decrypt"), jsii.String("kms:Encrypt"), jsii.String("kms:GenerateDataKey*"))
}

// newNotificationTopics defines the SUCCESS and FAILURE topics (one topic
// for both when singleNotificationTopic is set) with their email
// subscriptions.
//
// They are encrypted with the DataKey: SNS decrypts for email delivery
// itself, so the key policy needs no SNS statement; only the publisher
// (the scanner's role) needs kms:GenerateDataKey* and kms:Decrypt, which
// the publish grant adds. Topics hold messages only in flight, so the
// stateful key lives in the storage stack and this stack stays disposable.
func newNotificationTopics(stack awscdk.Stack, cfg config.Config, key awskms.IKey) (success, failure awssns.ITopic) {
	topic := func(id, display string) awssns.Topic {
		return awssns.NewTopic(stack, jsii.String(id), &awssns.TopicProps{
			DisplayName: jsii.String(display),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
	}
	if cfg.SingleNotificationTopic {
		t := topic("NotificationTopic", "Orders pipeline audit")
		for _, sub := range singleTopicSubscriptions(cfg) {
			var props *awssnssubscriptions.EmailSubscriptionProps
			if sub.outcome != "" {
				// One topic carries both outcomes: an address on only one
				// list receives only that outcome (message attribute "outcome").
				props = &awssnssubscriptions.EmailSubscriptionProps{FilterPolicy: &map[string]awssns.SubscriptionFilter{
					"outcome": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings(sub.outcome)}),
				}}
			}
			t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(sub.email), props))
		}
		if len(cfg.SuccessEmails)+len(cfg.FailureEmails) == 0 {
			warnUnsubscribed(t, "audit", "successEmails and failureEmails")
		}
		return t, t
	}
	s := topic("SuccessTopic", "Orders pipeline SUCCESS")
	f := topic("FailureTopic", "Orders pipeline FAILURE")
	for _, email := range unique(cfg.SuccessEmails) {
		s.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	for _, email := range unique(cfg.FailureEmails) {
		f.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	if len(cfg.SuccessEmails) == 0 {
		warnUnsubscribed(s, "SUCCESS", "successEmails")
	}
	if len(cfg.FailureEmails) == 0 {
		warnUnsubscribed(f, "FAILURE", "failureEmails")
	}
	return s, f
}

// warnUnsubscribed tells at synth that a topic reaches no one: the
// defaults subscribe nobody, and a deployment would otherwise send its
// notifications into the void without a word.
func warnUnsubscribed(topic awssns.ITopic, what, settings string) {
	awscdk.Annotations_Of(topic).AddWarningV2(jsii.String("orders-pipeline:unsubscribedTopic"), jsii.String(
		"No one receives the "+what+" notifications: the topic has no subscriber. Set "+settings+
			" (e.g. -c "+strings.SplitN(settings, " ", 2)[0]+"=data-team@example.com, or in config/<stage>.json)."), nil)
}

type emailSubscription struct {
	email string
	// outcome filters the messages; empty means every outcome.
	outcome string
}

// singleTopicSubscriptions merges the two lists: SNS keeps one
// subscription per topic and address, so an address on both lists gets one
// subscription without a filter.
func singleTopicSubscriptions(cfg config.Config) []emailSubscription {
	failure := map[string]bool{}
	for _, e := range cfg.FailureEmails {
		failure[e] = true
	}
	var subs []emailSubscription
	seen := map[string]bool{}
	for _, e := range cfg.SuccessEmails {
		if seen[e] {
			continue
		}
		seen[e] = true
		if failure[e] {
			subs = append(subs, emailSubscription{email: e})
		} else {
			subs = append(subs, emailSubscription{email: e, outcome: "SUCCESS"})
		}
	}
	for _, e := range cfg.FailureEmails {
		if !seen[e] {
			seen[e] = true
			subs = append(subs, emailSubscription{email: e, outcome: "FAILURE"})
		}
	}
	return subs
}

// unique keeps the first of repeated addresses: a topic cannot hold two
// subscriptions for one address.
func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range list {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}
