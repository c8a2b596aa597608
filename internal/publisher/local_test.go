package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	pipelineconfig "github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
	"github.com/orders-pipeline/orders-pipeline/internal/testserver"
)

// The publisher runs against real local stand-ins: kinesalite for the
// stream and s3rver for the landing bucket. A reverse proxy in front of
// each one records the order of requests and, for Kinesis, injects
// PutRecords entry failures the way a throttled shard reports them.

const (
	testStream = "orders"
	testBucket = "landing"
	testShards = 4
)

type stand struct {
	kinesis *kinesis.Client
	s3      *s3.Client
	proxy   *faultProxy
	events  *eventLog
}

// eventLog is the order in which requests reached the stand-ins.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// faultProxy forwards to kinesalite. For PutRecords it drops the entries
// fail() picks from the request before forwarding (so kinesalite never
// stores them) and answers them as ProvisionedThroughputExceededException.
type faultProxy struct {
	target *url.URL
	events *eventLog
	fail   func(partitionKey string) bool
	// callError, when set, answers every PutRecords call with this error.
	callError string
	// hang, when set, leaves every PutRecords call unanswered.
	hang     bool
	mu       sync.Mutex
	injected int
}

type putRecordsBody struct {
	Records []struct {
		Data         string
		PartitionKey string
		// ExplicitHashKey is not used by the publisher.
	}
	StreamName string `json:",omitempty"`
	StreamARN  string `json:",omitempty"`
}

type putRecordsResult struct {
	SequenceNumber string `json:",omitempty"`
	ShardId        string `json:",omitempty"`
	ErrorCode      string `json:",omitempty"`
	ErrorMessage   string `json:",omitempty"`
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.PutRecords" {
		p.forward(w, r, body)
		return
	}
	if p.hang {
		p.events.add("PutRecords unanswered")
		<-r.Context().Done()
		return
	}
	if p.callError != "" {
		p.events.add("PutRecords refused")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": p.callError, "message": "injected by the test proxy"})
		return
	}
	var in putRecordsBody
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	failing := make([]bool, len(in.Records))
	kept := in
	kept.Records = kept.Records[:0:0]
	for i, rec := range in.Records {
		if p.fail != nil && p.fail(rec.PartitionKey) {
			failing[i] = true
			continue
		}
		kept.Records = append(kept.Records, rec)
	}
	p.events.add(fmt.Sprintf("PutRecords %d", len(kept.Records)))
	var results []putRecordsResult
	if len(kept.Records) > 0 {
		fwd, _ := json.Marshal(kept)
		rec := httptest.NewRecorder()
		p.forward(rec, r, fwd)
		if rec.Code != http.StatusOK {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		var out struct{ Records []putRecordsResult }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		results = out.Records
	}
	merged := make([]putRecordsResult, len(in.Records))
	failed := 0
	for i := range in.Records {
		if failing[i] {
			failed++
			merged[i] = putRecordsResult{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard shardId-000000000000 in stream orders."}
			continue
		}
		merged[i], results = results[0], results[1:]
	}
	p.mu.Lock()
	p.injected += failed
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"FailedRecordCount": failed, "Records": merged})
}

func (p *faultProxy) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
	httputil.NewSingleHostReverseProxy(p.target).ServeHTTP(w, r)
}

func (p *faultProxy) injectedFailures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected
}

// startStand starts kinesalite and s3rver behind recording proxies, creates
// the stream and the bucket, and points the standard AWS environment at
// them with s3rver's fixed credentials (the publisher reads AWS_ENDPOINT_URL_KINESIS / _S3 like any SDK
// client would).
func startStand(t *testing.T, fail func(string) bool) *stand {
	t.Helper()
	events := &eventLog{}
	kin, s3srv := testserver.Kinesalite(t), testserver.S3rver(t)
	kURL, _ := url.Parse(kin.URL)
	sURL, _ := url.Parse(s3srv.URL)
	proxy := &faultProxy{target: kURL, events: events, fail: fail}
	kProxy := httptest.NewServer(proxy)
	t.Cleanup(kProxy.Close)
	s3Forward := httputil.NewSingleHostReverseProxy(sURL)
	sProxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		events.add(r.Method + " " + r.URL.Path)
		s3Forward.ServeHTTP(w, r)
	}))
	t.Cleanup(sProxy.Close)

	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
		"AWS_ENDPOINT_URL_KINESIS": kProxy.URL, "AWS_ENDPOINT_URL_S3": sProxy.URL,
		EnvStream: "", EnvBucket: "",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The test's own clients talk to the servers directly, past the proxies.
	st := &stand{
		kinesis: kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(kin.URL) }),
		s3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(s3srv.URL); o.UsePathStyle = true }),
		proxy:   proxy, events: events,
	}
	if _, err := st.kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(testStream), ShardCount: aws.Int32(testShards)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	waiter := kinesis.NewStreamExistsWaiter(st.kinesis, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(testStream)}, 30*time.Second); err != nil {
		t.Fatalf("stream not active: %v", err)
	}
	if _, err := st.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return st
}

