package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
)

// scannerTimeoutSeconds bounds one batch: a few DynamoDB calls and one
// publish per record. The scanner's pending claims go stale after it, so it
// is also the function's CLAIM_TIMEOUT_SECONDS.
const scannerTimeoutSeconds = 60

type auditScannerProps struct {
	Storage          *StorageStack
	Success, Failure awssns.ITopic
	OnFailure        awssqs.IQueue
}

// newScannerFailureQueue receives the metadata (shard, sequence numbers) of
// stream batches the scanner gave up on, so they can be found and replayed.
func newScannerFailureQueue(stack awscdk.Stack) awssqs.Queue {
	return newFinalQueue(stack, "ScannerOnFailure", "the audit stream mapping's failed batches")
}

// newAuditScanner defines AuditTableScannerFn on the audit table's stream.
func newAuditScanner(stack awscdk.Stack, cfg config.Config, props auditScannerProps) awslambda.IFunction {
	table := props.Storage.AuditTable
	fn := gofunction.New(stack, "Scanner", gofunction.Props{
		Package:      "lambdas/auditscanner",
		FunctionName: cfg.Names().AuditScannerFunction,
		Description:  "Compares each staging / Redshift count in the audit table with the landing count of its run id and notifies SUCCESS or FAILURE",
		Timeout:      awscdk.Duration_Seconds(jsii.Number(scannerTimeoutSeconds)),
		Environment: map[string]string{
			"AUDIT_TABLE_NAME":      *table.TableName(),
			"SUCCESS_TOPIC_ARN":     *props.Success.TopicArn(),
			"FAILURE_TOPIC_ARN":     *props.Failure.TopicArn(),
			"CLAIM_TIMEOUT_SECONDS": strconv.Itoa(scannerTimeoutSeconds),
		},
		LogGroupName: logGroupName(cfg, lambdaLogs, "audit-scanner"),
		LogKey:       props.Storage.DataKey,
	})
	grantScannerTableAccess(fn.Role, table.TableArn(), props.Storage.DataKey)
	props.Success.GrantPublish(fn.Role)
	if props.Failure != props.Success {
		props.Failure.GrantPublish(fn.Role)
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
		OnFailure:               awslambdaeventsources.NewSqsDlq(props.OnFailure),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	suppress(fn.Role,
		rule("AwsSolutions-IAM5", "dynamodb:ListStreams has no resource-level permissions, so the stream mapping's grant needs Resource *; "+
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
