package runstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate/runstatetest"
)

func TestRunIDsSortByTimeAndAreUnique(t *testing.T) {
	at := time.Date(2026, 11, 28, 1, 30, 0, 0, time.FixedZone("CET", 3600))
	id := runstate.NewRunID(at)
	if !runstate.ValidRunID(id) || id[:17] != "20261128T003000Z-" {
		t.Fatalf("id %q", id)
	}
	later := runstate.NewRunID(at.Add(time.Second))
	if later <= id {
		t.Fatalf("%q does not sort after %q", later, id)
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		seen[runstate.NewRunID(at)] = true
	}
	if len(seen) < 9990 {
		t.Fatalf("only %d distinct ids in 10000", len(seen))
	}
	for _, bad := range []string{"", "20261128T003000Z", "20261128T003000Z-XYZ12345", "x20261128T003000Z-0a1b2c3d"} {
		if runstate.ValidRunID(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestInitialRunThenRotationsChain(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	first, err := store.Current(ctx)
	if err != nil || first.OpenedBy != "initial" {
		t.Fatalf("initial run %+v, %v", first, err)
	}
	again, _ := store.Current(ctx)
	if again.ID != first.ID {
		t.Fatalf("reading twice opened a second initial run: %s then %s", first.ID, again.ID)
	}
	rot, err := store.Rotate(ctx, "event-1")
	if err != nil || rot.Closed != first.ID || rot.Opened == first.ID || rot.Duplicate {
		t.Fatalf("rotation %+v, %v", rot, err)
	}
	cur, _ := store.Current(ctx)
	if cur.ID != rot.Opened || cur.Previous != first.ID || cur.OpenedBy != "event-1" {
		t.Fatalf("after rotation: %+v", cur)
	}
}

func TestRedeliveredEventDoesNotRotateTwice(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	r1, err := store.Rotate(ctx, "event-1")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := store.Rotate(ctx, "event-2")
	if err != nil {
		t.Fatal(err)
	}
	dup, err := store.Rotate(ctx, "event-1")
	if err != nil || !dup.Duplicate || dup.Opened != r2.Opened {
		t.Fatalf("redelivery of event-1 after event-2: %+v, %v", dup, err)
	}
	if r2.Closed != r1.Opened {
		t.Fatalf("event-2 closed %s, want %s", r2.Closed, r1.Opened)
	}
}

// Concurrent distinct events each rotate exactly once and the runs form
// one chain; concurrent copies of one event rotate once in total.
func TestConcurrentRotationsSerialize(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	start := runstatetest.Current(t, store)
	const n = 8
	results := make([]runstate.Rotation, 2*n)
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := 0; i < 2*n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i], errs[i] = store.Rotate(ctx, fmt.Sprintf("event-%d", i%n)) // each id twice
		}(i)
	}
	wg.Wait()
	closedBy := map[string]string{}
	rotations := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("rotation %d: %v", i, errs[i])
		}
		if r.Duplicate {
			continue
		}
		rotations++
		if _, dup := closedBy[r.Closed]; dup {
			t.Fatalf("run %s closed twice", r.Closed)
		}
		closedBy[r.Closed] = r.Opened
	}
	if rotations != n {
		t.Fatalf("%d rotations for %d distinct events", rotations, n)
	}
	// Walk the chain from the initial run: it must visit every rotation.
	id, steps := start.ID, 0
	for next, ok := closedBy[id]; ok; next, ok = closedBy[id] {
		id, steps = next, steps+1
	}
	cur, _ := store.Current(ctx)
	if steps != n || id != cur.ID {
		t.Fatalf("chain of %d runs ends at %s, current is %s", steps, id, cur.ID)
	}
}

func TestCacheRereadsAfterTTL(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	store.Now = func() time.Time { return now }
	cache := &runstate.Cache{Store: store, TTL: 5 * time.Second}
	before, err := cache.RunID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rot, _ := store.Rotate(ctx, "event-1")
	now = now.Add(4 * time.Second)
	if id, _ := cache.RunID(ctx); id != before {
		t.Fatalf("cache reread before its TTL: %s", id)
	}
	now = now.Add(time.Second)
	if id, _ := cache.RunID(ctx); id != rot.Opened {
		t.Fatalf("cache still has %s after its TTL, want %s", id, rot.Opened)
	}
}