// runLimit is far beyond what any run here takes, but below what a
// mutation run allows a whole test binary.
const runLimit = 30 * time.Second

// run runs the command as a user would, with the stand's stream and bucket,
// and stops it after runLimit like a user's Ctrl-C: a command that never
// ends (a retry that never gives up, a batch that never closes) fails its
// test instead of stalling the suite.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	return runCtx(t, ctx, stdin, args...)
}

func runCtx(t *testing.T, ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"--stream", testStream, "--bucket", testBucket, "--s3-path-style", "--progress", "never"}, args...)
	code = Run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// runBounded runs the command with a deadline of its own, like a user's
// Ctrl-C: a command that hangs fails the test instead of stalling it.
func runBounded(t *testing.T, limit time.Duration, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	began := time.Now()
	code, _, stderr = runCtx(t, ctx, "", args...)
	return code, stderr, time.Since(began)
}

type streamRecord struct {
	shard, seq string
	order      orders.Order
}

// readStream reads every record of every shard from the start.
func (st *stand) readStream(t *testing.T) []streamRecord {
	t.Helper()
	ctx := context.Background()
	shards, err := st.kinesis.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(testStream)})
	if err != nil {
		t.Fatal(err)
	}
	var all []streamRecord
	for _, sh := range shards.Shards {
		it, err := st.kinesis.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: aws.String(testStream), ShardId: sh.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			out, err := st.kinesis.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				var o orders.Order
				dec := json.NewDecoder(bytes.NewReader(r.Data))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&o); err != nil {
					t.Fatalf("record %s does not decode to an order: %v\n%s", aws.ToString(r.SequenceNumber), err, r.Data)
				}
				if err := Validate(&o); err != nil {
					t.Fatalf("record %s is not a valid order: %v", aws.ToString(r.SequenceNumber), err)
				}
				if aws.ToString(r.PartitionKey) != o.OrderID {
					t.Fatalf("partition key %q is not the order id %q", aws.ToString(r.PartitionKey), o.OrderID)
				}
				all = append(all, streamRecord{shard: aws.ToString(sh.ShardId), seq: aws.ToString(r.SequenceNumber), order: o})
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	return all
}

// manifests returns every completion object in the bucket.
func (st *stand) manifests(t *testing.T) map[string]Manifest {
	t.Helper()
	ctx := context.Background()
	list, err := st.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(pipelineconfig.CompletionPrefix)})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]Manifest{}
	for _, obj := range list.Contents {
		got, err := st.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: obj.Key})
		if err != nil {
			t.Fatal(err)
		}
		var m Manifest
		dec := json.NewDecoder(got.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("%s: %v", aws.ToString(obj.Key), err)
		}
		got.Body.Close()
		found[aws.ToString(obj.Key)] = m
	}
	return found
}

// expectedOrders regenerates what a seeded run sends.
func expectedOrders(t *testing.T, n int, seed uint64, start string, minP, maxP int) []orders.Order {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGenerator(GeneratorOptions{Seed: seed, MinProducts: minP, MaxProducts: maxP, Start: ts})
	if err != nil {
		t.Fatal(err)
	}
	list := make([]orders.Order, n)
	for i := range list {
		list[i] = g.Next()
	}
	return list
}

