package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
)

// Table is the audit table: the landing counts the scanner reads and the
// notified#<layer> items that remember what it already notified.
type Table struct {
	Client *dynamodb.Client
	Name   string
	// ClaimTimeout is how long another stream record's pending claim
	// blocks a notification: at least the function's timeout, after which
	// the invocation that claimed it can no longer be running.
	ClaimTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Claim says whether a notification may be sent.
type Claim int

const (
	// Claimed: this record now owns the notification and must publish it.
	Claimed Claim = iota
	// AlreadySent: the same run, layer and count was notified before.
	AlreadySent
	// InProgress: another record claimed it moments ago and may still be
	// publishing; try again later.
	InProgress
	// Superseded: a later stream record of the same item was claimed
	// already, so this older count must not be notified after it.
	Superseded
)

const (
	statePending = "pending"
	stateSent    = "sent"
	stateFailed  = "failed"
)

func (t Table) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func key(runID, layer string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		audit.RunIDKey: &types.AttributeValueMemberS{Value: runID},
		audit.LayerKey: &types.AttributeValueMemberS{Value: layer},
	}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// LandingCount reads the run's S3 landing count, strongly consistent so a
// landing write that just happened is seen.
func (t Table) LandingCount(ctx context.Context, runID string) (count int64, found bool, err error) {
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(t.Name),
		Key:                      key(runID, string(audit.S3Landing)),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#c"),
		ExpressionAttributeNames: map[string]string{"#c": audit.RecordCountAttr},
	})
	if err != nil {
		return 0, false, fmt.Errorf("reading the landing count of run %s: %w", runID, err)
	}
	if out.Item == nil {
		return 0, false, nil
	}
	n, ok := out.Item[audit.RecordCountAttr].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false, fmt.Errorf("%w: landing item of run %s has no numeric %s", ErrMalformed, runID, audit.RecordCountAttr)
	}
	count, err = strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: landing item of run %s has %s = %q", ErrMalformed, runID, audit.RecordCountAttr, n.Value)
	}
	return count, true, nil
}

// Claim takes the notification for r with a conditional write, so that one
// (run id, layer, count) is notified once however often its stream record
// is delivered, and never after a later record of the same item.
//
// A record newer in the stream than the last claim takes it over when its
// count differs; the same count is notified again only when the last
// attempt failed, or its pending claim is this record's own (an invocation
// that timed out) or older than ClaimTimeout. A sent notification of the
// same count, and any claim by a newer record, cannot be taken.
func (t Table) Claim(ctx context.Context, r Result) (Claim, error) {
	now := t.now()
	names := map[string]string{
		"#count": audit.NotifiedCountAttr, "#landing": audit.NotifiedLandingAttr,
		"#outcome": audit.NotifiedOutcomeAttr, "#state": audit.NotifyStateAttr,
		"#claim": audit.NotifyClaimAttr, "#at": audit.NotifyClaimedAtAttr, "#msg": audit.NotifyMessageAttr,
		"#seq": audit.NotifiedSequenceAttr,
	}
	values := map[string]types.AttributeValue{
		":count": number(r.Count), ":outcome": str(string(r.Outcome)),
		":pending": str(statePending), ":failed": str(stateFailed),
		":claim": str(r.EventID), ":now": number(now.Unix()),
		":stale": number(now.Add(-t.ClaimTimeout).Unix()),
		":seq":   str(r.Sequence),
	}
	update := "SET #count = :count, #outcome = :outcome, #state = :pending, #claim = :claim, #at = :now, #seq = :seq"
	remove := " REMOVE #msg"
	if r.LandingFound {
		update += ", #landing = :landing"
		values[":landing"] = number(r.Landing)
	} else {
		remove += ", #landing"
	}
	// Items written before notified_sequence existed count as older than
	// any record.
	newer := "(attribute_not_exists(#seq) OR #seq < :seq)"
	retry := "(#state = :failed OR (#state = :pending AND (#claim = :claim OR #at < :stale)))"
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(t.Name),
		Key:              key(r.RunID, audit.NotifiedLayer(r.Layer)),
		UpdateExpression: aws.String(update + remove),
		ConditionExpression: aws.String("attribute_not_exists(#count)" +
			" OR (" + newer + " AND #count <> :count)" +
			" OR ((" + newer + " OR #seq = :seq) AND " + retry + ")"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return t.whyNotClaimed(ctx, r)
	}
	if err != nil {
		return 0, fmt.Errorf("claiming the notification of run %s, layer %s: %w", r.RunID, r.Layer, err)
	}
	return Claimed, nil
}

// whyNotClaimed tells a superseded record and a duplicate from a
// notification still in flight.
func (t Table) whyNotClaimed(ctx context.Context, r Result) (Claim, error) {
	out, err := t.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            key(r.RunID, audit.NotifiedLayer(r.Layer)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("reading the notification of run %s, layer %s: %w", r.RunID, r.Layer, err)
	}
	if s, ok := out.Item[audit.NotifiedSequenceAttr].(*types.AttributeValueMemberS); ok && s.Value > r.Sequence {
		return Superseded, nil
	}
	if s, ok := out.Item[audit.NotifyStateAttr].(*types.AttributeValueMemberS); ok && s.Value == stateSent {
		return AlreadySent, nil
	}
	return InProgress, nil
}

// Sent marks the claimed notification as published.
func (t Table) Sent(ctx context.Context, r Result, messageID string) error {
	return t.settle(ctx, r, stateSent, "SET #state = :state, #msg = :msg", map[string]types.AttributeValue{":msg": str(messageID)})
}

// Failed gives the claim up after a failed publish, so the retry of this
// record (or any later one) notifies.
func (t Table) Failed(ctx context.Context, r Result) error {
	return t.settle(ctx, r, stateFailed, "SET #state = :state", nil)
}

func (t Table) settle(ctx context.Context, r Result, state, update string, extra map[string]types.AttributeValue) error {
	values := map[string]types.AttributeValue{":state": str(state), ":claim": str(r.EventID)}
	names := map[string]string{"#state": audit.NotifyStateAttr, "#claim": audit.NotifyClaimAttr}
	for k, v := range extra {
		values[k] = v
		names["#msg"] = audit.NotifyMessageAttr
	}
	_, err := t.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.Name),
		Key:                       key(r.RunID, audit.NotifiedLayer(r.Layer)),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#claim = :claim"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("marking the notification of run %s, layer %s %s: %w", r.RunID, r.Layer, state, err)
	}
	return nil
}
