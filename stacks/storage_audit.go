package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// newAuditTable defines `orders-audit-table`: one item per run id and
// layer (internal/audit). Its construct ID "AuditTable" is stateful: never
// rename it.
//
// It is encrypted with the pipeline's DataKey rather than an AWS-managed
// key: the counts describe the same data the buckets hold, the key rotates
// and its use shows in CloudTrail, and the roles that read the table
// (scanner, audit jobs) are granted that one key instead of a second one.
// The stream carries new images only: the scanner compares the count just
// written and never needs the previous one.
func newAuditTable(scope awscdk.Stack, cfg config.Config, key awskms.IKey) awsdynamodb.Table {
	return awsdynamodb.NewTable(scope, jsii.String("AuditTable"), &awsdynamodb.TableProps{
		TableName:    jsii.String(cfg.Names().AuditTable),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(audit.RunIDKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(audit.LayerKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: key,
		Stream:        awsdynamodb.StreamViewType_NEW_IMAGE,
		RemovalPolicy: removalPolicy(cfg),
		// A retained table is also protected from a delete in the console.
		DeletionProtection: jsii.Bool(cfg.RemovalPolicy != "destroy"),
	})
}
