package stacks

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestGlueFailuresNotifyTheOperationsTopic(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Operations.Stack)
	hasResource(t, tmpl, "AWS::Events::Rule", map[string]any{
		"EventPattern": map[string]any{
			"source":      []any{"aws.glue"},
			"detail-type": []any{"Glue Job State Change"},
			"detail": map[string]any{
				"jobName": []any{"orders_landing_audit_load", "orders_landing_to_staging", "orders_staging_audit_load",
					"orders_s3_staging_to_redshift_staging", "orders_redshift_staging_audit_load",
					"orders_redshift_staging_to_redshift_final", "orders_redshift_final_audit_load"},
				"state": []any{"FAILED", "TIMEOUT", "STOPPED", "ERROR"},
			},
		},
		"Targets": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Arn":              map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Topic"))},
			"InputTransformer": assertions.Match_ObjectLike(&map[string]any{"InputTemplate": assertions.Match_StringLikeRegexp(jsii.String("Glue job <detail-jobName> run <detail-jobRunId> ended <detail-state>"))}),
		})}),
	})
	hasResource(t, tmpl, "AWS::Events::Rule", map[string]any{
		"EventPattern": map[string]any{
			"detail-type": []any{"Glue Crawler State Change"},
			"detail": map[string]any{
				"crawlerName": []any{"orders-landing-area-crawler", "orders-staging-area-crawler"},
				"state":       []any{"Failed"},
			},
		},
	})
}

func TestOperationsTopicIsEncryptedAndSubscribedFromConfig(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Operations.Stack)
	hasResource(t, tmpl, "AWS::SNS::Topic", map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
	resourceCount(t, tmpl, "AWS::SNS::Subscription", 0)
	hasResource(t, tmpl, "AWS::KMS::Key", map[string]any{
		"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{"Service": assertions.Match_ArrayWith(&[]any{"cloudwatch.amazonaws.com"})}}),
		})},
	})
	withEmail := templateOf(t, newPipeline(t, map[string]any{"operationsEmails": "oncall@example.com"}).Operations.Stack)
	hasResource(t, withEmail, "AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "oncall@example.com"})
}

func TestDashboardExists(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Operations.Stack)
	hasResource(t, tmpl, "AWS::CloudWatch::Dashboard", map[string]any{"DashboardName": "orders-pipeline-dev"})
}
