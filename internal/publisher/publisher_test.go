package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func newGen(t testing.TB, seed uint64, minP, maxP int) *Generator {
	t.Helper()
	g, err := NewGenerator(GeneratorOptions{Seed: seed, MinProducts: minP, MaxProducts: maxP, Start: time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratedOrdersAreValidRealisticAndReproducible(t *testing.T) {
	a, b, c := newGen(t, 1, 2, 3), newGen(t, 1, 2, 3), newGen(t, 2, 2, 3)
	same := 0
	prev := ""
	for i := 0; i < 2000; i++ {
		oa, ob, oc := a.Next(), b.Next(), c.Next()
		if err := Validate(&oa); err != nil {
			t.Fatalf("order %d invalid: %v", i, err)
		}
		ja, _ := json.Marshal(oa)
		jb, _ := json.Marshal(ob)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("same seed gave different orders:\n%s\n%s", ja, jb)
		}
		if oa.OrderID == oc.OrderID {
			same++
		}
		if !uuidV4.MatchString(oa.OrderID) {
			t.Fatalf("order id %q is not a UUID v4", oa.OrderID)
		}
		if _, err := time.Parse(TimestampLayout, oa.OrderTimestamp); err != nil || oa.OrderTimestamp < prev {
			t.Fatalf("timestamp %q: not RFC 3339 UTC with ms, or before %q", oa.OrderTimestamp, prev)
		}
		prev = oa.OrderTimestamp
		if n := len(oa.Products); n < 2 || n > 3 {
			t.Fatalf("%d products, want 2..3", n)
		}
		for _, p := range oa.Products {
			if s := fmt.Sprint(p.UnitPrice); strings.Contains(s, ".") && len(s)-strings.Index(s, ".")-1 > 2 {
				t.Fatalf("price %s has more than two decimals", s)
			}
		}
	}
	if same > 0 {
		t.Fatalf("different seeds shared %d order ids", same)
	}
	if _, err := NewGenerator(GeneratorOptions{MinProducts: 3, MaxProducts: 2}); err == nil {
		t.Fatal("min > max accepted")
	}
}

// Every column of the landing table is a field of the order, in order.
func TestOrderJSONHasExactlyTheLandingColumns(t *testing.T) {
	o := newGen(t, 9, 1, 1).Next()
	raw, _ := json.Marshal(o)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token()
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	var want []string
	for _, c := range orders.LandingColumns {
		if c.Name != orders.ProcessingTimestampField && c.Name != orders.RunIDField {
			want = append(want, c.Name)
		}
	}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("order fields %v, landing columns %v", keys, want)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	for field, mutate := range map[string]func(*orders.Order){
		"order_id":         func(o *orders.Order) { o.OrderID = "" },
		"order_timestamp":  func(o *orders.Order) { o.OrderTimestamp = "28/11/2026 08:00" },
		"in UTC":           func(o *orders.Order) { o.OrderTimestamp = "2026-11-28T09:00:00.000+01:00" },
		"customer_id":      func(o *orders.Order) { o.CustomerID = "" },
		"currency":         func(o *orders.Order) { o.Currency = "euro" },
		"shipping_country": func(o *orders.Order) { o.ShippingCountry = "DEU" },
		"products":         func(o *orders.Order) { o.Products = nil },
		"quantity":         func(o *orders.Order) { o.Products[0].Quantity = 0 },
		"unit_price":       func(o *orders.Order) { o.Products[0].UnitPrice = 1.005 },
		"product_code":     func(o *orders.Order) { o.Products[0].ProductCode = "" },
	} {
		o := newGen(t, 5, 1, 2).Next()
		mutate(&o)
		if err := Validate(&o); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
}

func TestReadOrdersRejectsUnknownFieldsAndNamesTheLine(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder()
	g := newGen(t, 4, 1, 3)
	for i := 0; i < 3; i++ {
		o := g.Next()
		r, _ := enc.Encode(&o)
		buf.Write(r.Data)
	}
	list, err := ReadOrders(bytes.NewReader(buf.Bytes()))
	if err != nil || len(list) != 3 {
		t.Fatalf("read %d orders, err %v", len(list), err)
	}
	for input, want := range map[string]string{
		buf.String() + `{"order_id":"x","extra":1}` + "\n": `line 4: json: unknown field "extra"`,
		"\n{not json\n":          "line 2:",
		buf.String() + "{} {}\n": "line 4: more than one JSON value",
	} {
		if _, err := ReadOrders(strings.NewReader(input)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
}

func record(size int) Record {
	return Record{Data: bytes.Repeat([]byte("x"), size-36), PartitionKey: strings.Repeat("k", 36)}
}

func TestBatchesStayWithinPutRecordsLimits(t *testing.T) {
	var b Batch
	for b.Fits(record(100)) {
		b.Add(record(100))
	}
	if len(b.Records) != MaxBatchRecords {
		t.Fatalf("batch of small records closed at %d, want %d", len(b.Records), MaxBatchRecords)
	}
	b.Reset()
	for b.Fits(record(600 << 10)) {
		b.Add(record(600 << 10))
	}
	if b.Bytes > MaxBatchBytes || b.Bytes+(600<<10) <= MaxBatchBytes {
		t.Fatalf("batch of 600 KiB records closed at %d bytes (%d records)", b.Bytes, len(b.Records))
	}
	if !(&Batch{Bytes: MaxBatchBytes - 100}).Fits(record(100)) {
		t.Fatal("a record that exactly fills the batch was refused")
	}
	o := newGen(t, 1, 1, 1).Next()
	o.Products[0].ProductName = strings.Repeat("n", MaxRecordBytes)
	if _, err := NewEncoder().Encode(&o); err == nil || !strings.Contains(err.Error(), "record limit") {
		t.Fatalf("oversized record: %v", err)
	}
}

func TestBackoffGrowsWithJitterUpToTheCap(t *testing.T) {
	b := Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}
	for n, ceiling := range []time.Duration{10, 20, 40, 80, 160, 200, 200} {
		var max time.Duration
		for i := 0; i < 500; i++ {
			d := b.Delay(n)
			if d < 0 || d >= ceiling*time.Millisecond {
				t.Fatalf("attempt %d waited %v, ceiling %v", n, d, ceiling*time.Millisecond)
			}
			max = maxDur(max, d)
		}
		if max < ceiling*time.Millisecond/2 {
			t.Fatalf("attempt %d never waited more than %v: no jitter range", n, max)
		}
	}
	if d := b.Delay(200); d >= b.Max {
		t.Fatalf("attempt 200 waited %v", d)
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestDryRunSendsNothingAndReportsTheBatches(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Run(t.Context(), []string{"--dry-run", "--count", "1200", "--seed", "1", "--batch-id", "dry"}, nil, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "1200 records") || !strings.Contains(out.String(), "in 3 PutRecords calls") || !strings.Contains(out.String(), "batch-completion/dry.json") {
		t.Fatalf("dry run said %q", out.String())
	}
	out.Reset()
	if code := Run(t.Context(), []string{"--dry-run", "--count", "250", "--rate", "100"}, nil, &out, &errOut); code != ExitOK || !strings.Contains(out.String(), "in 3 PutRecords calls") {
		t.Fatalf("rate-limited dry run: exit %d, %q", code, out.String())
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Setenv(EnvStream, "")
	for _, args := range [][]string{
		{"--bucket", "b"},
		{"--stream", "s", "--bucket", "b", "--count", "0"},
		{"--stream", "s", "--bucket", "b", "--batch-id", "a/b"},
		{"--dry-run", "--min-products", "0"},
	} {
		var out, errOut bytes.Buffer
		if code := Run(t.Context(), args, nil, &out, &errOut); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errOut.String())
		}
	}
}

// BenchmarkEncodeAndBatch is the publisher's CPU path per record: JSON
// encoding and packing into PutRecords batches (orders are generated
// beforehand, so generation is not measured).
func BenchmarkEncodeAndBatch(b *testing.B) {
	g := newGen(b, 1, 1, 5)
	list := make([]orders.Order, 10000)
	for i := range list {
		list[i] = g.Next()
	}
	enc := NewEncoder()
	var batch Batch
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := enc.Encode(&list[i%len(list)])
		if err != nil {
			b.Fatal(err)
		}
		if !batch.Fits(r) {
			batch.Reset()
		}
		batch.Add(r)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// silentKinesis answers nothing: every call waits until its context ends.
type silentKinesis struct {
	mu    sync.Mutex
	calls int
}

func (k *silentKinesis) PutRecords(ctx context.Context, _ *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	k.mu.Lock()
	k.calls++
	k.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}

func (k *silentKinesis) DescribeStreamSummary(ctx context.Context, _ *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// Each call is cut at AttemptTimeout and tried again until the deadline,
// and none runs past the deadline.
func TestSenderBoundsEveryCallAndGivesUpAtTheDeadline(t *testing.T) {
	k := &silentKinesis{}
	deadline := time.Now().Add(1200 * time.Millisecond)
	s := &Sender{Client: k, Stream: "orders", Backoff: Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond},
		AttemptTimeout: 250 * time.Millisecond, Deadline: deadline}
	// The test's own deadline only keeps a Send without bounds from hanging.
	hang, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	err := s.Send(hang, []Record{{Data: []byte(`{}`), PartitionKey: "k"}})
	if over := time.Since(deadline); over > 200*time.Millisecond {
		t.Errorf("Send returned %v after its deadline", over)
	}
	if !errors.Is(err, ErrDeadline) || !strings.Contains(err.Error(), "PutRecords of 1 records: no answer within") {
		t.Fatalf("Send: %v", err)
	}
	if k.calls < 3 || k.calls > 5 {
		t.Errorf("%d calls in 1.2 s of 250 ms attempts, want 4 or so", k.calls)
	}

	// The caller's own cancellation is not retried.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	k.calls = 0
	s.Deadline = time.Now().Add(time.Minute)
	if err := s.Send(ctx, []Record{{Data: []byte(`{}`), PartitionKey: "k"}}); !errors.Is(err, context.DeadlineExceeded) || k.calls != 1 {
		t.Fatalf("Send after the caller's deadline: %v after %d calls", err, k.calls)
	}
}
