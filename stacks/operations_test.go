package stacks

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

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
	// Alarms of this account only, in the topic's and the key's policy.
	alarms := assertions.Match_ObjectLike(&map[string]any{
		"Sid":       "AllowAccountAlarms",
		"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
			"ArnLike": map[string]any{"aws:SourceArn": map[string]any{"Fn::Join": []any{"", []any{
				"arn:", map[string]any{"Ref": "AWS::Partition"}, ":cloudwatch:", map[string]any{"Ref": "AWS::Region"}, ":",
				map[string]any{"Ref": "AWS::AccountId"}, ":alarm:*"}}}},
		},
	})
	hasResource(t, tmpl, "AWS::KMS::Key", map[string]any{"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{alarms})}})
	hasResource(t, tmpl, "AWS::SNS::TopicPolicy", map[string]any{"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{alarms})}})
	withEmail := templateOf(t, newPipeline(t, map[string]any{"operationsEmails": "oncall@example.com"}).Operations.Stack)
	hasResource(t, withEmail, "AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "oncall@example.com"})
}

func TestDashboardExists(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Operations.Stack)
	hasResource(t, tmpl, "AWS::CloudWatch::Dashboard", map[string]any{"DashboardName": "orders-pipeline-dev"})
}

// Every alarm: what it watches, when it fires, and that it notifies the
// operations topic. Thresholds follow the config.
func TestEveryAlarmWatchesItsMetricAndNotifiesOperations(t *testing.T) {
	want := map[string]struct {
		namespace, metric, comparison string
		threshold                     float64
	}{
		"StreamWriteThrottles":               {"AWS/Kinesis", "WriteProvisionedThroughputExceeded", "GreaterThanThreshold", 0},
		"StreamIteratorAge":                  {"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "GreaterThanThreshold", 900000},
		"FirehoseFreshness":                  {"AWS/Firehose", "DeliveryToS3.DataFreshness", "GreaterThanThreshold", 1800},
		"FirehoseFailedConversions":          {"AWS/Firehose", "FailedConversion.Records", "GreaterThanThreshold", 0},
		"FirehoseTransformerInvocations":     {"AWS/Firehose", "ExecuteProcessing.Success", "LessThanThreshold", 1},
		"TransformerRejectedRecords":         {"OrdersPipeline", "TransformerRejectedRecords", "GreaterThanThreshold", 0},
		"TransformerErrors":                  {"AWS/Lambda", "Errors", "GreaterThanThreshold", 0},
		"TransformerThrottles":               {"AWS/Lambda", "Throttles", "GreaterThanThreshold", 0},
		"RunRotatorErrors":                   {"AWS/Lambda", "Errors", "GreaterThanThreshold", 0},
		"RunRotatorThrottles":                {"AWS/Lambda", "Throttles", "GreaterThanThreshold", 0},
		"AuditScannerErrors":                 {"AWS/Lambda", "Errors", "GreaterThanThreshold", 0},
		"AuditScannerThrottles":              {"AWS/Lambda", "Throttles", "GreaterThanThreshold", 0},
		"AuditScannerOnFailureMessages":      {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0},
		"WorkflowTriggerDeadLettersMessages": {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0},
		// 80 % of 8 RPU-hours a day, in RPU-seconds.
		"RedshiftUsage": {"AWS/Redshift-Serverless", "ComputeSeconds", "GreaterThanThreshold", 23040},
	}
	ops := defaultPipeline(t).Operations
	alarms := resources(t, templateOf(t, ops.Stack), "AWS::CloudWatch::Alarm")
	if len(alarms) != len(want) {
		t.Errorf("%d alarms, want %d", len(alarms), len(want))
	}
	topic := *ops.Stack.GetLogicalId(ops.Topic.Node().DefaultChild().(awscdk.CfnElement))
	for id, w := range want {
		var found map[string]any
		for logicalID, a := range alarms {
			if strings.HasPrefix(logicalID, id) && len(logicalID) == len(id)+8 {
				found = a["Properties"].(map[string]any)
			}
		}
		if found == nil {
			t.Errorf("no alarm %s", id)
			continue
		}
		if found["Namespace"] != w.namespace || found["MetricName"] != w.metric || found["ComparisonOperator"] != w.comparison || found["Threshold"] != w.threshold {
			t.Errorf("alarm %s watches %v/%v %v %v, want %s/%s %s %v", id, found["Namespace"], found["MetricName"], found["ComparisonOperator"], found["Threshold"], w.namespace, w.metric, w.comparison, w.threshold)
		}
		for _, key := range []string{"AlarmActions", "OKActions"} {
			actions, _ := json.Marshal(found[key])
			if string(actions) != `[{"Ref":"`+topic+`"}]` {
				t.Errorf("alarm %s %s = %s, want the operations topic", id, key, actions)
			}
		}
	}
}

func TestAlarmThresholdsFollowTheConfig(t *testing.T) {
	p := newPipeline(t, map[string]any{"alarmFreshnessSeconds": "600", "alarmIteratorAgeSeconds": "120",
		"alarmRedshiftUsagePercent": "50", "redshiftDailyUsageLimitRpuHours": "4"})
	tmpl := templateOf(t, p.Operations.Stack)
	hasResource(t, tmpl, "AWS::CloudWatch::Alarm", map[string]any{"MetricName": "DeliveryToS3.DataFreshness", "Threshold": 600})
	hasResource(t, tmpl, "AWS::CloudWatch::Alarm", map[string]any{"MetricName": "GetRecords.IteratorAgeMilliseconds", "Threshold": 120000})
	hasResource(t, tmpl, "AWS::CloudWatch::Alarm", map[string]any{"MetricName": "ComputeSeconds", "Threshold": 7200})
}

// The rejected-records metric comes from the transformer's own log line.
func TestTransformerRejectionsAreCountedFromItsLog(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Operations.Stack)
	hasResource(t, tmpl, "AWS::Logs::MetricFilter", map[string]any{
		"FilterPattern": `{ $.msg = "transformed" && $.rejected > 0 }`,
		"MetricTransformations": []any{map[string]any{
			"MetricNamespace": "OrdersPipeline", "MetricName": "TransformerRejectedRecords", "MetricValue": "$.rejected", "Unit": "Count",
		}},
	})
}

// An existing warehouse is not this deployment's to watch.
func TestNoRedshiftUsageAlarmForAnExistingWarehouse(t *testing.T) {
	p := newPipeline(t, map[string]any{"warehouseMode": "existing-serverless", "existingWorkgroupName": "analytics"})
	for id := range resources(t, templateOf(t, p.Operations.Stack), "AWS::CloudWatch::Alarm") {
		if strings.HasPrefix(id, "RedshiftUsage") {
			t.Fatalf("alarm %s for a warehouse this stack does not own", id)
		}
	}
}
