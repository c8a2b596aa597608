package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
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
	Ignored   Status = "ignored"
	Failed    Status = "failed"
)

// Handle processes every record and reports each one that failed by its
// sequence number, so Lambda retries from the first failure only. A
// malformed record is reported too rather than dropped: after the bounded
// retries it reaches the on-failure queue, where it stays visible.
func (s Scanner) Handle(ctx context.Context, ev events.DynamoDBEvent) events.DynamoDBEventResponse {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	counts := map[Status]int{}
	for _, rec := range ev.Records {
		status, err := s.Process(ctx, rec)
		counts[status]++
		if err != nil {
			s.logger().Error("audit record not reconciled", "event_id", rec.EventID,
				"sequence_number", rec.Change.SequenceNumber, "malformed", errors.Is(err, ErrMalformed), "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
		}
	}
	s.logger().Info("audit batch reconciled", "records", len(ev.Records), "notified", counts[Notified],
		"duplicates", counts[Duplicate], "ignored", counts[Ignored], "failed", counts[Failed])
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