// checkDelivered asserts the stream holds exactly the expected orders,
// each once, and that the manifest agrees with what arrived.
func checkDelivered(t *testing.T, got []streamRecord, want []orders.Order, m Manifest) {
	t.Helper()
	byID := map[string]orders.Order{}
	for _, o := range want {
		byID[o.OrderID] = o
	}
	seen := map[string]int{}
	var products int64
	shardCount := map[string]int64{}
	shardSeq := map[string][2]string{}
	for _, r := range got {
		seen[r.order.OrderID]++
		w, ok := byID[r.order.OrderID]
		if !ok {
			t.Fatalf("unexpected order %s in the stream", r.order.OrderID)
		}
		a, _ := json.Marshal(w)
		b, _ := json.Marshal(r.order)
		if !bytes.Equal(a, b) {
			t.Fatalf("order %s arrived changed:\n sent %s\n got  %s", r.order.OrderID, a, b)
		}
		products += int64(len(r.order.Products))
		shardCount[r.shard]++
		rng, ok := shardSeq[r.shard]
		if !ok {
			rng = [2]string{r.seq, r.seq}
		}
		if lessSeq(r.seq, rng[0]) {
			rng[0] = r.seq
		}
		if lessSeq(rng[1], r.seq) {
			rng[1] = r.seq
		}
		shardSeq[r.shard] = rng
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("order %s arrived %d times", id, n)
		}
	}
	if len(got) != len(want) || len(seen) != len(want) {
		t.Fatalf("stream holds %d records (%d distinct orders), want %d", len(got), len(seen), len(want))
	}
	if m.RecordCount != int64(len(got)) || m.ProductCount != products {
		t.Fatalf("manifest counts %d records / %d products, stream holds %d / %d", m.RecordCount, m.ProductCount, len(got), products)
	}
	if len(shardCount) < 2 {
		t.Errorf("all records went to %d shard(s); partition keys should spread them", len(shardCount))
	}
	if len(m.Shards) != len(shardCount) {
		t.Fatalf("manifest names %d shards, stream has records on %d", len(m.Shards), len(shardCount))
	}
	for _, sr := range m.Shards {
		rng := shardSeq[sr.ShardID]
		if sr.Records != shardCount[sr.ShardID] || sr.First != rng[0] || sr.Last != rng[1] {
			t.Errorf("manifest shard %+v, stream has %d records from %s to %s", sr, shardCount[sr.ShardID], rng[0], rng[1])
		}
	}
	if m.FirstSequenceNumber == "" || m.LastSequenceNumber == "" || m.StartTime == "" || m.EndTime < m.StartTime {
		t.Errorf("manifest lacks sequence numbers or times: %+v", m)
	}
}

func TestEveryGeneratedOrderArrivesOnceAndTheManifestCountsThem(t *testing.T) {
	st := startStand(t, nil)
	const n, seed, start = 1234, 42, "2026-11-28T08:00:00.000Z"
	code, stdout, stderr := run(t, "", "--count", fmt.Sprint(n), "--seed", fmt.Sprint(seed), "--start", start,
		"--min-products", "1", "--max-products", "4", "--batch-id", "test-batch-1")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	ms := st.manifests(t)
	m, ok := ms["batch-completion/test-batch-1.json"]
	if !ok || len(ms) != 1 {
		t.Fatalf("completion objects %v, want exactly batch-completion/test-batch-1.json", ms)
	}
	if m.BatchID != "test-batch-1" || m.Stream != testStream {
		t.Errorf("manifest %+v", m)
	}
	checkDelivered(t, st.readStream(t), expectedOrders(t, n, seed, start, 1, 4), m)
	if !strings.Contains(stdout, "1234 records") {
		t.Errorf("summary %q does not count the records", stdout)
	}
}

func TestThrottledEntriesAreRetriedAndTheManifestComesLast(t *testing.T) {
	// Every entry fails on its first two attempts, a third of them after
	// that once more: the shard keeps pushing back until the last batch.
	var mu sync.Mutex
	attempts := map[string]int{}
	st := startStand(t, func(key string) bool {
		mu.Lock()
		defer mu.Unlock()
		attempts[key]++
		limit := 2
		if key[0] < '6' {
			limit = 3
		}
		return attempts[key] <= limit
	})
	const n, seed, start = 700, 7, "2026-11-28T09:00:00.000Z"
	code, stdout, stderr := run(t, "", "--count", fmt.Sprint(n), "--seed", fmt.Sprint(seed), "--start", start, "--batch-id", "throttled")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if st.proxy.injectedFailures() < 2*n {
		t.Fatalf("only %d failures injected", st.proxy.injectedFailures())
	}
	m := st.manifests(t)["batch-completion/throttled.json"]
	checkDelivered(t, st.readStream(t), expectedOrders(t, n, seed, start, 1, 5), m)
	events := st.events.list()
	last := events[len(events)-1]
	if !strings.HasPrefix(last, "PUT /"+testBucket+"/batch-completion/throttled.json") {
		t.Fatalf("last request was %q, want the completion object; all: %v", last, events)
	}
	for _, e := range events[:len(events)-1] {
		if strings.HasPrefix(e, "PUT /") {
			t.Fatalf("an S3 write (%s) came before the last PutRecords: %v", e, events)
		}
	}
	if !strings.Contains(stderr, "retries") {
		t.Errorf("summary %q does not report retries", stderr)
	}
}

