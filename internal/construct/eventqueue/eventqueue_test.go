package eventqueue

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/constructtest"
)

func synth(t *testing.T) (awscdk.Stack, assertions.Template) {
	t.Helper()
	stack := constructtest.Checked("Events", nil)
	q := New(stack, "CrawlerEvents", Props{MaxReceives: 7, VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(9)), RemovalPolicy: awscdk.RemovalPolicy_RETAIN})
	bucket := awss3.NewBucket(stack, jsii.String("Area"), &awss3.BucketProps{BucketName: jsii.String("area-bucket"), EnforceSSL: jsii.Bool(true)})
	q.ReceiveNotifications(bucket, jsii.String("area-bucket"), "orders/")
	role := awsiam.NewRole(stack, jsii.String("Crawler"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	q.GrantCrawler(role)
	return stack, assertions.Template_FromStack(stack, nil)
}

func TestAMessageReceivedTooOftenGoesToTheDeadLetterQueue(t *testing.T) {
	_, tmpl := synth(t)
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"SqsManagedSseEnabled":   true,
		"MessageRetentionPeriod": 14 * 24 * 3600,
		"VisibilityTimeout":      540,
		"RedrivePolicy": map[string]any{
			"deadLetterTargetArn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^CrawlerEventsDeadLetters")), "Arn"}},
			"maxReceiveCount":     7,
		},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"SqsManagedSseEnabled": true,
		"RedriveAllowPolicy":   map[string]any{"redrivePermission": "allowAll"},
		"RedrivePolicy":        assertions.Match_Absent(),
	})
	tmpl.AllResources(jsii.String("AWS::SQS::Queue"), map[string]any{"DeletionPolicy": "Retain"})
}

func TestTheBucketNotifiesTheQueueOfItsObjectsUnderThePrefixOnly(t *testing.T) {
	_, tmpl := synth(t)
	filter := map[string]any{"S3Key": map[string]any{"Rules": []any{map[string]any{"Name": "prefix", "Value": "orders/"}}}}
	queue := map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^CrawlerEventsQueue")), "Arn"}}
	tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{"NotificationConfiguration": map[string]any{
		"QueueConfigurations": []any{
			map[string]any{"Event": "s3:ObjectCreated:*", "Queue": queue, "Filter": filter},
			map[string]any{"Event": "s3:ObjectRemoved:*", "Queue": queue, "Filter": filter},
		},
	}})
	// S3 checks the destination when the notification is put: the policy first.
	tmpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
		"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^CrawlerEventsQueuePolicy"))}),
	})
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect": "Allow", "Action": "sqs:SendMessage", "Principal": map[string]any{"Service": "s3.amazonaws.com"},
			"Condition": map[string]any{
				"ArnEquals":    map[string]any{"aws:SourceArn": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":s3:::area-bucket"}}}},
				"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
			},
		})})},
	})
}

func TestTheCrawlerMayConsumeBothQueuesAndNothingElse(t *testing.T) {
	_, tmpl := synth(t)
	policies := tmpl.FindResources(jsii.String("AWS::IAM::Policy"), nil)
	if len(*policies) != 1 {
		t.Fatalf("%d role policies, want 1", len(*policies))
	}
	for _, p := range *policies {
		doc, _ := json.Marshal((*p)["Properties"].(map[string]any)["PolicyDocument"])
		for _, want := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "CrawlerEventsQueue", "CrawlerEventsDeadLetters"} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("the crawler's policy lacks %s: %s", want, doc)
			}
		}
		if strings.Contains(string(doc), `"Resource":"*"`) {
			t.Errorf("the crawler's policy names every resource: %s", doc)
		}
	}
}

func TestQueuesHaveNoNagFindings(t *testing.T) {
	stack, _ := synth(t)
	constructtest.NoFindings(t, stack, func(f string) bool {
		return !strings.Contains(f, "/Area") // the test's plain bucket, not part of the construct
	})
}
