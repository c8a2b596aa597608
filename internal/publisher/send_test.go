package publisher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// scriptedKinesis answers every PutRecords call with answer, and records
// what each call carried and how long it was allowed to run.
type scriptedKinesis struct {
	mu sync.Mutex
	// keys are the partition keys of every call, in call order.
	keys      [][]string
	inputs    []*kinesis.PutRecordsInput
	deadlines []time.Time
	began     []time.Time
	answer    func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
	describe  func(in *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error)
}

func (k *scriptedKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	k.mu.Lock()
	call := len(k.keys)
	var keys []string
	for _, e := range in.Records {
		keys = append(keys, aws.ToString(e.PartitionKey))
	}
	k.keys = append(k.keys, keys)
	k.inputs = append(k.inputs, in)
	deadline, _ := ctx.Deadline()
	k.deadlines = append(k.deadlines, deadline)
	k.began = append(k.began, time.Now())
	k.mu.Unlock()
	if k.answer == nil {
		return acceptAll(call, in)
	}
	return k.answer(call, in)
}

func (k *scriptedKinesis) DescribeStreamSummary(_ context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	return k.describe(in)
}

func (k *scriptedKinesis) calls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys)
}

// acceptAll acknowledges every entry on shard 0, with sequence numbers
// that grow from call to call.
func acceptAll(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
	out := &kinesis.PutRecordsOutput{}
	for i := range in.Records {
		out.Records = append(out.Records, types.PutRecordsResultEntry{
			ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String(fmt.Sprint(1000*(call+1) + i)),
		})
	}
	return out, nil
}

func records(keys ...string) []Record {
	out := make([]Record, len(keys))
	for i, k := range keys {
		out[i] = Record{Data: []byte(`{"order_id":"` + k + `"}` + "\n"), PartitionKey: k, Products: i + 1}
	}
	return out
}

// boundedCtx is a caller's context that only keeps a Send without bounds
// from stalling the test.
func boundedCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func throttled(seq string) types.PutRecordsResultEntry {
	if seq != "" {
		return types.PutRecordsResultEntry{ShardId: aws.String("shardId-000000000001"), SequenceNumber: aws.String(seq)}
	}
	return types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard")}
}

// Only the entries a call answered as failed are sent again; the
// acknowledged ones are counted once, with their shard's range.
func TestSenderResendsOnlyTheFailedEntries(t *testing.T) {
	k := &scriptedKinesis{answer: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		switch call {
		case 0: // a and c land, b is throttled
			return &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{
				{ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String("100")}, throttled(""),
				{ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String("99")},
			}}, nil
		default:
			return &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{throttled("7")}}, nil
		}
	}}
	var seen []Acks
	var calls []int
	s := &Sender{Client: k, Stream: "orders", Backoff: Backoff{Base: time.Millisecond, Max: time.Millisecond},
		OnAck: func(a Acks) { seen = append(seen, a) }, OnCall: func(n int) { calls = append(calls, n) }}
	batch := records("a", "b", "c")
	if err := s.Send(boundedCtx(t, 5*time.Second), batch); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(k.keys); got != "[[a b c] [b]]" {
		t.Fatalf("calls carried %s, want [[a b c] [b]]", got)
	}
	if fmt.Sprint(calls) != "[3 1]" {
		t.Errorf("OnCall saw %v, want [3 1]", calls)
	}
	a := s.Acks()
	var bytes int64
	for _, r := range batch {
		bytes += int64(len(r.Data))
	}
	if a.Records != 3 || a.Products != 6 || a.Bytes != bytes || a.Retries != 1 {
		t.Errorf("acks %+v, want 3 records, 6 products, %d bytes, 1 retry", a, bytes)
	}
	// First and Last follow the acknowledgement order; a shard's range
	// follows the sequence numbers, whose lengths differ.
	if a.First != "100" || a.Last != "7" {
		t.Errorf("first %s, last %s; want 100 and 7", a.First, a.Last)
	}
	if sr := a.Shards["shardId-000000000000"]; sr == nil || *sr != (ShardRange{ShardID: "shardId-000000000000", First: "99", Last: "100", Records: 2}) {
		t.Errorf("shard 0 range %+v", sr)
	}
	if sr := a.Shards["shardId-000000000001"]; sr == nil || *sr != (ShardRange{ShardID: "shardId-000000000001", First: "7", Last: "7", Records: 1}) {
		t.Errorf("shard 1 range %+v", sr)
	}
	// Progress sees every call's acknowledgements and the retry before it is made.
	if len(seen) != 3 || seen[0].Records != 2 || seen[0].Retries != 0 || seen[1].Retries != 1 || seen[2].Records != 3 {
		t.Errorf("OnAck saw %+v", seen)
	}
	if !strings.Contains(seen[1].LastError, "ProvisionedThroughputExceededException: Rate exceeded for shard") {
		t.Errorf("last error %q does not name the entry's error", seen[1].LastError)
	}
}

