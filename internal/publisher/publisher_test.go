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
	// The wait is shown to a tenth of a second, not to the nanosecond.
	if !regexp.MustCompile(`no answer within (\d00ms|\d+(\.\d)?s)\)`).MatchString(err.Error()) {
		t.Errorf("the wait is not rounded: %v", err)
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

func generatedSource(t *testing.T, total int) *source {
	t.Helper()
	g := newGen(t, 11, 1, 3)
	return &source{total: total, next: g.Next}
}

// publish hands every order of the source to send exactly once, in
// batches no larger than the limit, and stops at the first failed batch.
func TestPublishSendsEveryOrderOnceInBatchesWithinTheLimit(t *testing.T) {
	cases := []struct {
		total, limit int
		sizes        string
	}{
		{1, 0, "1"},
		{500, 0, "500"},
		{501, 0, "500,1"},
		{1200, 0, "500,500,200"},
		{250, 100, "100,100,50"},
		{250, 1000, "250"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d by %d", c.total, c.limit), func(t *testing.T) {
			var sizes []string
			seen := map[string]bool{}
			err := publish(generatedSource(t, c.total), c.limit, func(b *Batch) error {
				sizes = append(sizes, fmt.Sprint(len(b.Records)))
				for _, r := range b.Records {
					seen[r.PartitionKey] = true
				}
				if len(seen) > c.total {
					return fmt.Errorf("%d orders sent from a source of %d", len(seen), c.total)
				}
				return nil
			})
			if err != nil || strings.Join(sizes, ",") != c.sizes || len(seen) != c.total {
				t.Fatalf("batches %v of %d distinct orders, %v; want %s", sizes, len(seen), err, c.sizes)
			}
		})
	}
	calls := 0
	refused := errors.New("refused")
	if err := publish(generatedSource(t, 1200), 0, func(*Batch) error { calls++; return refused }); err != refused || calls != 1 {
		t.Fatalf("a failed batch: %v after %d batches", err, calls)
	}
}

// Without --seed every run gets its own seed, printed so the batch can be
// generated again; --seed is taken as given.
func TestTheSeedIsRandomUnlessGiven(t *testing.T) {
	seedOf := func(args ...string) string {
		var out, errOut bytes.Buffer
		args = append([]string{"--dry-run", "--count", "1"}, args...)
		if code := Run(t.Context(), args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		m := regexp.MustCompile(`--seed (\d+) `).FindStringSubmatch(errOut.String())
		if m == nil {
			t.Fatalf("%v: no seed printed in %q", args, errOut.String())
		}
		return m[1]
	}
	if a, b := seedOf("--max-products", "2"), seedOf("--max-products", "2"); a == b {
		t.Errorf("two runs without --seed both used seed %s", a)
	}
	if s := seedOf("--seed", "5", "--max-products", "2"); s != "5" {
		t.Errorf("--seed 5 used seed %s", s)
	}
}

// A dry run reports what a real run would send and where its completion
// object would go.
func TestDryRunCountsWhatItWouldSend(t *testing.T) {
	const start = "2026-11-28T08:00:00.000Z"
	var products, size int
	enc := NewEncoder()
	for _, o := range expectedOrders(t, 700, 3, start, 1, 5) {
		r, err := enc.Encode(&o)
		if err != nil {
			t.Fatal(err)
		}
		products += r.Products
		size += r.Size()
	}
	for _, c := range []struct {
		args  []string
		where string
	}{
		{[]string{"--bucket", "landing"}, "would write s3://landing/batch-completion/dry.json"},
		{nil, "would write s3://<bucket>/batch-completion/dry.json"},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"--dry-run", "--count", "700", "--seed", "3", "--start", start, "--batch-id", "dry"}, c.args...)
		if code := Run(t.Context(), args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		want := fmt.Sprintf("dry run: 700 records (%d products, %.2f MB) in 2 PutRecords calls; nothing sent\n%s\n", products, float64(size)/1e6, c.where)
		if out.String() != want {
			t.Errorf("dry run said\n%q, want\n%q", out.String(), want)
		}
	}
}

