package reconcile_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
	rt "github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile/reconciletest"
)

func parse(t *testing.T, seq string, count int64) (reconcile.Write, error) {
	t.Helper()
	w, relevant, err := reconcile.ParseRecord(rt.Record(t, "MODIFY", seq, rt.AuditItem("run-p", audit.S3Staging, count)))
	if err == nil && !relevant {
		t.Fatalf("a staging write is not relevant")
	}
	return w, err
}

// Stream order is string order of the padded sequence numbers, whatever
// their lengths, up to the longest DynamoDB Streams issues.
func TestSequenceNumbersCompareInStreamOrder(t *testing.T) {
	seqs := []string{"7", "99", "100", "4965900000000000000000001", strings.Repeat("9", reconcile.SequenceDigits)}
	prev := ""
	for _, seq := range seqs {
		w, err := parse(t, seq, 1)
		if err != nil {
			t.Fatalf("%s: %v", seq, err)
		}
		if len(w.Sequence) != reconcile.SequenceDigits || w.Sequence <= prev || !strings.HasSuffix(w.Sequence, seq) {
			t.Fatalf("%s padded to %q, after %q", seq, w.Sequence, prev)
		}
		prev = w.Sequence
	}
	for _, bad := range []string{"", "1" + strings.Repeat("0", reconcile.SequenceDigits), "12a", "-1"} {
		if _, err := parse(t, bad, 1); err == nil {
			t.Errorf("sequence number %q accepted", bad)
		}
	}
}

func TestAZeroCountIsACount(t *testing.T) {
	if w, err := parse(t, "1", 0); err != nil || w.Count != 0 {
		t.Fatalf("count 0: %+v, %v", w, err)
	}
}

// A REMOVE has no new image to compare; it is not an error.
func TestRemovalsAreIgnored(t *testing.T) {
	rec := rt.Record(t, "REMOVE", "1", rt.AuditItem("run-p", audit.S3Staging, 1))
	if _, relevant, err := reconcile.ParseRecord(rec); relevant || err != nil {
		t.Fatalf("REMOVE: relevant %v, %v", relevant, err)
	}
	rec = events.DynamoDBEventRecord{EventName: "INSERT", EventID: "e"}
	if _, _, err := reconcile.ParseRecord(rec); err == nil {
		t.Fatal("an INSERT without an image parsed")
	}
}
