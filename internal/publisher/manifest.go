package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// Manifest is the completion object of one batch.
type Manifest struct {
	BatchID      string `json:"batch_id"`
	Stream       string `json:"stream"`
	RecordCount  int64  `json:"record_count"`
	ProductCount int64  `json:"product_count"`
	// First and last acknowledged sequence numbers, in acknowledgement
	// order; Shards has the exact range of every shard.
	FirstSequenceNumber string       `json:"first_sequence_number"`
	LastSequenceNumber  string       `json:"last_sequence_number"`
	Shards              []ShardRange `json:"shards"`
	StartTime           string       `json:"start_time"`
	EndTime             string       `json:"end_time"`
}

// NewManifest describes a fully acknowledged batch.
func NewManifest(batchID, stream string, a Acks, start, end time.Time) Manifest {
	m := Manifest{
		BatchID: batchID, Stream: stream,
		RecordCount: a.Records, ProductCount: a.Products,
		FirstSequenceNumber: a.First, LastSequenceNumber: a.Last,
		Shards:    []ShardRange{},
		StartTime: start.UTC().Format(TimestampLayout), EndTime: end.UTC().Format(TimestampLayout),
	}
	for _, shard := range slices.Sorted(maps.Keys(a.Shards)) {
		m.Shards = append(m.Shards, *a.Shards[shard])
	}
	return m
}

var batchIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// CheckBatchID rejects ids that would not make a plain object key.
func CheckBatchID(id string) error {
	if !batchIDPattern.MatchString(id) {
		return fmt.Errorf("batch id %q must be 1-128 letters, digits, '.', '_' or '-'", id)
	}
	return nil
}

// NewBatchID is a sortable, unique id: UTC start time plus random hex.
func NewBatchID(start time.Time, random uint32) string {
	return fmt.Sprintf("%s-%08x", start.UTC().Format("20060102T150405Z"), random)
}

// ManifestKey is where a batch's completion object goes.
func ManifestKey(batchID string) string { return config.CompletionPrefix + batchID + ".json" }

// PutObjectAPI is the part of the S3 client the publisher uses.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// WriteManifest puts the completion object and returns its key.
func WriteManifest(ctx context.Context, client PutObjectAPI, bucket string, m Manifest) (string, error) {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", err
	}
	key := ManifestKey(m.BatchID)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return "", fmt.Errorf("writing s3://%s/%s: %w", bucket, key, err)
	}
	return key, nil
}
