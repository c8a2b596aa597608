package publisher

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// KinesisAPI is the part of the Kinesis client the publisher uses.
type KinesisAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, optFns ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// CheckStream fails unless the stream exists and accepts records, so a
// wrong name or missing permission stops the batch before anything is sent.
func CheckStream(ctx context.Context, client KinesisAPI, stream string) (openShards int, err error) {
	in := &kinesis.DescribeStreamSummaryInput{}
	if isARN(stream) {
		in.StreamARN = aws.String(stream)
	} else {
		in.StreamName = aws.String(stream)
	}
	out, err := client.DescribeStreamSummary(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	sum := out.StreamDescriptionSummary
	if sum.StreamStatus != types.StreamStatusActive && sum.StreamStatus != types.StreamStatusUpdating {
		return 0, fmt.Errorf("stream %s is %s, not ACTIVE", stream, sum.StreamStatus)
	}
	return int(aws.ToInt32(sum.OpenShardCount)), nil
}

// Backoff is exponential with full jitter: attempt n waits a random time
// in [0, min(Max, Base·2ⁿ)), which spreads retries of many producers.
type Backoff struct {
	Base, Max time.Duration
}

// Delay is the wait before retry attempt n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	ceiling := b.Max
	// Base<<n is Base·2ⁿ while the shift leaves the sign bit clear; past
	// that, Base·2ⁿ exceeds every Duration and so Max.
	if n < bits.LeadingZeros64(uint64(b.Base)) {
		ceiling = min(b.Max, b.Base<<n)
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// Sender puts batches on the stream and keeps retrying the entries that
// come back failed until every one is acknowledged or the deadline passes.
type Sender struct {
	Client KinesisAPI
	// Stream is the stream's name or ARN.
	Stream  string
	Backoff Backoff
	// Deadline ends the retries, and no call runs past it; zero means no
	// deadline.
	Deadline time.Time
	// AttemptTimeout bounds each PutRecords call, SDK retries included;
	// zero means only Deadline does. A stream that stops answering would
	// otherwise hold a call forever, since the SDK client has no timeout.
	AttemptTimeout time.Duration
	// Rate caps records per second over the whole run; 0 is unlimited.
	Rate float64

	// OnAck sees the acknowledgements after every call, for progress.
	OnAck func(Acks)
	// OnCall sees every PutRecords call before it is made, for progress.
	OnCall func(records int)

	acks      Acks
	rateStart time.Time
	attempted int64
}

// Acks is what the stream has acknowledged so far.
type Acks struct {
	Records, Products, Bytes int64
	// Retries counts entries sent again after a failure.
	Retries int64
	// First and Last are the sequence numbers of the first and the last
	// acknowledged entry, in acknowledgement order.
	First, Last string
	// Shards is the acknowledged range of every shard written to.
	Shards map[string]*ShardRange
	// LastError is the most recent failure, for the summary.
	LastError string
}

// ShardRange is the first and last sequence number acknowledged on a shard.
type ShardRange struct {
	ShardID string `json:"shard_id"`
	First   string `json:"first_sequence_number"`
	Last    string `json:"last_sequence_number"`
	Records int64  `json:"record_count"`
}

// ErrDeadline means some records were still unacknowledged when the deadline passed.
var ErrDeadline = errors.New("retry deadline passed")

// errNoAnswer is a call cut off by the sender's own timeout. Unlike the
// caller's context ending, it is worth another attempt.
var errNoAnswer = errors.New("no answer")

// Acks returns what has been acknowledged so far.
func (s *Sender) Acks() Acks { return s.acks }

// Send puts one batch and returns once all of it is acknowledged, or with
// the reason some of it never was.
func (s *Sender) Send(ctx context.Context, batch []Record) error {
	pending := batch
	for attempt := 0; ; attempt++ {
		if err := s.pace(ctx, len(pending)); err != nil {
			return err
		}
		failed, callErr := s.put(ctx, pending)
		if callErr != nil && !retryable(callErr) {
			return callErr
		}
		if callErr == nil && len(failed) == 0 {
			return nil
		}
		pending = failed
		s.acks.Retries += int64(len(pending))
		if s.OnAck != nil {
			s.OnAck(s.acks)
		}
		wait := s.Backoff.Delay(attempt)
		if !s.Deadline.IsZero() && time.Now().Add(wait).After(s.Deadline) {
			return fmt.Errorf("%w with %d records of this batch unacknowledged (last error: %s)", ErrDeadline, len(pending), s.acks.LastError)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// put makes one PutRecords call and returns the entries that failed. A
// failed call fails all entries; a non-retryable call error is returned.
func (s *Sender) put(ctx context.Context, pending []Record) ([]Record, error) {
	entries := make([]types.PutRecordsRequestEntry, len(pending))
	for i, r := range pending {
		entries[i] = types.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
	}
	in := &kinesis.PutRecordsInput{Records: entries}
	if isARN(s.Stream) {
		in.StreamARN = aws.String(s.Stream)
	} else {
		in.StreamName = aws.String(s.Stream)
	}
	callCtx, cancel := s.callContext(ctx)
	defer cancel()
	if s.OnCall != nil {
		s.OnCall(len(pending))
	}
	began := time.Now()
	out, err := s.Client.PutRecords(callCtx, in)
	if err != nil {
		if ctx.Err() == nil && callCtx.Err() != nil {
			err = fmt.Errorf("PutRecords of %d records: %w within %v", len(pending), errNoAnswer, time.Since(began).Round(100*time.Millisecond))
		}
		s.acks.LastError = err.Error()
		return pending, err
	}
	if len(out.Records) != len(pending) {
		// Without a one-to-one answer nothing can be counted as delivered.
		s.acks.LastError = fmt.Sprintf("PutRecords answered %d entries for %d sent", len(out.Records), len(pending))
		return pending, nil
	}
	var failed []Record
	for i, res := range out.Records {
		if res.ErrorCode != nil {
			failed = append(failed, pending[i])
			s.acks.LastError = aws.ToString(res.ErrorCode) + ": " + aws.ToString(res.ErrorMessage)
			continue
		}
		s.ack(pending[i], aws.ToString(res.ShardId), aws.ToString(res.SequenceNumber))
	}
	if s.OnAck != nil {
		s.OnAck(s.acks)
	}
	return failed, nil
}

// callContext is ctx bounded by AttemptTimeout and Deadline, whichever
// comes first.
func (s *Sender) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := s.Deadline
	if s.AttemptTimeout > 0 {
		if end := time.Now().Add(s.AttemptTimeout); deadline.IsZero() || end.Before(deadline) {
			deadline = end
		}
	}
	if deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, deadline)
}

func (s *Sender) ack(r Record, shard, seq string) {
	a := &s.acks
	a.Records++
	a.Products += int64(r.Products)
	a.Bytes += int64(len(r.Data))
	if a.First == "" {
		a.First = seq
	}
	a.Last = seq
	if a.Shards == nil {
		a.Shards = map[string]*ShardRange{}
	}
	sr := a.Shards[shard]
	if sr == nil {
		sr = &ShardRange{ShardID: shard, First: seq, Last: seq}
		a.Shards[shard] = sr
	}
	if lessSeq(seq, sr.First) {
		sr.First = seq
	}
	if lessSeq(sr.Last, seq) {
		sr.Last = seq
	}
	sr.Records++
}

// lessSeq orders sequence numbers, which are decimal strings of varying length.
// The shorter is the smaller; of equal lengths, the digits decide.
func lessSeq(a, b string) bool {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) < 0
}

// pace waits until sending n more records keeps the run under Rate.
func (s *Sender) pace(ctx context.Context, n int) error {
	if s.Rate <= 0 {
		return nil
	}
	if s.rateStart.IsZero() {
		s.rateStart = time.Now()
	}
	due := s.rateStart.Add(time.Duration(float64(s.attempted) / s.Rate * float64(time.Second)))
	s.attempted += int64(n)
	return sleep(ctx, time.Until(due))
}

// fatalCodes are errors no retry can fix.
var fatalCodes = map[string]bool{
	"ResourceNotFoundException": true, "AccessDeniedException": true, "ValidationException": true,
	"InvalidArgumentException": true, "KMSAccessDeniedException": true, "KMSDisabledException": true,
	"KMSInvalidStateException": true, "KMSNotFoundException": true, "KMSOptInRequired": true,
	"UnrecognizedClientException": true, "ExpiredTokenException": true, "InvalidSignatureException": true,
	"IncompleteSignature": true, "MissingAuthenticationToken": true,
}

func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return !fatalCodes[apiErr.ErrorCode()]
	}
	// The SDK refused the request before sending it (a missing stream name,
	// an empty batch): the same request is refused again.
	var invalid smithy.InvalidParamsError
	var invalidPtr *smithy.InvalidParamsError
	if errors.As(err, &invalid) || errors.As(err, &invalidPtr) {
		return false
	}
	return true // network errors and the like
}

func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
