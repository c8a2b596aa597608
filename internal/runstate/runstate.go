// Package runstate keeps the pipeline's open run id: one DynamoDB item that
// the transformer reads (through a short cache) to stamp records, and that
// the run rotator replaces when a batch completes. The README's "Run ids"
// section describes the lifecycle and its races.
package runstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item layout. The table's partition key is PartitionKey (S).
const (
	PartitionKey  = "pk"
	currentKey    = "current"
	runIDAttr     = "run_id"
	openedAtAttr  = "opened_at"
	openedByAttr  = "opened_by"
	previousAttr  = "previous_run_id"
	recentAttr    = "recent_events"
	initialOpener = "initial"

	// A closed run's record: pk = ClosedKeyPrefix + run id.
	ClosedKeyPrefix = "run#"
	closedAtAttr    = "closed_at"
	closedByAttr    = "closed_by"
	nextAttr        = "next_run_id"
	// prevOpenedAttr on the current item is the opened_at of the run the
	// last rotation closed, so that rotation's record can be written again.
	prevOpenedAttr = "previous_opened_at"
	// CountedAttr is set on a closed run's record by the landing audit once
	// it has counted the run; the audit walks back from the newest closed
	// run to the first counted one.
	CountedAttr = "counted_at"
)

// RecentEvents is how many rotating event ids the item remembers; a
// redelivered event older than that would rotate again. EventBridge
// redelivers within hours, during which far fewer batches complete.
const RecentEvents = 100

const idTimeLayout = "20060102T150405Z"