// An answer that does not match the entries one to one acknowledges
// nothing: every entry is sent again.
func TestSenderCountsNothingFromAnAnswerOfTheWrongLength(t *testing.T) {
	k := &scriptedKinesis{answer: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		if call == 0 {
			return &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{throttled("1")}}, nil
		}
		return acceptAll(call, in)
	}}
	var lastErrors []string
	s := &Sender{Client: k, Stream: "orders", OnAck: func(a Acks) { lastErrors = append(lastErrors, a.LastError) }}
	if err := s.Send(boundedCtx(t, 5*time.Second), records("a", "b")); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(k.keys); got != "[[a b] [a b]]" {
		t.Fatalf("calls carried %s", got)
	}
	if a := s.Acks(); a.Records != 2 || a.Retries != 2 || len(a.Shards) != 1 {
		t.Errorf("acks %+v", a)
	}
	if len(lastErrors) == 0 || lastErrors[0] != "PutRecords answered 1 entries for 2 sent" {
		t.Errorf("last errors %q", lastErrors)
	}
}

// A call error no retry can fix ends the batch at once; throttling, a
// service failure or a broken connection are tried again.
func TestSenderRetriesOnlyErrorsARetryCanFix(t *testing.T) {
	cases := []struct {
		err   error
		retry bool
	}{
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}, false},
		{&smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no stream"}, false},
		{&smithy.GenericAPIError{Code: "ExpiredTokenException", Message: "expired"}, false},
		{&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}, true},
		{&smithy.GenericAPIError{Code: "InternalFailure", Message: "oops"}, true},
		{errors.New("read tcp: connection reset by peer"), true},
		{&smithy.OperationError{ServiceID: "Kinesis", OperationName: "PutRecords", Err: func() error {
			e := smithy.InvalidParamsError{Context: "PutRecordsInput"}
			e.Add(smithy.NewErrParamRequired("Records"))
			return e
		}()}, false},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			k := &scriptedKinesis{answer: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
				if call == 0 {
					return nil, c.err
				}
				return acceptAll(call, in)
			}}
			s := &Sender{Client: k, Stream: "orders", Backoff: Backoff{Base: time.Millisecond, Max: time.Millisecond}}
			err := s.Send(boundedCtx(t, 5*time.Second), records("a", "b"))
			if c.retry {
				if err != nil || k.calls() != 2 || s.Acks().Records != 2 || s.Acks().Retries != 2 {
					t.Fatalf("after %d calls: %v, acks %+v", k.calls(), err, s.Acks())
				}
				return
			}
			if !errors.Is(err, c.err) || k.calls() != 1 || s.Acks().Records != 0 {
				t.Fatalf("after %d calls: %v", k.calls(), err)
			}
			if s.Acks().LastError != c.err.Error() {
				t.Errorf("last error %q", s.Acks().LastError)
			}
		})
	}
}

// The sender gives up as soon as the next wait would end past the
// deadline, naming what is left and why; without a deadline it keeps on.
func TestSenderGivesUpWhenTheNextWaitPassesTheDeadline(t *testing.T) {
	refuse := func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{throttled(""), throttled("")}}, nil
	}
	k := &scriptedKinesis{answer: refuse}
	// Every wait is almost surely longer than the time left.
	s := &Sender{Client: k, Stream: "orders", Backoff: Backoff{Base: time.Hour, Max: time.Hour}, Deadline: time.Now().Add(time.Second)}
	began := time.Now()
	err := s.Send(boundedCtx(t, 5*time.Second), records("a", "b"))
	if !errors.Is(err, ErrDeadline) || !strings.Contains(err.Error(), "with 2 records of this batch unacknowledged (last error: ProvisionedThroughputExceededException") {
		t.Fatalf("Send: %v", err)
	}
	if k.calls() != 1 || time.Since(began) > 500*time.Millisecond {
		t.Errorf("%d calls in %v: the sender waited instead of giving up", k.calls(), time.Since(began))
	}

	k = &scriptedKinesis{answer: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		if call < 3 {
			return refuse(call, in)
		}
		return acceptAll(call, in)
	}}
	s = &Sender{Client: k, Stream: "orders", Backoff: Backoff{Base: time.Millisecond, Max: 2 * time.Millisecond}}
	if err := s.Send(boundedCtx(t, 5*time.Second), records("a", "b")); err != nil || k.calls() != 4 {
		t.Fatalf("without a deadline: %v after %d calls", err, k.calls())
	}
}

