package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/mattn/go-isatty"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// Exit codes of the command.
const (
	ExitOK = 0
	// ExitFailed: records were not all delivered, or the completion object
	// could not be written.
	ExitFailed = 1
	// ExitUsage: bad flags or bad input; nothing was sent.
	ExitUsage = 2
)

// Environment variables read when the matching flag is not given. Region,
// credentials and endpoints come from the standard AWS environment.
const (
	EnvStream = "PUBLISHER_STREAM"
	EnvBucket = "PUBLISHER_BUCKET"
)

type options struct {
	stream, bucket, region, endpoint string
	pathStyle                        bool
	input                            string
	count, minProducts, maxProducts  int
	seed                             uint64
	seedSet                          bool
	start                            string
	batchID                          string
	rate                             float64
	retryFor                         time.Duration
	completionPause                  time.Duration
	dryRun                           bool
	progress                         string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("publisher", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: publisher [flags]\n\nSends one batch of orders to the orders stream, then writes the batch's\ncompletion object to batch-completion/ of the landing bucket.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.stream, "stream", os.Getenv(EnvStream), "Kinesis stream name or ARN (env "+EnvStream+")")
	fs.StringVar(&o.bucket, "bucket", os.Getenv(EnvBucket), "landing bucket for the completion object (env "+EnvBucket+")")
	fs.StringVar(&o.region, "region", "", "AWS region (default: the standard AWS environment)")
	fs.StringVar(&o.endpoint, "endpoint-url", "", "endpoint for Kinesis and S3, e.g. a local stand-in (default: AWS_ENDPOINT_URL[_KINESIS|_S3] or AWS)")
	fs.BoolVar(&o.pathStyle, "s3-path-style", false, "address the bucket path-style (local S3 stand-ins need it)")
	fs.StringVar(&o.input, "input", "", "JSON-lines file of orders to send instead of generating them; '-' reads stdin")
	fs.IntVar(&o.count, "count", 1000, "orders to generate")
	fs.IntVar(&o.minProducts, "min-products", 1, "fewest products per generated order")
	fs.IntVar(&o.maxProducts, "max-products", 5, "most products per generated order")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the generated orders (default: random, printed so the batch can be reproduced)")
	fs.StringVar(&o.start, "start", "", "RFC 3339 timestamp of the first generated order (default: now)")
	fs.StringVar(&o.batchID, "batch-id", "", "id of the batch, the completion object's name (default: UTC time plus random hex)")
	fs.Float64Var(&o.rate, "rate", 0, "most records per second; 0 is unlimited")
	fs.DurationVar(&o.retryFor, "retry-for", 2*time.Minute, "how long one PutRecords batch is retried, calls included, before giving up; also bounds the stream check and the completion object's write")
	fs.DurationVar(&o.completionPause, "completion-pause", 0, "wait this long after the last record is acknowledged before writing the completion object, so records still in Firehose's processor buffer are stamped with the run the completion closes (README Run ids: records in flight at rotation); e.g. the transformer's buffer interval plus runIdCacheSeconds")
	fs.BoolVar(&o.dryRun, "dry-run", false, "generate or read, validate, encode and batch, but send nothing")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar: auto (on a terminal), always, never (a status line every few seconds instead)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.seedSet = o.seedSet || f.Name == "seed" })
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case !o.dryRun && o.stream == "":
		return nil, errors.New("--stream (or " + EnvStream + ") is required")
	case !o.dryRun && o.bucket == "":
		return nil, errors.New("--bucket (or " + EnvBucket + ") is required")
	case o.input == "" && o.count < 1:
		return nil, fmt.Errorf("--count must be at least 1, got %d", o.count)
	case o.rate < 0:
		return nil, fmt.Errorf("--rate must not be negative, got %v", o.rate)
	case o.completionPause < 0:
		return nil, fmt.Errorf("--completion-pause must not be negative, got %v", o.completionPause)
	case o.retryFor <= 0:
		return nil, fmt.Errorf("--retry-for must be positive, got %v", o.retryFor)
	case o.progress != "auto" && o.progress != "always" && o.progress != "never":
		return nil, fmt.Errorf("--progress must be auto, always or never, got %q", o.progress)
	}
	if o.batchID != "" {
		if err := CheckBatchID(o.batchID); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// source yields the batch's orders one at a time.
type source struct {
	total int
	next  func() orders.Order
}

func openSource(o *options, stdin io.Reader, stderr io.Writer) (*source, error) {
	if o.input != "" {
		r := stdin
		if o.input != "-" {
			f, err := os.Open(o.input)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
		list, err := ReadOrders(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.input, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s: no orders", o.input)
		}
		i := 0
		return &source{total: len(list), next: func() orders.Order { i++; return list[i-1] }}, nil
	}
	start := time.Now()
	if o.start != "" {
		t, err := time.Parse(time.RFC3339Nano, o.start)
		if err != nil {
			return nil, fmt.Errorf("--start: %v", err)
		}
		start = t
	}
	if !o.seedSet {
		o.seed = rand.Uint64()
	}
	g, err := NewGenerator(GeneratorOptions{Seed: o.seed, MinProducts: o.minProducts, MaxProducts: o.maxProducts, Start: start})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "generating %d orders: --seed %d --start %s\n", o.count, o.seed, start.UTC().Format(TimestampLayout))
	return &source{total: o.count, next: g.Next}, nil
}

// Run is the publisher command; it returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "publisher: %v\n", err)
		return ExitUsage
	}
	src, err := openSource(o, stdin, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "publisher: %v; nothing was sent\n", err)
		return ExitUsage
	}
	if o.batchID == "" {
		o.batchID = NewBatchID(time.Now(), rand.Uint32())
	}
	if o.dryRun {
		return dryRun(o, src, stdout, stderr)
	}

	kc, sc, err := clients(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "publisher: %v; nothing was sent\n", err)
		return ExitUsage
	}
	tty := o.progress == "always" || (o.progress == "auto" && isTerminal(stderr))
	// From here on, the progress prints from its own goroutine too, and
	// every line goes through it.
	progress := NewProgress(stderr, tty, int64(src.total))
	defer progress.Stop()
	var shards int
	err = bounded(ctx, o.retryFor, progress, "DescribeStreamSummary of "+o.stream, func(ctx context.Context) (err error) {
		shards, err = CheckStream(ctx, kc, o.stream)
		return err
	})
	if err != nil {
		progress.Stop()
		progress.Printf("publisher: %v\nnothing was sent; no completion object written for batch %s\n", err, o.batchID)
		return ExitFailed
	}
	progress.Printf("sending batch %s to %s (%d open shards)\n", o.batchID, o.stream, shards)
	sender := &Sender{
		Client: kc, Stream: o.stream, Rate: o.rate,
		Backoff:        Backoff{Base: 100 * time.Millisecond, Max: 5 * time.Second},
		AttemptTimeout: AttemptTimeout,
		OnAck:          progress.Update,
		OnCall: func(n int) {
			progress.Waiting(fmt.Sprintf("PutRecords of %d records", n))
		},
	}
	sendStart := time.Now()
	err = publish(src, rateLimit(o.rate), func(b *Batch) error {
		sender.Deadline = time.Now().Add(o.retryFor)
		return sender.Send(ctx, b.Records)
	})
	acks := sender.Acks()
	if err != nil {
		progress.Finish(acks)
		progress.Printf("publisher: %d of %d records not delivered: %v\nno completion object written for batch %s\n",
			int64(src.total)-acks.Records, src.total, err, o.batchID)
		return ExitFailed
	}
	m := NewManifest(o.batchID, o.stream, acks, sendStart, time.Now())
	if o.completionPause != 0 { // parseFlags refuses a negative pause
		progress.Waiting(fmt.Sprintf("%v before the completion object", o.completionPause))
		select {
		case <-time.After(o.completionPause):
		case <-ctx.Done():
			progress.Finish(acks)
			progress.Printf("publisher: stopped during --completion-pause; no completion object written for batch %s\n", o.batchID)
			return ExitFailed
		}
	}
	var key string
	err = bounded(ctx, o.retryFor, progress, "PutObject of "+ManifestKey(o.batchID), func(ctx context.Context) (err error) {
		key, err = WriteManifest(ctx, sc, o.bucket, m)
		return err
	})
	progress.Finish(acks)
	if err != nil {
		body, _ := json.Marshal(m)
		progress.Printf("publisher: all %d records delivered, but %v\nthe completion object would have been:\n%s\n", acks.Records, err, body)
		return ExitFailed
	}
	fmt.Fprintf(stdout, "batch %s: %d records (%d products) delivered; wrote s3://%s/%s\n", o.batchID, acks.Records, acks.Products, o.bucket, key)
	return ExitOK
}

