package stacks

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestAuditStreamMappingDeliveryGuarantees(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Audit.Stack)
	mappings := resources(t, tmpl, "AWS::Lambda::EventSourceMapping")
	if len(mappings) != 1 {
		t.Fatalf("%d event source mappings, want 1", len(mappings))
	}
	for _, m := range mappings {
		p := m["Properties"].(map[string]any)
		want := map[string]any{
			"BisectBatchOnFunctionError": true,
			"MaximumRetryAttempts":       float64(5),
			"MaximumRecordAgeInSeconds":  float64(3600),
			"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
			"StartingPosition":           "TRIM_HORIZON",
		}
		for k, v := range want {
			if !reflect.DeepEqual(p[k], v) {
				t.Errorf("mapping %s = %v, want %v", k, p[k], v)
			}
		}
		if arn, _ := json.Marshal(p["EventSourceArn"]); !strings.Contains(string(arn), "AuditTable") || !strings.Contains(string(arn), "StreamArn") {
			t.Errorf("mapping reads %s, not the audit table's stream", arn)
		}
		if dest, _ := json.Marshal(p["DestinationConfig"]); !strings.Contains(string(dest), "ScannerOnFailure") {
			t.Errorf("on-failure destination = %s", dest)
		}
		filters := p["FilterCriteria"].(map[string]any)["Filters"].([]any)
		if len(filters) != 1 {
			t.Fatalf("%d filters, want 1", len(filters))
		}
		var pattern map[string]any
		if err := json.Unmarshal([]byte(filters[0].(map[string]any)["Pattern"].(string)), &pattern); err != nil {
			t.Fatal(err)
		}
		wantPattern := map[string]any{
			"eventName": []any{"INSERT", "MODIFY"},
			"dynamodb":  map[string]any{"NewImage": map[string]any{"layer": map[string]any{"S": []any{"s3_staging", "redshift_staging", "redshift_final"}}}},
		}
		if !reflect.DeepEqual(pattern, wantPattern) {
			t.Errorf("filter pattern = %v, want %v", pattern, wantPattern)
		}
	}
	hasResource(t, tmpl, "AWS::SQS::Queue", map[string]any{
		"SqsManagedSseEnabled": true,
		"RedriveAllowPolicy":   map[string]any{"redrivePermission": "denyAll"},
	})
	hasResource(t, tmpl, "AWS::Lambda::Function", map[string]any{
		"FunctionName":  "AuditTableScannerFn",
		"Architectures": []any{"arm64"},
		"Runtime":       "provided.al2023",
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
			"CLAIM_TIMEOUT_SECONDS": "60",
			"SUCCESS_TOPIC_ARN":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SuccessTopic"))},
			"FAILURE_TOPIC_ARN":     map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FailureTopic"))},
		})},
	})
}

// The scanner may read items, update only its own attributes and publish
// to its two topics; it can neither put nor delete items.
func TestAuditScannerPermissions(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Audit.Stack)
	actions := map[string]string{}
	for _, pol := range resources(t, tmpl, "AWS::IAM::Policy") {
		doc := pol["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			raw, _ := json.Marshal(st)
			list, ok := st["Action"].([]any)
			if !ok {
				list = []any{st["Action"]}
			}
			for _, a := range list {
				actions[a.(string)] = string(raw)
			}
		}
	}
	for _, forbidden := range []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan", "dynamodb:Query", "sns:*", "dynamodb:*"} {
		if _, ok := actions[forbidden]; ok {
			t.Errorf("scanner role allows %s", forbidden)
		}
	}
	update := actions["dynamodb:UpdateItem"]
	for _, part := range []string{`"dynamodb:Attributes"`, `"notified_count"`, `"notify_state"`, `"ForAllValues:StringEquals"`} {
		if !strings.Contains(update, part) {
			t.Errorf("UpdateItem is not limited to the notification attributes (%s missing): %s", part, update)
		}
	}
	if strings.Contains(update, `"record_count"`) {
		t.Errorf("scanner may write record_count: %s", update)
	}
	if pub := actions["sns:Publish"]; !strings.Contains(pub, "SuccessTopic") || !strings.Contains(pub, "FailureTopic") {
		t.Errorf("publish grant = %s", pub)
	}
}

