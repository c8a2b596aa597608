package main

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/testserver"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

// The built bootstrap, under the Runtime Interface Emulator, reads its
// settings from the environment and reaches DynamoDB and SNS through the
// standard endpoint variables.
func TestBootstrapUnderTheEmulator(t *testing.T) {
	e := rt.Start(t)
	fn := testserver.RIE(t, testserver.BuildHostBinary(t, "lambdas/auditscanner"),
		"AWS_ENDPOINT_URL_DYNAMODB="+e.Dynalite.URL,
		"AWS_ENDPOINT_URL_SNS="+e.Goaws.URL,
		reconcile.EnvTable+"="+rt.Table,
		reconcile.EnvSuccessTopic+"="+rt.TopicArn(rt.SuccessTopic),
		reconcile.EnvFailureTopic+"="+rt.TopicArn(rt.FailureTopic),
		reconcile.EnvClaimTimeout+"=30",
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
	t.Setenv(reconcile.EnvTable, "")
	if _, err := newScanner(t.Context()); err == nil || !strings.Contains(err.Error(), reconcile.EnvTable) {
		t.Fatalf("newScanner without %s: %v", reconcile.EnvTable, err)
	}
}

// scannerAt builds the function's scanner, as main does, against the given
// DynamoDB and SNS endpoints.
func scannerAt(t *testing.T, dynamo, sns string) reconcile.Scanner {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_REGION": testserver.GoawsRegion, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_ENDPOINT_URL": "",
		"AWS_ENDPOINT_URL_DYNAMODB": dynamo, "AWS_ENDPOINT_URL_SNS": sns, "AWS_MAX_ATTEMPTS": "", "AWS_RETRY_MODE": "",
		reconcile.EnvTable: rt.Table, reconcile.EnvSuccessTopic: rt.TopicArn(rt.SuccessTopic), reconcile.EnvFailureTopic: rt.TopicArn(rt.FailureTopic), reconcile.EnvClaimTimeout: "30",
	} {
		t.Setenv(k, v)
	}
	s, err := newScanner(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A Publish whose response is lost was most likely delivered: the function's
// client must not send it again, and the record's retry is the one further
// copy (README, "Delivery guarantees").
func TestAPublishWhoseResponseIsLostIsSentOnce(t *testing.T) {
	e := rt.Start(t)
	s := scannerAt(t, e.Dynalite.URL, e.Faults.URL)
	e.Put(t, rt.AuditItem("run-lost", audit.S3Landing, 3))
	staging := rt.AuditItem("run-lost", audit.S3Staging, 3)
	e.Put(t, staging)
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rt.Record(t, "INSERT", "20", staging)}}
	e.Faults.Drop(func(rt.Publish) bool { return true })
	resp := s.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("a publish without an answer was not reported: %+v", resp)
	}
	if n := len(e.Faults.Publishes()); n != 1 {
		t.Fatalf("the client sent the Publish %d times, want once", n)
	}
	e.WaitFor(t, 1)
	e.Faults.Drop(nil)
	if resp := s.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the retry failed: %+v", resp)
	}
	e.WaitFor(t, 2)
}

// A server that accepts and never answers costs one request timeout, not
// the function's whole timeout, and one attempt.
func TestAPublishThatIsNeverAnsweredEndsAfterTheRequestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conns := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	defer func() {
		for len(conns) > 0 {
			(<-conns).Close()
		}
	}()
	s := scannerAt(t, "http://127.0.0.1:1", "http://"+l.Addr().String())
	r := reconcile.Compare(reconcile.Write{RunID: "run-silent", Layer: audit.S3Staging, Count: 1}, 1, true)
	// The test's own deadline only keeps a missing timeout from hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 3*requestTimeout)
	defer cancel()
	began := time.Now()
	_, err = s.Topics.Publish(ctx, r)
	took := time.Since(began)
	if err == nil {
		t.Fatal("a Publish nobody answered succeeded")
	}
	if took > requestTimeout+2*time.Second {
		t.Fatalf("the Publish took %v, want about %v", took, requestTimeout)
	}
	if n := len(conns); n != 1 {
		t.Fatalf("%d connections, want one attempt", n)
	}
}
