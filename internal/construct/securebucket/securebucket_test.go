package securebucket

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
)

// One stack with a KMS bucket logging into an S3-managed log bucket, the
// two shapes the pipeline uses.
func synth(t *testing.T) assertions.Template {
	t.Helper()
	// The project's cdk.json turns this flag on: access log delivery is
	// allowed by bucket policy, not by the log-delivery ACL.
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true}})
	stack := awscdk.NewStack(app, jsii.String("Buckets"), nil)
	logs := New(stack, "Logs", Props{AccessLogDestination: true, ExpirationDays: 90})
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	New(stack, "Data", Props{Key: key, AccessLogs: logs, AccessLogsPrefix: "data/", RemovalPolicy: awscdk.RemovalPolicy_DESTROY})
	return assertions.Template_FromStack(stack, nil)
}

func TestEveryBucketSendsEventsToEventBridge(t *testing.T) {
	tmpl := synth(t)
	tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(2))
	tmpl.AllResourcesProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{"EventBridgeEnabled": true}},
		"VersioningConfiguration":   map[string]any{"Status": "Enabled"},
		"PublicAccessBlockConfiguration": map[string]any{
			"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
		},
	})
	// EventBridge is switched on natively, not by the CDK's notifications
	// custom resource and its Lambda.
	tmpl.ResourceCountIs(jsii.String("Custom::S3BucketNotifications"), jsii.Number(0))
}

func TestDataBucketsHaveObjectLockWithoutRetentionAndTheLogBucketNone(t *testing.T) {
	tmpl := synth(t)
	locked := map[string]bool{}
	for id, b := range *tmpl.FindResources(jsii.String("AWS::S3::Bucket"), nil) {
		props := (*b)["Properties"].(map[string]any)
		locked[id] = props["ObjectLockEnabled"] == true
		// No default retention: lifecycle expiry and auto-delete must keep
		// working.
		if _, ok := props["ObjectLockConfiguration"]; ok {
			t.Errorf("%s has an Object Lock default retention", id)
		}
	}
	for id, on := range locked {
		// S3 delivers no access logs to an Object Lock bucket.
		if want := strings.HasPrefix(id, "Data"); on != want {
			t.Errorf("%s: Object Lock %v, want %v", id, on, want)
		}
	}
}

func TestAccessLogDestinationRefusesAKey(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("an SSE-KMS access log destination was accepted")
		}
	}()
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("Buckets"), nil)
	New(stack, "Logs", Props{AccessLogDestination: true, Key: awskms.NewKey(stack, jsii.String("Key"), nil)})
}

func TestDataBucketIsKMSEncryptedAndLogged(t *testing.T) {
	tmpl := synth(t)
	tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"BucketKeyEnabled": true,
			"ServerSideEncryptionByDefault": map[string]any{
				"SSEAlgorithm":   "aws:kms",
				"KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}},
			},
		}}},
		"LoggingConfiguration": map[string]any{
			"DestinationBucketName": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Logs"))},
			"LogFilePrefix":         "data/",
		},
	})
	// The log bucket itself cannot be SSE-KMS (S3 does not deliver access
	// logs to such buckets).
	tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
			"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"},
		}}},
	})
}

func TestEveryBucketIsTLSOnly(t *testing.T) {
	tmpl := synth(t)
	tmpl.ResourceCountIs(jsii.String("AWS::S3::BucketPolicy"), jsii.Number(2))
	tmpl.AllResourcesProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Action":    "s3:*",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}),
			assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Action":    "s3:*",
				"Condition": map[string]any{"NumericLessThan": map[string]any{"s3:TlsVersion": 1.2}},
			}),
		})},
	})
}