// AttemptTimeout bounds one PutRecords call. The largest call is 5 MiB,
// which takes a few seconds on a slow uplink; Kinesis answers far sooner.
const AttemptTimeout = 15 * time.Second

// bounded makes one call that must end within d (the --retry-for budget),
// shown in the progress while it runs. The SDK retries inside it.
func bounded(ctx context.Context, d time.Duration, p *Progress, what string, call func(context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	p.Waiting(what)
	defer p.Waiting("")
	err := call(callCtx)
	if err != nil && ctx.Err() == nil && callCtx.Err() != nil {
		return fmt.Errorf("%s: no answer within %v (--retry-for)", what, d)
	}
	return err
}

// publish encodes the source's orders into PutRecords-sized batches of at
// most limit records (0: the API's limit) and hands each one to send.
func publish(src *source, limit int, send func(*Batch) error) error {
	enc := NewEncoder()
	b := Batch{Limit: limit}
	for i := 0; i < src.total; i++ {
		order := src.next()
		r, err := enc.Encode(&order)
		if err != nil {
			return err
		}
		if !b.Fits(r) {
			if err := send(&b); err != nil {
				return err
			}
			b.Reset()
		}
		b.Add(r)
	}
	if len(b.Records) == 0 {
		return nil
	}
	return send(&b)
}

// rateLimit is the batch size that keeps a rate-limited run from sending
// more than one second's worth of records in one call; without a rate (0)
// it is 0, which Batch takes as the API's limit.
func rateLimit(rate float64) int { return int(math.Ceil(rate)) }

func dryRun(o *options, src *source, stdout, stderr io.Writer) int {
	var calls, records, products, bytes int64
	err := publish(src, rateLimit(o.rate), func(b *Batch) error {
		calls++
		records += int64(len(b.Records))
		bytes += int64(b.Bytes)
		for _, r := range b.Records {
			products += int64(r.Products)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "publisher: %v\n", err)
		return ExitUsage
	}
	bucket := o.bucket
	if bucket == "" {
		bucket = "<bucket>"
	}
	fmt.Fprintf(stdout, "dry run: %d records (%d products, %.2f MB) in %d PutRecords calls; nothing sent\nwould write s3://%s/%s\n",
		records, products, float64(bytes)/1e6, calls, bucket, ManifestKey(o.batchID))
	return ExitOK
}

// clients builds the Kinesis and S3 clients from the standard AWS
// environment, with the flags on top.
func clients(ctx context.Context, o *options) (*kinesis.Client, *s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, nil, errors.New("no AWS region: set --region or AWS_REGION")
	}
	kc := kinesis.NewFromConfig(cfg, func(k *kinesis.Options) {
		if o.endpoint != "" {
			k.BaseEndpoint = aws.String(o.endpoint)
		}
	})
	sc := s3.NewFromConfig(cfg, func(s *s3.Options) {
		if o.endpoint != "" {
			s.BaseEndpoint = aws.String(o.endpoint)
		}
		s.UsePathStyle = o.pathStyle
	})
	return kc, sc, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
