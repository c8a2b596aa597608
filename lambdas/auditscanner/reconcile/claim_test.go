package reconcile_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

// A claim left pending (an invocation that died between claiming and
// publishing) blocks another record only until ClaimTimeout, and never
// blocks the record that made it.
func TestPendingClaimsGoStale(t *testing.T) {
	e := rt.Start(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	table := reconcile.Table{Client: e.Dynamo, Name: rt.Table, ClaimTimeout: time.Minute, Now: func() time.Time { return now }}
	w := reconcile.Write{RunID: "run-stale", Layer: audit.S3Staging, Count: 5, EventID: "event-a", Sequence: "0100"}
	r := reconcile.Compare(w, 5, true)

	claim := func(event string) reconcile.Claim {
		t.Helper()
		r.EventID = event
		c, err := table.Claim(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := claim("event-a"); c != reconcile.Claimed {
		t.Fatalf("first claim = %v", c)
	}
	if c := claim("event-b"); c != reconcile.InProgress {
		t.Fatalf("another record's claim of a fresh pending notification = %v, want in progress", c)
	}
	if c := claim("event-a"); c != reconcile.Claimed {
		t.Fatalf("the same record's retry = %v, want claimed", c)
	}
	now = now.Add(2 * time.Minute)
	if c := claim("event-b"); c != reconcile.Claimed {
		t.Fatalf("claim of a stale pending notification = %v, want claimed", c)
	}
	if err := table.Sent(ctx, r, "msg-1"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	for _, event := range []string{"event-a", "event-b", "event-c"} {
		if c := claim(event); c != reconcile.AlreadySent {
			t.Fatalf("claim by %s of a sent notification = %v, want already sent", event, c)
		}
	}
	// The claim that lost its ownership cannot mark the notification.
	r.EventID = "event-a"
	if err := table.Failed(ctx, r); err == nil || !strings.Contains(err.Error(), "ConditionalCheckFailed") {
		t.Fatalf("a stale owner marked the notification failed: %v", err)
	}
}

// Notification items from before notified_sequence existed: any record is
// newer than them, so a changed count is notified and a sent one is not
// repeated.
func TestItemsWithoutASequenceAreOlderThanAnyRecord(t *testing.T) {
	e := rt.Start(t)
	ctx := context.Background()
	table := reconcile.Table{Client: e.Dynamo, Name: rt.Table, ClaimTimeout: time.Minute}
	e.Put(t, map[string]types.AttributeValue{
		audit.RunIDKey:            &types.AttributeValueMemberS{Value: "run-legacy"},
		audit.LayerKey:            &types.AttributeValueMemberS{Value: audit.NotifiedLayer(audit.S3Staging)},
		audit.NotifiedCountAttr:   &types.AttributeValueMemberN{Value: "5"},
		audit.NotifyStateAttr:     &types.AttributeValueMemberS{Value: "sent"},
		audit.NotifyClaimAttr:     &types.AttributeValueMemberS{Value: "event-old"},
		audit.NotifyClaimedAtAttr: &types.AttributeValueMemberN{Value: "0"},
	})
	w := reconcile.Write{RunID: "run-legacy", Layer: audit.S3Staging, Count: 5, EventID: "event-1", Sequence: "0001"}
	if c, err := table.Claim(ctx, reconcile.Compare(w, 5, true)); err != nil || c != reconcile.AlreadySent {
		t.Fatalf("claim of the sent count = %v, %v; want already sent", c, err)
	}
	w.Count = 6
	if c, err := table.Claim(ctx, reconcile.Compare(w, 5, true)); err != nil || c != reconcile.Claimed {
		t.Fatalf("claim of a changed count = %v, %v; want claimed", c, err)
	}
	if seq := e.Get(t, "run-legacy", audit.NotifiedLayer(audit.S3Staging))[audit.NotifiedSequenceAttr]; seq.(*types.AttributeValueMemberS).Value != "0001" {
		t.Fatalf("claim recorded sequence %v", seq)
	}
}
