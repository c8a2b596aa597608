package reconcile_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

func scanner(e *rt.Env, failureTopic string, log *bytes.Buffer) reconcile.Scanner {
	return reconcile.Scanner{
		Table:  reconcile.Table{Client: e.Dynamo, Name: rt.Table, ClaimTimeout: 30 * time.Second},
		Topics: reconcile.Topics{Client: e.SNS, Success: rt.TopicArn(rt.SuccessTopic), Failure: rt.TopicArn(failureTopic)},
		Log:    slog.New(slog.NewJSONHandler(log, nil)),
	}
}

func batch(recs ...events.DynamoDBEventRecord) events.DynamoDBEvent {
	return events.DynamoDBEvent{Records: recs}
}

func failures(resp events.DynamoDBEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func wantNoFailures(t *testing.T, resp events.DynamoDBEventResponse, log *bytes.Buffer) {
	t.Helper()
	if len(resp.BatchItemFailures) > 0 {
		t.Fatalf("batch item failures %v; log:\n%s", failures(resp), log)
	}
}

// wantNotification fails t unless m went to topic, its subject holds
// subject and its message each of message.
func wantNotification(t *testing.T, m rt.Notification, topic, subject string, message ...string) {
	t.Helper()
	if m.TopicArn != rt.TopicArn(topic) {
		t.Errorf("%q went to %s, want %s", m.Subject, m.TopicArn, rt.TopicArn(topic))
	}
	contains(t, "subject", m.Subject, subject)
	contains(t, "message", m.Message, message...)
}

func contains(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

// One set of stand-ins serves every case; each case uses its own run ids
// and clears the inbox count by remembering where it started.
func TestScannerAgainstDynaliteAndGoaws(t *testing.T) {
	e := rt.Start(t)
	ctx := context.Background()
	var log bytes.Buffer
	s := scanner(e, rt.FailureTopic, &log)
	seen := 0
	next := func(t *testing.T, n int) []rt.Notification {
		t.Helper()
		msgs := e.WaitFor(t, seen+n)[seen:]
		seen += n
		return msgs
	}
	// notify puts items, hands the scanner a batch of one record (event,
	// sequence) of the last of them, wants it processed and returns the one
	// notification that went out.
	notify := func(t *testing.T, event, sequence string, items ...map[string]types.AttributeValue) rt.Notification {
		t.Helper()
		for _, it := range items {
			e.Put(t, it)
		}
		wantNoFailures(t, s.Handle(ctx, batch(rt.Record(t, event, sequence, items[len(items)-1]))), &log)
		return next(t, 1)[0]
	}

	t.Run("match publishes SUCCESS", func(t *testing.T) {
		m := notify(t, "INSERT", "100", rt.AuditItem("run-match", audit.S3Landing, 1234), rt.AuditItem("run-match", audit.S3Staging, 1234))
		wantNotification(t, m, rt.SuccessTopic, "SUCCESS run run-match s3_staging: 1234 = landing",
			"SUCCESS: the S3 staging area holds the same number of records",
			"Run id:        run-match", "Layer count:   1234", "Landing count: 1234", "Difference:    +0",
			"orders_s3_staging_audit_load, job run jr_run-match")
		if strings.Contains(m.Message, "What to check") {
			t.Errorf("a SUCCESS message lists things to check:\n%s", m.Message)
		}
		if m.MessageAttributes["outcome"].Value != "SUCCESS" || m.MessageAttributes["layer"].Value != "s3_staging" {
			t.Errorf("message attributes = %v", m.MessageAttributes)
		}
		item := e.Get(t, "run-match", audit.NotifiedLayer(audit.S3Staging))
		if st := item[audit.NotifyStateAttr].(*types.AttributeValueMemberS).Value; st != "sent" {
			t.Errorf("notified item state = %q, want sent", st)
		}
		if id := item[audit.NotifyMessageAttr].(*types.AttributeValueMemberS).Value; id == "" {
			t.Error("notified item has no SNS message id")
		}
	})

	t.Run("mismatch publishes FAILURE with the difference", func(t *testing.T) {
		m := notify(t, "INSERT", "200", rt.AuditItem("run-short", audit.S3Landing, 1234), rt.AuditItem("run-short", audit.RedshiftFinal, 1200))
		wantNotification(t, m, rt.FailureTopic, "FAILURE run run-short redshift_final: 1200 vs landing 1234 (-34)",
			"FAILURE: the Redshift final area does not hold the same number",
			"Layer count:   1200", "Landing count: 1234", "Difference:    -34", "What to check:",
			"\n- 34 records of the landing area did not reach the Redshift final area", "staging-to-final job")
	})

	t.Run("missing landing item publishes FAILURE", func(t *testing.T) {
		m := notify(t, "INSERT", "300", rt.AuditItem("run-no-landing", audit.RedshiftStaging, 10))
		wantNotification(t, m, rt.FailureTopic, "FAILURE run run-no-landing redshift_staging: 10, no landing count",
			"the S3 landing area has no count for that run", "Landing count: missing",
			"landing audit job", "run_id=run-no-landing, layer=s3_landing")
		if _, ok := e.Get(t, "run-no-landing", audit.NotifiedLayer(audit.RedshiftStaging))[audit.NotifiedLandingAttr]; ok {
			t.Error("notified item records a landing count although there is none")
		}
	})

	t.Run("duplicate delivery notifies once, a changed count again", func(t *testing.T) {
		staging := rt.AuditItem("run-dup", audit.S3Staging, 40)
		notify(t, "INSERT", "400", rt.AuditItem("run-dup", audit.S3Landing, 50), staging)
		// Same record again (a retried batch), and in the same batch twice.
		rec := rt.Record(t, "INSERT", "400", staging)
		wantNoFailures(t, s.Handle(ctx, batch(rec, rec)), &log)
		if st, _ := s.Process(ctx, rec); st != reconcile.Duplicate {
			t.Errorf("redelivered record status = %s, want duplicate", st)
		}
		e.WaitFor(t, seen) // fails if a second notification arrived
		// Late data: the staging job recounts and the count now matches.
		m := notify(t, "MODIFY", "401", rt.AuditItem("run-dup", audit.S3Staging, 50))
		contains(t, "subject", m.Subject, "SUCCESS run run-dup s3_staging: 50 = landing")
	})

	t.Run("failing publish reports that record and every later one, notified in order on retry", func(t *testing.T) {
		broken := scanner(e, rt.MissingTopic, &log)
		e.Put(t, rt.AuditItem("run-pub", audit.S3Landing, 7))
		good := rt.AuditItem("run-pub", audit.S3Staging, 7)
		bad := rt.AuditItem("run-pub", audit.RedshiftStaging, 6)
		alsoGood := rt.AuditItem("run-pub", audit.RedshiftFinal, 7)
		for _, it := range []map[string]types.AttributeValue{good, bad, alsoGood} {
			e.Put(t, it)
		}
		ev := batch(rt.Record(t, "INSERT", "500", good), rt.Record(t, "INSERT", "501", bad), rt.Record(t, "INSERT", "502", alsoGood))
		resp := broken.Handle(ctx, ev)
		if got := strings.Join(failures(resp), ","); got != "501,502" {
			t.Fatalf("batch item failures = %s, want 501,502; log:\n%s", got, &log)
		}
		next(t, 1) // the SUCCESS before the failure went out
		st := e.Get(t, "run-pub", audit.NotifiedLayer(audit.RedshiftStaging))[audit.NotifyStateAttr].(*types.AttributeValueMemberS).Value
		if st != "failed" {
			t.Errorf("claim of the failed publish is %q, want failed", st)
		}
		if item := e.Get(t, "run-pub", audit.NotifiedLayer(audit.RedshiftFinal)); item != nil {
			t.Errorf("the record after the failure was claimed: %v", item)
		}
		contains(t, "log", log.String(), "audit record not reconciled", `"sequence_number":"501"`, "NonExistentTopic", `"unprocessed":1`)

		// The topic comes back; Lambda retries from the failed record on.
		if _, err := e.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(rt.MissingTopic)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(rt.TopicArn(rt.MissingTopic)), Protocol: aws.String("http"), Endpoint: aws.String(e.Inbox.URL)}); err != nil {
			t.Fatal(err)
		}
		wantNoFailures(t, broken.Handle(ctx, batch(ev.Records[1:]...)), &log)
		m := next(t, 2)
		contains(t, "subject", m[0].Subject, "FAILURE run run-pub redshift_staging: 6 vs landing 7 (-1)")
		contains(t, "subject", m[1].Subject, "SUCCESS run run-pub redshift_final: 7 = landing")
	})

	t.Run("a failed publish whose claim was taken over reports both failures", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		e.Put(t, rt.AuditItem("run-lost", audit.S3Landing, 3))
		staging := rt.AuditItem("run-lost", audit.S3Staging, 3)
		e.Put(t, staging)
		e.Faults.Fail(func(p rt.Publish) bool {
			if !strings.Contains(p.Subject, "run-lost") {
				return false
			}
			// While this publish fails, another record takes the claim
			// over, so this one can no longer give it up.
			_, err := e.Dynamo.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(rt.Table),
				Key: map[string]types.AttributeValue{
					audit.RunIDKey: &types.AttributeValueMemberS{Value: "run-lost"},
					audit.LayerKey: &types.AttributeValueMemberS{Value: audit.NotifiedLayer(audit.S3Staging)},
				},
				UpdateExpression:          aws.String("SET #claim = :other"),
				ExpressionAttributeNames:  map[string]string{"#claim": audit.NotifyClaimAttr},
				ExpressionAttributeValues: map[string]types.AttributeValue{":other": &types.AttributeValueMemberS{Value: "event-other"}},
			})
			if err != nil {
				t.Errorf("taking the claim over: %v", err)
			}
			return true
		})
		defer e.Faults.Fail(nil)
		st, err := s.Process(ctx, rt.Record(t, "INSERT", "700", staging))
		if st != reconcile.Failed || err == nil {
			t.Fatalf("status %s, error %v; want failed with an error", st, err)
		}
		contains(t, "error", err.Error(), "InternalError", "marking the notification of run run-lost, layer s3_staging failed", "ConditionalCheckFailed")
	})

	t.Run("malformed records are reported, the records around them processed", func(t *testing.T) {
		e.Put(t, rt.AuditItem("run-bad", audit.S3Landing, 1))
		noImage := rt.Record(t, "INSERT", "600", rt.AuditItem("run-bad", audit.S3Staging, 1))
		noImage.Change.NewImage = nil
		textCount := rt.AuditItem("run-bad", audit.S3Staging, 1)
		textCount[audit.RecordCountAttr] = &types.AttributeValueMemberS{Value: "12"}
		negative := rt.AuditItem("run-bad", audit.S3Staging, 1)
		negative[audit.RecordCountAttr] = &types.AttributeValueMemberN{Value: "-3"}
		noRun := rt.AuditItem("run-bad", audit.S3Staging, 1)
		delete(noRun, audit.RunIDKey)
		noSequence := rt.Record(t, "INSERT", "604", rt.AuditItem("run-bad", audit.S3Staging, 1))
		noSequence.Change.SequenceNumber = "60x"
		landing := rt.AuditItem("run-bad", audit.S3Landing, 1)
		notified := rt.AuditItem("run-bad", audit.Layer(audit.NotifiedLayer(audit.S3Staging)), 1)
		removed := rt.AuditItem("run-bad", audit.S3Staging, 1)
		ignored := []events.DynamoDBEventRecord{
			rt.Record(t, "INSERT", "605", landing),
			rt.Record(t, "INSERT", "606", notified),
			rt.Record(t, "REMOVE", "607", removed),
		}
		for _, c := range []struct {
			rec  events.DynamoDBEventRecord
			want string
		}{
			{noImage, "has no new image"},
			{rt.Record(t, "INSERT", "601", textCount), "record_count must be a number"},
			{rt.Record(t, "MODIFY", "602", negative), `record_count = \"-3\" is not a non-negative whole number`},
			{rt.Record(t, "INSERT", "603", noRun), "run_id is missing"},
			{noSequence, `sequence number \"60x\" is not 1 to 40 decimal digits`},
		} {
			log.Reset()
			recs := append(append(append([]events.DynamoDBEventRecord{}, ignored...), c.rec), ignored...)
			resp := s.Handle(ctx, batch(recs...))
			if got := strings.Join(failures(resp), ","); got != c.rec.Change.SequenceNumber {
				t.Errorf("batch item failures = %s, want %s; log:\n%s", got, c.rec.Change.SequenceNumber, &log)
			}
			contains(t, "log", log.String(), c.want, `"malformed":true`, `"ignored":6`, `"failed":1`, `"unprocessed":0`)
		}
		e.WaitFor(t, seen) // nothing was published

		// A good record after a malformed one is notified at once.
		staging := rt.AuditItem("run-bad", audit.S3Staging, 1)
		e.Put(t, staging)
		resp := s.Handle(ctx, batch(noImage, rt.Record(t, "MODIFY", "610", staging)))
		if got := strings.Join(failures(resp), ","); got != "600" {
			t.Fatalf("batch item failures = %s, want 600", got)
		}
		contains(t, "subject", next(t, 1)[0].Subject, "SUCCESS run run-bad s3_staging: 1 = landing")
	})
}
