package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Environment variables of AuditTableScannerFn, which fill a Scanner. The
// stack that sets them names them by these constants.
const (
	EnvTable        = "AUDIT_TABLE_NAME"
	EnvSuccessTopic = "SUCCESS_TOPIC_ARN"
	EnvFailureTopic = "FAILURE_TOPIC_ARN"
	// EnvClaimTimeout is when a pending claim goes stale, in seconds.
	EnvClaimTimeout = "CLAIM_TIMEOUT_SECONDS"
)

// Scanner reconciles a batch of audit stream records.
type Scanner struct {
	Table  Table
	Topics Topics
	Log    *slog.Logger
}

// Status is what happened to one record.
type Status string

const (
	Notified  Status = "notified"
	Duplicate Status = "duplicate"
	Stale     Status = "stale" // older than a record already claimed
	Ignored   Status = "ignored"
	Failed    Status = "failed"
	// Unprocessed: a record after a failed one, left for the retry.
	Unprocessed Status = "unprocessed"
)

// Handle processes the batch in stream order and stops at the first record
// that fails, reporting it and every later record. Lambda retries from the
// lowest reported sequence number and redelivers everything after it, so
// going on past a failure would notify a newer count of an item before the
// retry notifies the older one again.
//
// A malformed record is the exception: it can never succeed and has no
// count to keep in order, so it is reported and the batch goes on; stopping
// would hold every later record back until Lambda gives the batch up. It is
// reported rather than dropped: after the bounded retries it reaches the
// on-failure queue, where it stays visible. The records after it are
// delivered again with it and, already claimed, are not notified twice.
func (s Scanner) Handle(ctx context.Context, ev events.DynamoDBEvent) events.DynamoDBEventResponse {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	report := func(recs ...events.DynamoDBEventRecord) {
		for _, r := range recs {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
		}
	}
	counts := map[Status]int{}
	for i, rec := range ev.Records {
		status, err := s.Process(ctx, rec)
		counts[status]++
		if err == nil {
			continue
		}
		malformed := errors.Is(err, ErrMalformed)
		s.logger().Error("audit record not reconciled", "event_id", rec.EventID,
			"sequence_number", rec.Change.SequenceNumber, "malformed", malformed, "error", err.Error())
		if malformed {
			report(rec)
			continue
		}
		report(ev.Records[i:]...)
		counts[Unprocessed] = len(ev.Records) - i - 1
		break
	}
	s.logger().Info("audit batch reconciled", "records", len(ev.Records), "notified", counts[Notified],
		"duplicates", counts[Duplicate], "stale", counts[Stale], "ignored", counts[Ignored],
		"failed", counts[Failed], "unprocessed", counts[Unprocessed])
	return resp
}

// Process reconciles one record.
func (s Scanner) Process(ctx context.Context, rec events.DynamoDBEventRecord) (Status, error) {
	w, relevant, err := ParseRecord(rec)
	if err != nil {
		return Failed, err
	}
	if !relevant {
		return Ignored, nil
	}
	landing, found, err := s.Table.LandingCount(ctx, w.RunID)
	if err != nil {
		return Failed, err
	}
	r := Compare(w, landing, found)
	claim, err := s.Table.Claim(ctx, r)
	if err != nil {
		return Failed, err
	}
	switch claim {
	case AlreadySent:
		s.logger().Info("already notified", "run_id", r.RunID, "layer", r.Layer, "count", r.Count)
		return Duplicate, nil
	case Superseded:
		s.logger().Info("a later record of this item was notified", "run_id", r.RunID, "layer", r.Layer, "count", r.Count,
			"sequence_number", rec.Change.SequenceNumber)
		return Stale, nil
	case InProgress:
		return Failed, fmt.Errorf("run %s, layer %s, count %d is being notified by another record; retrying", r.RunID, r.Layer, r.Count)
	}
	id, err := s.Topics.Publish(ctx, r)
	if err != nil {
		if relErr := s.Table.Failed(ctx, r); relErr != nil {
			// The claim goes stale after ClaimTimeout and a retry takes it over.
			err = errors.Join(err, relErr)
		}
		return Failed, err
	}
	if err := s.Table.Sent(ctx, r, id); err != nil {
		// Published already: failing the record would notify twice.
		s.logger().Warn("notified but not recorded as sent", "run_id", r.RunID, "layer", r.Layer, "error", err.Error())
	}
	s.logger().Info("notified", "run_id", r.RunID, "layer", r.Layer, "outcome", r.Outcome, "count", r.Count,
		"landing", r.Landing, "landing_found", r.LandingFound, "message_id", id)
	return Notified, nil
}

func (s Scanner) logger() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}