// Every call is bounded by the nearer of AttemptTimeout and Deadline.
func TestEachCallEndsAtTheNearerOfAttemptTimeoutAndDeadline(t *testing.T) {
	soon, late := 30*time.Second, time.Hour
	cases := []struct {
		name           string
		attemptTimeout time.Duration
		deadline       time.Duration // from now; 0 is none
		want           time.Duration // from now; 0 is none
	}{
		{"neither", 0, 0, 0},
		{"deadline only", 0, soon, soon},
		{"attempt timeout only", soon, 0, soon},
		{"deadline first", late, soon, soon},
		{"attempt timeout first", soon, late, soon},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := &scriptedKinesis{}
			s := &Sender{Client: k, Stream: "orders", AttemptTimeout: c.attemptTimeout}
			now := time.Now()
			if c.deadline != 0 {
				s.Deadline = now.Add(c.deadline)
			}
			// The scripted stream answers at once: the caller needs no bound.
			if err := s.Send(context.Background(), records("a")); err != nil {
				t.Fatal(err)
			}
			got := k.deadlines[0]
			if c.want == 0 {
				if !got.IsZero() {
					t.Fatalf("call bounded at %v from now, want no bound", got.Sub(now))
				}
				return
			}
			if d := got.Sub(now.Add(c.want)); d < -time.Second || d > time.Second {
				t.Fatalf("call bounded at %v from now, want %v", got.Sub(now), c.want)
			}
		})
	}
}

// A stream given by ARN is addressed by ARN, a name by name.
func TestSenderAddressesTheStreamByNameOrARN(t *testing.T) {
	arn := "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	for _, stream := range []string{"orders", arn} {
		k := &scriptedKinesis{}
		s := &Sender{Client: k, Stream: stream}
		if err := s.Send(boundedCtx(t, 5*time.Second), records("a")); err != nil {
			t.Fatal(err)
		}
		in := k.inputs[0]
		if stream == arn && (aws.ToString(in.StreamARN) != arn || in.StreamName != nil) {
			t.Errorf("ARN sent as name %q, ARN %q", aws.ToString(in.StreamName), aws.ToString(in.StreamARN))
		}
		if stream != arn && (aws.ToString(in.StreamName) != stream || in.StreamARN != nil) {
			t.Errorf("name sent as name %q, ARN %q", aws.ToString(in.StreamName), aws.ToString(in.StreamARN))
		}
	}
}

// The rate spaces the calls: the second call of 5 records at 20 records a
// second waits for the first call's quarter second, the third for half a
// second; without a rate nothing waits.
func TestSenderKeepsTheRunUnderTheRate(t *testing.T) {
	for _, rate := range []float64{20, 0} {
		k := &scriptedKinesis{}
		s := &Sender{Client: k, Stream: "orders", Rate: rate}
		ctx := boundedCtx(t, 5*time.Second)
		for i := 0; i < 3; i++ {
			if err := s.Send(ctx, records("a", "b", "c", "d", "e")); err != nil {
				t.Fatalf("rate %v: %v", rate, err)
			}
		}
		second, third := k.began[1].Sub(k.began[0]), k.began[2].Sub(k.began[0])
		if rate == 0 {
			if third > 200*time.Millisecond {
				t.Errorf("unlimited calls took %v", third)
			}
			continue
		}
		if second < 240*time.Millisecond || third < 490*time.Millisecond || third > 1500*time.Millisecond {
			t.Errorf("calls at 0, %v, %v; want 0, 250ms, 500ms", second, third)
		}
	}
}

