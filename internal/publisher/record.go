package publisher

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// PutRecords limits (Kinesis Data Streams quotas).
const (
	// MaxBatchRecords is the most entries one PutRecords call takes.
	MaxBatchRecords = 500
	// MaxBatchBytes is the most data plus partition keys one call takes.
	MaxBatchBytes = 5 << 20
	// MaxRecordBytes is the most one entry may carry, partition key included.
	MaxRecordBytes = 1 << 20
)

// Record is one encoded order, ready for PutRecords.
type Record struct {
	Data []byte
	// PartitionKey is the order id: random UUIDs hash evenly over the shards.
	PartitionKey string
	// Products counts the order's products, the exploded row count the audit
	// layers compare.
	Products int
}

// Size is what the record counts against the PutRecords limits.
func (r Record) Size() int { return len(r.Data) + len(r.PartitionKey) }

// Encoder turns orders into records. Its buffer is reused, so encoding
// costs one allocation per record: the record's own copy of the bytes.
type Encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// NewEncoder returns an encoder.
func NewEncoder() *Encoder {
	e := &Encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// Encode writes o as one JSON line (the newline keeps records separable
// wherever they are concatenated downstream).
func (e *Encoder) Encode(o *orders.Order) (Record, error) {
	e.buf.Reset()
	if err := e.enc.Encode(o); err != nil {
		return Record{}, fmt.Errorf("order %s: %v", o.OrderID, err)
	}
	r := Record{Data: bytes.Clone(e.buf.Bytes()), PartitionKey: o.OrderID, Products: len(o.Products)}
	if r.Size() > MaxRecordBytes {
		return Record{}, fmt.Errorf("order %s: %d bytes with its partition key, over the %d-byte Kinesis record limit", o.OrderID, r.Size(), MaxRecordBytes)
	}
	return r, nil
}

// Batch collects records until one more would break a PutRecords limit.
type Batch struct {
	Records []Record
	Bytes   int
	// Limit lowers the record count per call below MaxBatchRecords; a rate
	// limit uses it so that no single call bursts past a second's worth.
	Limit int
}

// Fits reports whether r can join the batch.
func (b *Batch) Fits(r Record) bool {
	limit := MaxBatchRecords
	if b.Limit > 0 {
		limit = min(b.Limit, MaxBatchRecords)
	}
	return len(b.Records) < limit && b.Bytes+r.Size() <= MaxBatchBytes
}

// Add appends r; callers check Fits first.
func (b *Batch) Add(r Record) {
	b.Records = append(b.Records, r)
	b.Bytes += r.Size()
}

// Reset empties the batch and keeps its capacity.
func (b *Batch) Reset() {
	clear(b.Records)
	b.Records = b.Records[:0]
	b.Bytes = 0
}
