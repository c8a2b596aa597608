package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
)

// addRunState defines the table holding the open run id (one item; see
// internal/runstate). It holds run and event ids only, no order data, so
// the AWS managed key suffices and no function needs a grant on DataKey.
func (s *StorageStack) addRunState(cfg config.Config) {
	s.RunState = awsdynamodb.NewTable(s.Stack, jsii.String("RunState"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(runstate.PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: removalPolicy(cfg),
	})
}