// Without a region from the flags or the environment nothing is sent.
func TestNoRegionIsAUsageError(t *testing.T) {
	for k, v := range map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	code := Run(t.Context(), []string{"--stream", "orders", "--bucket", "landing", "--count", "1"}, nil, &out, &errOut)
	if code != ExitUsage || !strings.Contains(errOut.String(), "no AWS region: set --region or AWS_REGION") || !strings.Contains(errOut.String(), "nothing was sent") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}

// Orders follow one another by up to two seconds, about one a second on
// average, like a steady shop.
func TestGeneratedOrdersFollowEachOtherByUpToTwoSeconds(t *testing.T) {
	g := newGen(t, 8, 1, 1)
	first, _ := time.Parse(TimestampLayout, g.Next().OrderTimestamp)
	prev := first
	for i := 0; i < 1000; i++ {
		at, err := time.Parse(TimestampLayout, g.Next().OrderTimestamp)
		if err != nil {
			t.Fatal(err)
		}
		if step := at.Sub(prev); step < 0 || step >= 2*time.Second {
			t.Fatalf("order %d came %v after the one before", i, step)
		}
		prev = at
	}
	if span := prev.Sub(first); span < 800*time.Second || span > 1200*time.Second {
		t.Fatalf("1000 orders spanned %v, want about 1000 s", span)
	}
}

// Every hex digit of an order id is random except the version (4) and
// the variant bits.
func TestGeneratedOrderIDsAreRandomInEveryDigit(t *testing.T) {
	g := newGen(t, 12, 1, 1)
	seen := make([]map[byte]bool, 36)
	for i := range seen {
		seen[i] = map[byte]bool{}
	}
	for i := 0; i < 100; i++ {
		id := g.Next().OrderID
		for j := 0; j < len(id); j++ {
			seen[j][id[j]] = true
		}
	}
	for j, chars := range seen {
		switch j {
		case 8, 13, 18, 23, 14: // dashes and the version digit
			if len(chars) != 1 {
				t.Errorf("position %d took %d values", j, len(chars))
			}
		case 19: // the variant: 8, 9, a or b
			if len(chars) < 2 || len(chars) > 4 {
				t.Errorf("variant digit took %d values", len(chars))
			}
		default:
			if len(chars) < 2 {
				t.Errorf("position %d is always %v in 100 ids", j, chars)
			}
		}
	}
}

func TestGeneratorOptionsAreChecked(t *testing.T) {
	for _, c := range []struct {
		min, max int
		want     string // error text; "" is accepted
	}{
		{1, 1, ""},
		{1, MaxProductsPerOrder, ""},
		{0, 3, "1 <= min (0) <= max (3)"},
		{3, 2, "1 <= min (3) <= max (2)"},
		{1, MaxProductsPerOrder + 1, "at most 1000 products per order, got 1001"},
	} {
		_, err := NewGenerator(GeneratorOptions{MinProducts: c.min, MaxProducts: c.max})
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("min %d, max %d: %v, want %q", c.min, c.max, err, c.want)
		}
	}
	// Both ends of the range occur.
	g := newGen(t, 2, 1, 3)
	counts := map[int]int{}
	for i := 0; i < 300; i++ {
		o := g.Next()
		counts[len(o.Products)]++
		for _, p := range o.Products {
			if p.Quantity < 1 || p.Quantity > 5 {
				t.Fatalf("quantity %d", p.Quantity)
			}
		}
	}
	if len(counts) != 3 || counts[1] == 0 || counts[3] == 0 {
		t.Fatalf("product counts %v, want 1 to 3", counts)
	}
}

