package rotate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate/runstatetest"
	"github.com/orders-pipeline/orders-pipeline/lambdas/runrotator/rotate"
)

var trigger = rotate.Trigger{LandingBucket: "fo-to-dw-orders-landing-area-123456789012-us-east-1", CompletionPrefix: "batch-completion/", LastJob: "orders_staging_audit_load"}

func s3Event(id, bucket, key string) events.EventBridgeEvent {
	detail, _ := json.Marshal(map[string]any{"bucket": map[string]string{"name": bucket}, "object": map[string]any{"key": key, "size": 2}})
	return events.EventBridgeEvent{ID: id, Source: "aws.s3", DetailType: "Object Created", Detail: detail}
}

func glueEvent(id, job, state string) events.EventBridgeEvent {
	detail, _ := json.Marshal(map[string]string{"jobName": job, "state": state, "jobRunId": "jr_1"})
	return events.EventBridgeEvent{ID: id, Source: "aws.glue", DetailType: "Glue Job State Change", Detail: detail}
}

func TestCompletionFileAndWorkflowRestartRotate(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	first, err := rotate.Rotate(ctx, store, trigger, s3Event("e-1", trigger.LandingBucket, "batch-completion/2026-11-28T013000Z.done"))
	if err != nil || first.Duplicate || first.Opened == "" {
		t.Fatalf("completion file: %+v, %v", first, err)
	}
	second, err := rotate.Rotate(ctx, store, trigger, glueEvent("e-2", "orders_staging_audit_load", "SUCCEEDED"))
	if err != nil || second.Closed != first.Opened {
		t.Fatalf("workflow restart: %+v, %v", second, err)
	}
	again, err := rotate.Rotate(ctx, store, trigger, s3Event("e-1", trigger.LandingBucket, "batch-completion/2026-11-28T013000Z.done"))
	if err != nil || !again.Duplicate || again.Opened != second.Opened {
		t.Fatalf("redelivered completion event rotated again: %+v, %v", again, err)
	}
}

func TestOtherEventsAreRefusedWithoutRotating(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	before := runstatetest.Current(t, store)
	for name, ev := range map[string]events.EventBridgeEvent{
		"orders object":       s3Event("x1", trigger.LandingBucket, "orders/processing_date=2026-11-28/part.parquet"),
		"other bucket":        s3Event("x2", "someone-elses-bucket", "batch-completion/done"),
		"failed job":          glueEvent("x3", "orders_staging_audit_load", "FAILED"),
		"other job":           glueEvent("x4", "orders_landing_to_staging", "SUCCEEDED"),
		"scheduled event":     {ID: "x5", Source: "aws.events", DetailType: "Scheduled Event", Detail: json.RawMessage(`{}`)},
		"unreadable detail":   {ID: "x6", Source: "aws.s3", DetailType: "Object Created", Detail: json.RawMessage(`"x"`)},
		"event without an id": s3Event("", trigger.LandingBucket, "batch-completion/done"),
	} {
		if _, err := rotate.Rotate(ctx, store, trigger, ev); err == nil {
			t.Errorf("%s: rotated", name)
		} else if !strings.Contains(err.Error(), ev.ID) && ev.ID != "" {
			t.Errorf("%s: error %q does not name the event", name, err)
		}
	}
	after, _ := store.Current(ctx)
	if after.ID != before.ID {
		t.Fatalf("a refused event rotated the run")
	}
}

func TestBatchCompletionModeRefusesJobEvents(t *testing.T) {
	tr := trigger
	tr.LastJob = ""
	if _, err := rotate.Rotate(context.Background(), runstatetest.New(t).Store(), tr, glueEvent("e", "orders_staging_audit_load", "SUCCEEDED")); err == nil {
		t.Fatal("a job event rotated the run with no last job configured")
	}
}
