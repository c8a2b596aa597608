package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/localserver"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

// The built bootstrap, under the Runtime Interface Emulator, reads its
// settings from the environment and reaches DynamoDB and SNS through the
// standard endpoint variables.
func TestBootstrapUnderTheEmulator(t *testing.T) {
	e := rt.Start(t)
	fn := localserver.RIE(t, localserver.BuildHostBinary(t, "lambdas/auditscanner"),
		"AWS_ENDPOINT_URL_DYNAMODB="+e.Dynalite.URL,
		"AWS_ENDPOINT_URL_SNS="+e.Goaws.URL,
		envTable+"="+rt.Table,
		envSuccessTopic+"="+rt.TopicArn(rt.SuccessTopic),
		envFailureTopic+"="+rt.TopicArn(rt.FailureTopic),
		envClaimTimeout+"=30",
	)
	e.Put(t, rt.AuditItem("run-rie", audit.S3Landing, 3))
	staging := rt.AuditItem("run-rie", audit.S3Staging, 2)
	e.Put(t, staging)
	malformed := rt.Record(t, "INSERT", "11", staging)
	malformed.Change.NewImage = nil
	event, _ := json.Marshal(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rt.Record(t, "INSERT", "10", staging), malformed}})

	body, err := fn.Invoke(event)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "11" {
		t.Fatalf("response = %s, want only sequence number 11 reported; output:\n%s", body, fn.Output())
	}
	m := e.WaitFor(t, 1)[0]
	if m.TopicArn != rt.TopicArn(rt.FailureTopic) || !strings.Contains(m.Message, "Difference:    -1") {
		t.Fatalf("notification on %s:\n%s", m.TopicArn, m.Message)
	}
}

func TestMissingSettingStopsTheFunction(t *testing.T) {
	t.Setenv(envTable, "")
	if _, err := newScanner(t.Context()); err == nil || !strings.Contains(err.Error(), envTable) {
		t.Fatalf("newScanner without %s: %v", envTable, err)
	}
}