// The limits of the landing table and of Kinesis are inclusive.
func TestValidateAcceptsValuesAtTheLimitsAndNothingBeyond(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*orders.Order)
		want   string // error text; "" is accepted
	}{
		{"256-character order id", func(o *orders.Order) { o.OrderID = strings.Repeat("é", 256) }, ""},
		{"257-character order id", func(o *orders.Order) { o.OrderID = strings.Repeat("é", 257) }, "order_id must have 1 to 256 characters, got 257"},
		{"free product", func(o *orders.Order) { o.Products[0].UnitPrice = 0 }, ""},
		{"negative price", func(o *orders.Order) { o.Products[0].UnitPrice = -0.01 }, "products[0].unit_price -0.01 does not fit decimal(10,2)"},
		{"largest price", func(o *orders.Order) { o.Products[0].UnitPrice = 99999999.99 }, ""},
		{"price of ten digits", func(o *orders.Order) { o.Products[0].UnitPrice = 1e8 }, "products[0].unit_price 1e+08 does not fit decimal(10,2)"},
		{"one of a product", func(o *orders.Order) { o.Products[0].Quantity = 1 }, ""},
		{"second product without a code", func(o *orders.Order) {
			o.Products = append(o.Products, o.Products[0])
			o.Products[1].ProductCode = ""
		}, "products[1].product_code is missing"},
		{"no status", func(o *orders.Order) { o.OrderStatus = "" }, "order_status is missing"},
		{"no payment method", func(o *orders.Order) { o.PaymentMethod = "" }, "payment_method is missing"},
		{"timestamp in UTC without milliseconds", func(o *orders.Order) { o.OrderTimestamp = "2026-11-28T08:00:00Z" }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newGen(t, 5, 1, 1).Next()
			c.mutate(&o)
			err := Validate(&o)
			if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// A line longer than a Kinesis record stops the read, naming the line;
// blank lines count.
func TestReadOrdersNamesALineLongerThanARecord(t *testing.T) {
	input := "\n\n" + strings.Repeat("x", MaxRecordBytes+1) + "\n"
	_, err := ReadOrders(strings.NewReader(input))
	if err == nil || !strings.Contains(err.Error(), "line 3: longer than the 1048576-byte Kinesis record limit") {
		t.Fatalf("error %v", err)
	}
}

// A line of exactly the record limit is read (the record limit, not the
// reader, then decides whether the order can be sent); one byte more is
// named as too long.
func TestReadOrdersReadsALineOfExactlyTheRecordLimit(t *testing.T) {
	o := newGen(t, 2, 1, 1).Next()
	r, err := NewEncoder().Encode(&o)
	if err != nil {
		t.Fatal(err)
	}
	o.Products[0].ProductName += strings.Repeat("n", MaxRecordBytes-(len(r.Data)-1))
	line, err := json.Marshal(&o)
	if err != nil || len(line) != MaxRecordBytes {
		t.Fatalf("test line of %d bytes, want %d: %v", len(line), MaxRecordBytes, err)
	}
	list, err := ReadOrders(bytes.NewReader(append(line, '\n')))
	if err != nil || len(list) != 1 || list[0].Products[0].ProductName != o.Products[0].ProductName {
		t.Fatalf("a line of exactly %d bytes: %d orders, %v", MaxRecordBytes, len(list), err)
	}
	o.Products[0].ProductName += "n"
	longer, _ := json.Marshal(&o)
	if _, err := ReadOrders(bytes.NewReader(append(longer, '\n'))); err == nil || !strings.Contains(err.Error(), "line 1: longer than the") {
		t.Fatalf("a line of %d bytes: %v", len(longer), err)
	}
}

func TestBatchIDsMakePlainObjectKeys(t *testing.T) {
	for _, c := range []struct {
		id string
		ok bool
	}{
		{"20261128T080000Z-0000002a", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a/b", false},
		{"a b", false},
	} {
		if err := CheckBatchID(c.id); (err == nil) != c.ok {
			t.Errorf("batch id %.20q: %v", c.id, err)
		}
	}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	if got := NewBatchID(at, 42); got != "20261128T080000Z-0000002a" || CheckBatchID(got) != nil {
		t.Fatalf("batch id %q", got)
	}
	if got := ManifestKey("b1"); got != "batch-completion/b1.json" {
		t.Fatalf("manifest key %q", got)
	}
}

// The manifest lists every shard's range sorted by shard, and an empty
// list rather than null when nothing was sent.
func TestManifestListsTheShardsInOrder(t *testing.T) {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	a := Acks{Records: 3, Products: 7, First: "5", Last: "12", Shards: map[string]*ShardRange{
		"shardId-000000000002": {ShardID: "shardId-000000000002", First: "9", Last: "12", Records: 2},
		"shardId-000000000000": {ShardID: "shardId-000000000000", First: "5", Last: "5", Records: 1},
	}}
	m := NewManifest("b1", "orders", a, start, start.Add(1500*time.Millisecond))
	got, _ := json.Marshal(m)
	want := `{"batch_id":"b1","stream":"orders","record_count":3,"product_count":7,"first_sequence_number":"5","last_sequence_number":"12",` +
		`"shards":[{"shard_id":"shardId-000000000000","first_sequence_number":"5","last_sequence_number":"5","record_count":1},` +
		`{"shard_id":"shardId-000000000002","first_sequence_number":"9","last_sequence_number":"12","record_count":2}],` +
		`"start_time":"2026-11-28T08:00:00.000Z","end_time":"2026-11-28T08:00:01.500Z"}`
	if string(got) != want {
		t.Fatalf("manifest\n got %s\nwant %s", got, want)
	}
	if empty, _ := json.Marshal(NewManifest("b2", "orders", Acks{}, start, start)); !strings.Contains(string(empty), `"shards":[]`) {
		t.Fatalf("empty manifest %s", empty)
	}
}

// A rate limit lowers the records per call; a limit above the API's does not raise it.
func TestBatchLimitOnlyLowersTheRecordCount(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{0, MaxBatchRecords}, {100, 100}, {1, 1}, {MaxBatchRecords + 1, MaxBatchRecords}} {
		b := Batch{Limit: c.limit}
		for b.Fits(record(100)) {
			b.Add(record(100))
		}
		if len(b.Records) != c.want {
			t.Errorf("limit %d: batch closed at %d records, want %d", c.limit, len(b.Records), c.want)
		}
	}
}

// The partition key counts against the record and the batch limits.
func TestPartitionKeysCountAgainstTheLimits(t *testing.T) {
	key := strings.Repeat("k", 36)
	if got := (Record{Data: make([]byte, 45), PartitionKey: key}).Size(); got != 81 {
		t.Fatalf("size %d, want 45 bytes of data plus 36 of key", got)
	}
	nearlyFull := &Batch{Bytes: MaxBatchBytes - 100}
	if !nearlyFull.Fits(Record{Data: make([]byte, 64), PartitionKey: key}) {
		t.Error("a record that with its key exactly fills the batch was refused")
	}
	if nearlyFull.Fits(Record{Data: make([]byte, 65), PartitionKey: key}) {
		t.Error("a record whose key overflows the batch was taken")
	}

	o := newGen(t, 1, 1, 1).Next()
	enc := NewEncoder()
	r, err := enc.Encode(&o)
	if err != nil {
		t.Fatal(err)
	}
	// Pad the product name so that data and key make exactly the limit.
	o.Products[0].ProductName += strings.Repeat("n", MaxRecordBytes-r.Size())
	if r, err := enc.Encode(&o); err != nil || r.Size() != MaxRecordBytes {
		t.Fatalf("a record of exactly %d bytes: size %d, %v", MaxRecordBytes, r.Size(), err)
	}
	o.Products[0].ProductName += "n"
	if _, err := enc.Encode(&o); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d bytes with its partition key", MaxRecordBytes+1)) {
		t.Fatalf("a record one byte over the limit: %v", err)
	}
}