func TestNotificationTopicsAreEncryptedAndTLSOnly(t *testing.T) {
	tmpl := templateOf(t, defaultPipeline(t).Audit.Stack)
	resourceCount(t, tmpl, "AWS::SNS::Topic", 2)
	resourceCount(t, tmpl, "AWS::SNS::Subscription", 0) // no addresses by default
	for id, topic := range resources(t, tmpl, "AWS::SNS::Topic") {
		if key, _ := json.Marshal(topic["Properties"].(map[string]any)["KmsMasterKeyId"]); !strings.Contains(string(key), "DataKey") {
			t.Errorf("%s is not encrypted with the DataKey: %s", id, key)
		}
	}
	resourceCount(t, tmpl, "AWS::SNS::TopicPolicy", 2)
	hasResource(t, tmpl, "AWS::SNS::TopicPolicy", map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
			"Effect": "Deny", "Action": "sns:Publish",
			"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		})}),
	}})
}

type subscription struct{ topic, email, filter string }

func subscriptions(t *testing.T, tmpl assertions.Template) []subscription {
	var subs []subscription
	for _, s := range resources(t, tmpl, "AWS::SNS::Subscription") {
		p := s["Properties"].(map[string]any)
		if p["Protocol"] != "email" {
			t.Errorf("subscription protocol %v", p["Protocol"])
		}
		topic, _ := json.Marshal(p["TopicArn"])
		filter := ""
		if f, ok := p["FilterPolicy"]; ok {
			b, _ := json.Marshal(f)
			filter = string(b)
		}
		name := strings.Trim(strings.TrimPrefix(string(topic), `{"Ref":`), `"}`)
		subs = append(subs, subscription{topic: name[:len(name)-8], email: p["Endpoint"].(string), filter: filter})
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].topic+subs[i].email < subs[j].topic+subs[j].email })
	return subs
}

func TestSubscriptionsAndRetriesComeFromConfig(t *testing.T) {
	p := newPipeline(t, map[string]any{
		"successEmails":            "ops@example.com,data@example.com",
		"failureEmails":            "oncall@example.com",
		"auditRetryAttempts":       2,
		"auditMaxRecordAgeSeconds": 600,
	})
	tmpl := templateOf(t, p.Audit.Stack)
	got := subscriptions(t, tmpl)
	want := []subscription{
		{"FailureTopic", "oncall@example.com", ""},
		{"SuccessTopic", "data@example.com", ""},
		{"SuccessTopic", "ops@example.com", ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
	hasResource(t, tmpl, "AWS::Lambda::EventSourceMapping", map[string]any{"MaximumRetryAttempts": 2, "MaximumRecordAgeInSeconds": 600})
}

// With one topic, an address on one list only gets that outcome (filter on
// the "outcome" message attribute); an address on both lists gets all.
func TestSingleNotificationTopicFiltersByOutcome(t *testing.T) {
	p := newPipeline(t, map[string]any{
		"singleNotificationTopic": true,
		"successEmails":           "ops@example.com,both@example.com",
		"failureEmails":           "both@example.com,oncall@example.com",
	})
	if p.Audit.SuccessTopic != p.Audit.FailureTopic {
		t.Error("SuccessTopic and FailureTopic differ with singleNotificationTopic")
	}
	tmpl := templateOf(t, p.Audit.Stack)
	resourceCount(t, tmpl, "AWS::SNS::Topic", 1)
	got := subscriptions(t, tmpl)
	want := []subscription{
		{"NotificationTopic", "both@example.com", ""},
		{"NotificationTopic", "oncall@example.com", `{"outcome":["FAILURE"]}`},
		{"NotificationTopic", "ops@example.com", `{"outcome":["SUCCESS"]}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subscriptions = %v, want %v", got, want)
	}
}