func TestClientFromEnvNeedsTheLambdaVariables(t *testing.T) {
	for _, missing := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
		delete(env, missing)
		if _, err := runstate.ClientFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("without %s: %v", missing, err)
		}
	}
}

// AWS_ENDPOINT_URL_DYNAMODB points the function at a stand-in; without it
// the client keeps the SDK's regional endpoint.
func TestClientFromEnvTakesTheDynamoDBEndpointOverride(t *testing.T) {
	tbl := runstatetest.New(t)
	for _, c := range []struct {
		name, endpoint string
	}{
		{"override", tbl.Endpoint},
		{"regional endpoint", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
				"AWS_ENDPOINT_URL_DYNAMODB": c.endpoint}
			client, err := runstate.ClientFromEnv(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(client.Options().BaseEndpoint); got != c.endpoint {
				t.Fatalf("endpoint %q, want %q", got, c.endpoint)
			}
			if c.endpoint == "" {
				return
			}
			store := &runstate.Store{Client: client, Table: tbl.Name}
			if _, err := store.Current(context.Background()); err != nil {
				t.Fatalf("reading the run through the override: %v", err)
			}
		})
	}
}

// hookedAPI passes calls to the table unless a hook takes them, so a test
// can make one call lose a race it could not lose on demand.
type hookedAPI struct {
	runstate.API
	getItem    func(context.Context, *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem    func(context.Context, *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	updateItem func(context.Context, *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
}

func (h *hookedAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if h.getItem != nil {
		return h.getItem(ctx, in)
	}
	return h.API.GetItem(ctx, in, opts...)
}

func (h *hookedAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if h.putItem != nil {
		return h.putItem(ctx, in)
	}
	return h.API.PutItem(ctx, in, opts...)
}

func (h *hookedAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if h.updateItem != nil {
		return h.updateItem(ctx, in)
	}
	return h.API.UpdateItem(ctx, in, opts...)
}

// Two transformers that both find no run open the initial one once: the
// one whose write loses takes the winner's run.
func TestTheInitialRunOpenedByAnotherReaderIsTaken(t *testing.T) {
	ctx := context.Background()
	tbl := runstatetest.New(t)
	other := tbl.Store()
	var theirs runstate.Run
	api := &hookedAPI{API: tbl.Client}
	api.getItem = func(ctx context.Context, in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		// This read saw no run; the other reader opens it before our write.
		api.getItem = nil
		var err error
		theirs, err = other.Current(ctx)
		return &dynamodb.GetItemOutput{}, err
	}
	ours, err := (&runstate.Store{Client: api, Table: tbl.Name}).Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ours.ID != theirs.ID || ours.OpenedBy != "initial" {
		t.Fatalf("took %+v, the other reader opened %+v", ours, theirs)
	}
}

// A run state that exists for the initial write but not for the read
// after it (someone deleted the item) is an error, not an empty run.
func TestARunStateThatVanishesWhileOpeningIsAnError(t *testing.T) {
	api := &hookedAPI{
		getItem: func(context.Context, *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{}, nil
		},
		putItem: func(context.Context, *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
			return nil, &types.ConditionalCheckFailedException{Message: aws.String("the item exists")}
		},
	}
	run, err := (&runstate.Store{Client: api, Table: "orders-run-state"}).Current(context.Background())
	if err == nil || !strings.Contains(err.Error(), "vanished") || run.ID != "" {
		t.Fatalf("run %+v, error %v", run, err)
	}
}

// Rotations that keep losing the race give up after 20 reads, with an
// error EventBridge retries, instead of spinning in the function.
func TestRotationGivesUpWhenContendedTwentyTimes(t *testing.T) {
	tbl := runstatetest.New(t)
	updates := 0
	api := &hookedAPI{API: tbl.Client}
	api.updateItem = func(context.Context, *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		updates++
		if updates > 25 {
			return nil, errors.New("test: the rotation did not stop retrying")
		}
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("another rotation won")}
	}
	store := &runstate.Store{Client: api, Table: tbl.Name}
	first := runstatetest.Current(t, store)
	_, err := store.Rotate(context.Background(), "event-1")
	if err == nil || !strings.Contains(err.Error(), "still contended after 20 attempts") || updates != 20 {
		t.Fatalf("after %d contended updates: %v", updates, err)
	}
	if cur, _ := tbl.Store().Current(context.Background()); cur.ID != first.ID {
		t.Fatalf("a contended rotation changed the run to %s", cur.ID)
	}
}

// The item remembers the last RecentEvents rotating events: a redelivery
// of one of them changes nothing, an older one rotates again.
func TestRotationsRememberTheLastHundredEvents(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	for i := 0; i <= runstate.RecentEvents; i++ {
		if _, err := store.Rotate(ctx, fmt.Sprintf("event-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if dup, err := store.Rotate(ctx, "event-1"); err != nil || !dup.Duplicate {
		t.Fatalf("redelivery of the oldest remembered event: %+v, %v", dup, err)
	}
	if rot, err := store.Rotate(ctx, "event-0"); err != nil || rot.Duplicate || rot.Closed == "" {
		t.Fatalf("redelivery of a forgotten event: %+v, %v", rot, err)
	}
	if dup, err := store.Rotate(ctx, "event-0"); err != nil || !dup.Duplicate {
		t.Fatalf("event-0's second redelivery: %+v, %v", dup, err)
	}
}

// Every rotation leaves a record of the run it closed, chained to the run
// before it; the open run has none (the landing audit counts only runs with
// a record).
func TestRotationRecordsTheClosedRun(t *testing.T) {
	ctx := context.Background()
	store := runstatetest.New(t).Store()
	now := time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC)
	store.Now = func() time.Time { return now }
	first := runstatetest.Current(t, store)
	if _, found, err := store.Closed(ctx, first.ID); err != nil || found {
		t.Fatalf("the open run has a closed record: %v, %v", found, err)
	}
	now = now.Add(time.Hour)
	r1, err := store.Rotate(ctx, "event-1")
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	r2, err := store.Rotate(ctx, "event-2")
	if err != nil {
		t.Fatal(err)
	}
	c1, found, err := store.Closed(ctx, first.ID)
	if err != nil || !found {
		t.Fatalf("no record of the first closed run: %v", err)
	}
	if c1.OpenedAt != first.OpenedAt || c1.ClosedAt != "2026-11-28T02:00:00Z" || c1.ClosedBy != "event-1" || c1.Next != r1.Opened || c1.Previous != "" {
		t.Fatalf("first closed run: %+v", c1)
	}
	c2, found, _ := store.Closed(ctx, r2.Closed)
	if !found || c2.Previous != first.ID || c2.OpenedAt != "2026-11-28T02:00:00Z" || c2.ClosedAt != "2026-11-28T03:00:00Z" || c2.Next != r2.Opened {
		t.Fatalf("second closed run: %+v", c2)
	}
	if _, found, _ := store.Closed(ctx, r2.Opened); found {
		t.Fatal("the run opened last has a closed record")
	}
}

// A rotation whose record write was lost (the function crashed after the
// update) writes it when EventBridge redelivers the event; a record the
// landing audit already marked counted is never overwritten.
func TestRedeliveredEventWritesAMissingClosedRecord(t *testing.T) {
	ctx := context.Background()
	tbl := runstatetest.New(t)
	store := tbl.Store()
	first, _ := store.Current(ctx)
	rot, err := store.Rotate(ctx, "event-1")
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]types.AttributeValue{runstate.PartitionKey: &types.AttributeValueMemberS{Value: runstate.ClosedKeyPrefix + first.ID}}
	if _, err := tbl.Client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tbl.Name), Key: key}); err != nil {
		t.Fatal(err)
	}
	if dup, err := store.Rotate(ctx, "event-1"); err != nil || !dup.Duplicate {
		t.Fatalf("redelivery: %+v, %v", dup, err)
	}
	c, found, _ := store.Closed(ctx, first.ID)
	if !found || c.Next != rot.Opened || c.ClosedBy != "event-1" {
		t.Fatalf("record after redelivery: %+v %v", c, found)
	}
	if _, err := tbl.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(tbl.Name), Key: key,
		UpdateExpression:          aws.String("SET " + runstate.CountedAttr + " = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberS{Value: "2026-11-28T02:00:00Z"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Rotate(ctx, "event-1"); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := store.Closed(ctx, first.ID); c.CountedAt == "" {
		t.Fatal("a redelivered event overwrote the counted mark")
	}
}