func TestEntriesThatNeverSucceedLeaveNoManifestAndFail(t *testing.T) {
	st := startStand(t, func(key string) bool { return key[0] == 'a' || key[0] == 'b' })
	want := 0
	for _, o := range expectedOrders(t, 300, 3, "2026-11-28T10:00:00Z", 1, 5) {
		if o.OrderID[0] == 'a' || o.OrderID[0] == 'b' {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the seed makes no order that fails; pick another")
	}
	code, stdout, stderr := run(t, "", "--count", "300", "--seed", "3", "--start", "2026-11-28T10:00:00Z", "--retry-for", "1500ms", "--batch-id", "stuck")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, ExitFailed, stdout, stderr)
	}
	t.Logf("stderr:\n%s", stderr)
	if !strings.Contains(stderr, fmt.Sprintf("%d of 300 records not delivered", want)) || !strings.Contains(stderr, "ProvisionedThroughputExceededException") {
		t.Errorf("stderr does not name the %d undelivered records and why:\n%s", want, stderr)
	}
	if ms := st.manifests(t); len(ms) != 0 {
		t.Fatalf("completion object written for an incomplete batch: %v", ms)
	}
	if got := len(st.readStream(t)); got != 300-want {
		t.Fatalf("stream holds %d records, want the %d that could be delivered", got, 300-want)
	}
	// The waits between retries grow (100 ms, 200 ms, 400 ms… at most, with
	// jitter): 1.5 s holds a handful of calls, not a stream of them.
	if n := putRecordsCalls(st); n < 2 || n > 20 {
		t.Errorf("%d PutRecords calls in 1.5 s of retries", n)
	}
}

func putRecordsCalls(st *stand) int {
	calls := 0
	for _, e := range st.events.list() {
		if strings.HasPrefix(e, "PutRecords") {
			calls++
		}
	}
	return calls
}

// wantStopped asserts the command failed saying each of says, made calls
// PutRecords calls and wrote no completion object.
func wantStopped(t *testing.T, st *stand, code int, stderr string, calls int, says ...string) {
	t.Helper()
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d; stderr %q", code, ExitFailed, stderr)
	}
	for _, s := range says {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q: %q", s, stderr)
		}
	}
	if n := putRecordsCalls(st); n != calls {
		t.Errorf("%d PutRecords calls, want %d", n, calls)
	}
	if ms := st.manifests(t); len(ms) != 0 {
		t.Errorf("completion object written: %v", ms)
	}
}

func TestAMissingStreamStopsBeforeSending(t *testing.T) {
	st := startStand(t, nil)
	code, _, stderr := run(t, "", "--stream", "no-such-stream", "--count", "10")
	wantStopped(t, st, code, stderr, 0, "ResourceNotFoundException", "nothing was sent")
}

func TestAnErrorNoRetryCanFixStopsAtOnce(t *testing.T) {
	st := startStand(t, nil)
	st.proxy.callError = "AccessDeniedException"
	code, _, stderr := run(t, "", "--count", "10", "--retry-for", "1m")
	// One call: access denied is not retried.
	wantStopped(t, st, code, stderr, 1, "10 of 10 records not delivered", "AccessDeniedException")
}

// The rate limit caps each call at a second's worth of records and spaces
// the calls, so 250 records at 100/s take at least two seconds.
func TestRateLimitSpacesTheCalls(t *testing.T) {
	st := startStand(t, nil)
	began := time.Now()
	code, stdout, stderr := run(t, "", "--count", "250", "--rate", "100")
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if elapsed := time.Since(began); elapsed < 2*time.Second {
		t.Fatalf("250 records at 100/s took %v", elapsed)
	}
	var sizes []string
	for _, e := range st.events.list() {
		if strings.HasPrefix(e, "PutRecords") {
			sizes = append(sizes, strings.TrimPrefix(e, "PutRecords "))
		}
	}
	if strings.Join(sizes, ",") != "100,100,50" {
		t.Fatalf("PutRecords sizes %v, want 100,100,50", sizes)
	}
}