var idPattern = regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{8}$`)

// NewRunID returns an id that sorts by its opening time (UTC, to the
// second) and is unique through 32 random bits: 20261128T013000Z-0a1b2c3d.
func NewRunID(t time.Time) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return t.UTC().Format(idTimeLayout) + "-" + hex.EncodeToString(b[:])
}

// ValidRunID reports whether id has NewRunID's format.
func ValidRunID(id string) bool { return idPattern.MatchString(id) }

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Store reads and rotates the open run id in Table.
type Store struct {
	Client API
	Table  string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run is the open run as stored.
type Run struct {
	ID       string
	OpenedAt string
	OpenedBy string
	Previous string
	// PreviousOpenedAt is when Previous opened (empty before any rotation).
	PreviousOpenedAt string
	recent           []string
}

// ClosedRun is the record a rotation leaves of the run it closed: the
// landing audit counts a run only once such a record exists, i.e. once no
// record can be stamped with its id any more (runIdCacheSeconds aside).
type ClosedRun struct {
	ID, OpenedAt, ClosedAt, ClosedBy, Previous, Next string
	// CountedAt is set by the landing audit when it first counted the run.
	CountedAt string
}

// Rotation is the outcome of one rotating event.
type Rotation struct {
	Closed, Opened string
	// Duplicate is true when this event id had already rotated the run;
	// nothing changed and Opened is the run that event opened or a later one.
	Duplicate bool
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: &types.AttributeValueMemberS{Value: currentKey}}
}

// Current returns the open run, opening the initial one when there is none
// yet (the first records before any batch has completed).
func (s *Store) Current(ctx context.Context) (Run, error) {
	run, found, err := s.read(ctx)
	if err != nil || found {
		return run, err
	}
	now := s.now().UTC()
	initial := Run{ID: NewRunID(now), OpenedAt: now.Format(time.RFC3339Nano), OpenedBy: initialOpener}
	_, err = s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table),
		Item: map[string]types.AttributeValue{
			PartitionKey: &types.AttributeValueMemberS{Value: currentKey},
			runIDAttr:    &types.AttributeValueMemberS{Value: initial.ID},
			openedAtAttr: &types.AttributeValueMemberS{Value: initial.OpenedAt},
			openedByAttr: &types.AttributeValueMemberS{Value: initial.OpenedBy},
			recentAttr:   &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	})
	if err == nil {
		return initial, nil
	}
	if !conditionFailed(err) {
		return Run{}, fmt.Errorf("opening the initial run in %s: %w", s.Table, err)
	}
	// Someone else opened it first: theirs is the run.
	run, found, err = s.read(ctx)
	if err == nil && !found {
		err = fmt.Errorf("run state in %s vanished while opening the initial run", s.Table)
	}
	return run, err
}

// Rotate closes the open run and opens the next one, once per eventID: a
// redelivered event finds its id among the recent rotations and changes
// nothing. The write is conditional on the run it read, so concurrent
// rotations serialize and none is lost.
func (s *Store) Rotate(ctx context.Context, eventID string) (Rotation, error) {
	if eventID == "" {
		return Rotation{}, errors.New("rotating the run: the event has no id to make the rotation idempotent")
	}
	for attempt := 0; attempt < 20; attempt++ {
		cur, err := s.Current(ctx)
		if err != nil {
			return Rotation{}, err
		}
		if slices.Contains(cur.recent, eventID) {
			if cur.OpenedBy == eventID && cur.Previous != "" {
				// The last rotation was this event's: it may have ended
				// before writing the closed run's record (a crash, a
				// timeout); writing it again is a no-op when it exists.
				if err := s.recordClosed(ctx, ClosedRun{ID: cur.Previous, OpenedAt: cur.PreviousOpenedAt,
					ClosedAt: cur.OpenedAt, ClosedBy: eventID, Next: cur.ID}); err != nil {
					return Rotation{}, err
				}
			}
			return Rotation{Opened: cur.ID, Duplicate: true}, nil
		}
		now := s.now().UTC()
		next := NewRunID(now)
		recent := append(slices.Clone(cur.recent), eventID)
		if len(recent) > RecentEvents {
			recent = recent[len(recent)-RecentEvents:]
		}
		list := make([]types.AttributeValue, len(recent))
		for i, id := range recent {
			list[i] = &types.AttributeValueMemberS{Value: id}
		}
		_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(s.Table),
			Key:                 s.key(),
			UpdateExpression:    aws.String("SET #run = :next, #prev = :cur, #prevat = :curat, #at = :at, #by = :event, #recent = :recent"),
			ConditionExpression: aws.String("#run = :cur"),
			ExpressionAttributeNames: map[string]string{
				"#run": runIDAttr, "#prev": previousAttr, "#prevat": prevOpenedAttr, "#at": openedAtAttr, "#by": openedByAttr, "#recent": recentAttr,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":next":   &types.AttributeValueMemberS{Value: next},
				":cur":    &types.AttributeValueMemberS{Value: cur.ID},
				":curat":  &types.AttributeValueMemberS{Value: cur.OpenedAt},
				":at":     &types.AttributeValueMemberS{Value: now.Format(time.RFC3339Nano)},
				":event":  &types.AttributeValueMemberS{Value: eventID},
				":recent": &types.AttributeValueMemberL{Value: list},
			},
		})
		if err == nil {
			closed := ClosedRun{ID: cur.ID, OpenedAt: cur.OpenedAt, ClosedAt: now.Format(time.RFC3339Nano),
				ClosedBy: eventID, Previous: cur.Previous, Next: next}
			if err := s.recordClosed(ctx, closed); err != nil {
				// The run is closed; EventBridge retries the event, whose
				// duplicate path writes the record.
				return Rotation{}, err
			}
			return Rotation{Closed: cur.ID, Opened: next}, nil
		}
		if !conditionFailed(err) {
			return Rotation{}, fmt.Errorf("rotating run %s in %s: %w", cur.ID, s.Table, err)
		}
		// Another rotation won the race: read again and decide anew.
	}
	return Rotation{}, fmt.Errorf("rotating the run in %s: still contended after 20 attempts", s.Table)
}

// recordClosed writes the closed run's record once: a record that exists
// (possibly already marked counted by the landing audit) is left alone.
func (s *Store) recordClosed(ctx context.Context, c ClosedRun) error {
	item := map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: ClosedKeyPrefix + c.ID},
		runIDAttr:    &types.AttributeValueMemberS{Value: c.ID},
		closedAtAttr: &types.AttributeValueMemberS{Value: c.ClosedAt},
		closedByAttr: &types.AttributeValueMemberS{Value: c.ClosedBy},
		nextAttr:     &types.AttributeValueMemberS{Value: c.Next},
	}
	if c.OpenedAt != "" {
		item[openedAtAttr] = &types.AttributeValueMemberS{Value: c.OpenedAt}
	}
	if c.Previous != "" {
		item[previousAttr] = &types.AttributeValueMemberS{Value: c.Previous}
	}
	_, err := s.Client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.Table),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": PartitionKey},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("recording closed run %s in %s: %w", c.ID, s.Table, err)
	}
	return nil
}

// Closed returns the record of a closed run; found is false while the run
// is open (or was closed before closed runs were recorded).
func (s *Store) Closed(ctx context.Context, id string) (ClosedRun, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            map[string]types.AttributeValue{PartitionKey: &types.AttributeValueMemberS{Value: ClosedKeyPrefix + id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return ClosedRun{}, false, fmt.Errorf("reading closed run %s from %s: %w", id, s.Table, err)
	}
	if out.Item == nil {
		return ClosedRun{}, false, nil
	}
	return ClosedRun{
		ID: str(out.Item[runIDAttr]), OpenedAt: str(out.Item[openedAtAttr]), ClosedAt: str(out.Item[closedAtAttr]),
		ClosedBy: str(out.Item[closedByAttr]), Previous: str(out.Item[previousAttr]), Next: str(out.Item[nextAttr]),
		CountedAt: str(out.Item[CountedAttr]),
	}, true, nil
}

func (s *Store) read(ctx context.Context) (Run, bool, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.Table),
		Key:            s.key(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Run{}, false, fmt.Errorf("reading the open run from %s: %w", s.Table, err)
	}
	if out.Item == nil {
		return Run{}, false, nil
	}
	run := Run{
		ID:       str(out.Item[runIDAttr]),
		OpenedAt: str(out.Item[openedAtAttr]),
		OpenedBy: str(out.Item[openedByAttr]),
		Previous: str(out.Item[previousAttr]),

		PreviousOpenedAt: str(out.Item[prevOpenedAttr]),
	}
	if l, ok := out.Item[recentAttr].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			run.recent = append(run.recent, str(v))
		}
	}
	if !ValidRunID(run.ID) {
		return Run{}, false, fmt.Errorf("the open run id in %s is %q, not a run id", s.Table, run.ID)
	}
	return run, true, nil
}

func str(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