func TestCheckStreamAcceptsOnlyAStreamThatTakesRecords(t *testing.T) {
	arn := "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
	cases := []struct {
		stream string
		status types.StreamStatus
		err    error
		want   string // error text; "" is accepted
	}{
		{"orders", types.StreamStatusActive, nil, ""},
		{arn, types.StreamStatusActive, nil, ""},
		{"orders", types.StreamStatusUpdating, nil, ""},
		{"orders", types.StreamStatusCreating, nil, "stream orders is CREATING, not ACTIVE"},
		{"orders", types.StreamStatusDeleting, nil, "stream orders is DELETING, not ACTIVE"},
		{"orders", "", &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "no stream"}, "stream orders: api error ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.stream+" "+string(c.status), func(t *testing.T) {
			var asked *kinesis.DescribeStreamSummaryInput
			k := &scriptedKinesis{describe: func(in *kinesis.DescribeStreamSummaryInput) (*kinesis.DescribeStreamSummaryOutput, error) {
				asked = in
				if c.err != nil {
					return nil, c.err
				}
				return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
					StreamStatus: c.status, OpenShardCount: aws.Int32(4)}}, nil
			}}
			shards, err := CheckStream(context.Background(), k, c.stream)
			if c.want == "" {
				if err != nil || shards != 4 {
					t.Fatalf("%d shards, %v", shards, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.want) || shards != 0 {
				t.Fatalf("%d shards, error %v, want %q", shards, err, c.want)
			}
			if byARN := c.stream == arn; byARN != (asked.StreamARN != nil) || byARN == (asked.StreamName != nil) {
				t.Errorf("asked by name %v, by ARN %v", asked.StreamName, asked.StreamARN)
			}
		})
	}
}

func TestSequenceNumbersOrderAsNumbers(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{
		{"9", "10", true},
		{"10", "9", false},
		{"10", "11", true},
		{"11", "10", false},
		{"10", "10", false},
		{"49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692540925702759324208523137515618", true},
	} {
		if got := lessSeq(c.a, c.b); got != c.less {
			t.Errorf("lessSeq(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

// A zero Backoff retries at once.
func TestZeroBackoffDoesNotWait(t *testing.T) {
	for n := 0; n < 5; n++ {
		if d := (Backoff{}).Delay(n); d != 0 {
			t.Fatalf("attempt %d waited %v", n, d)
		}
	}
}

// The ceiling is min(Max, Base·2ⁿ) for every attempt: it keeps doubling
// from a tiny base however many attempts that takes, and an attempt number
// whose doubling would overflow a Duration waits up to Max, never zero.
func TestBackoffCeilingHoldsForEveryAttemptNumber(t *testing.T) {
	b := Backoff{Base: time.Nanosecond, Max: time.Hour}
	// widest is the longest of 200 waits, each checked against ceiling.
	widest := func(n int, ceiling time.Duration) time.Duration {
		t.Helper()
		var widest time.Duration
		for range 200 {
			d := b.Delay(n)
			if d < 0 || d >= ceiling {
				t.Fatalf("attempt %d waited %v, ceiling %v", n, d, ceiling)
			}
			widest = max(widest, d)
		}
		return widest
	}
	// 2⁴⁰ ns is about 18 minutes, under the hour of Max.
	if w := widest(40, 1<<40); w < (1<<40)/2 {
		t.Errorf("attempt 40 never waited more than %v of its %v", w, time.Duration(1<<40))
	}
	// 1ns<<63 would be negative, and <<64 zero.
	for _, n := range []int{62, 63, 64, 1000} {
		if w := widest(n, b.Max); w < b.Max/2 {
			t.Errorf("attempt %d never waited more than %v of Max %v", n, w, b.Max)
		}
	}
}

// A caller that gives up while entries are pending gets no further call,
// even when the backoff has no wait to cut short. (Waking from a zero
// wait races the caller's context; the sender must not leave the choice
// to that race, so the scenario is repeated.)
func TestSenderStopsRetryingOnceTheCallerCancels(t *testing.T) {
	for i := range 64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		k := &scriptedKinesis{answer: func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
			cancel() // the caller gives up while the call is answered
			return &kinesis.PutRecordsOutput{Records: []types.PutRecordsResultEntry{throttled("")}}, nil
		}}
		s := &Sender{Client: k, Stream: "orders"} // zero Backoff: no wait between attempts
		err := s.Send(ctx, records("a"))
		cancel()
		if !errors.Is(err, context.Canceled) || k.calls() != 1 {
			t.Fatalf("run %d: %v after %d calls, want context.Canceled after 1", i, err, k.calls())
		}
	}
}