// --completion-pause holds the completion object back after the last
// acknowledgement: records still in Firehose's processor buffer are then
// stamped before the rotation the completion object causes.
func TestCompletionPauseWritesTheManifestAfterThePause(t *testing.T) {
	st := startStand(t, nil)
	began := time.Now()
	code, stdout, stderr := run(t, "", "--count", "10", "--completion-pause", "1500ms", "--batch-id", "paused")
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if elapsed := time.Since(began); elapsed < 1500*time.Millisecond {
		t.Fatalf("the publisher ended %v after it began, before its 1.5 s pause", elapsed)
	}
	ms := st.manifests(t)
	if len(ms) != 1 {
		t.Fatalf("%d manifests, want 1", len(ms))
	}
	for _, m := range ms {
		if m.RecordCount != 10 {
			t.Errorf("manifest counts %d records, want 10", m.RecordCount)
		}
	}
	if code, _, stderr := run(t, "", "--count", "10", "--completion-pause", "-1s"); code == ExitOK || !strings.Contains(stderr, "--completion-pause must not be negative") {
		t.Errorf("a negative pause: exit %d, stderr %s", code, stderr)
	}
}

func TestABadInputLineSendsNothing(t *testing.T) {
	st := startStand(t, nil)
	good := `{"order_id":"bee482f1-833c-4395-9d85-0ca6b963d6e7","order_timestamp":"2026-11-28T01:02:03.456Z","customer_id":"C-000001","order_status":"PAID","payment_method":"PAYPAL","currency":"EUR","shipping_country":"DE","products":[{"product_code":"BOO-3001","product_name":"Data Engineering Handbook","category":"Books","quantity":2,"unit_price":42.3}]}`
	bad := strings.Replace(good, `"unit_price":42.3`, `"unit_price":42.345`, 1)
	code, _, stderr := run(t, good+"\n\n"+bad+"\n", "--input", "-")
	if code != ExitUsage || !strings.Contains(stderr, "line 3:") || !strings.Contains(stderr, "unit_price") {
		t.Fatalf("exit %d, stderr %q; want exit %d naming line 3 and unit_price", code, stderr, ExitUsage)
	}
	if got := len(st.readStream(t)); got != 0 {
		t.Fatalf("%d records sent despite a bad line", got)
	}
	code, stdout, stderr := run(t, good+"\n", "--input", "-", "--batch-id", "from-stdin", "--progress", "always")
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "\r[##############################] 1/1 records") {
		t.Errorf("no finished progress bar in %q", stderr)
	}
	if m := st.manifests(t)["batch-completion/from-stdin.json"]; m.RecordCount != 1 || m.ProductCount != 1 {
		t.Fatalf("manifest %+v", m)
	}
}

// statusLines are the periodic status lines that name what the command
// waits for.
func statusLines(stderr, call string) int {
	n := 0
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "sent ") && strings.Contains(l, "waiting") && strings.Contains(l, call) {
			n++
		}
	}
	return n
}

// checkBounded asserts the command gave up within --retry-for plus a
// margin, said so every StatusEvery while it waited, and wrote no
// completion object.
func checkBounded(t *testing.T, st *stand, retryFor, took time.Duration, call, stderr string) {
	t.Helper()
	t.Logf("stderr:\n%s", stderr)
	if took > retryFor+2*time.Second {
		t.Errorf("the command took %v with --retry-for %v", took, retryFor)
	}
	if n, want := statusLines(stderr, call), int(retryFor/StatusEvery); n < want {
		t.Errorf("%d status lines naming %s in %v, want at least %d:\n%s", n, call, took, want, stderr)
	}
	if ms := st.manifests(t); len(ms) != 0 {
		t.Fatalf("completion object written: %v", ms)
	}
}

// silentServer accepts connections on 127.0.0.1 and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func TestAStreamThatNeverAnswersEndsWithinRetryFor(t *testing.T) {
	st := startStand(t, nil)
	t.Setenv("AWS_ENDPOINT_URL_KINESIS", silentServer(t))
	const retryFor = 4 * time.Second
	code, stderr, took := runBounded(t, 3*retryFor, "--count", "10", "--retry-for", retryFor.String())
	if code != ExitFailed || !strings.Contains(stderr, "DescribeStreamSummary of orders: no answer within 4s") || !strings.Contains(stderr, "nothing was sent") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	checkBounded(t, st, retryFor, took, "DescribeStreamSummary", stderr)
}

func TestPutRecordsThatAreNeverAnsweredEndWithinRetryFor(t *testing.T) {
	st := startStand(t, nil)
	st.proxy.hang = true
	const retryFor = 7 * time.Second
	code, stderr, took := runBounded(t, 3*retryFor, "--count", "50", "--retry-for", retryFor.String())
	if code != ExitFailed || !strings.Contains(stderr, "50 of 50 records not delivered") || !strings.Contains(stderr, "PutRecords of 50 records: no answer within") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	checkBounded(t, st, retryFor, took, "PutRecords of 50 records", stderr)
	if n := len(st.readStream(t)); n != 0 {
		t.Fatalf("%d records in the stream", n)
	}
}
