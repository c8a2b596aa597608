// Package transform is the logic of the Firehose transformer Lambda: it
// stamps every order with processing_timestamp and run_id and hands back
// every other byte of the order as it came. It validates and splices rather
// than decoding each order into a map and encoding it again, which is what
// keeps it fast (see the README's benchmark figures).
package transform

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// Reason says why a record came back ProcessingFailed. Firehose writes such
// records, unchanged, under the landing bucket's error prefix.
type Reason string

const (
	OK            Reason = ""
	BadBase64     Reason = "bad_base64"     // data was not valid base64
	NotJSON       Reason = "not_json"       // not one well-formed UTF-8 JSON document
	NotObject     Reason = "not_object"     // JSON, but not an object
	TooLarge      Reason = "too_large"      // over MaxRecordBytes
	ReservedField Reason = "reserved_field" // already has processing_timestamp or run_id
	OverLimit     Reason = "response_limit" // stamping it would push the response over ResponseLimit
)

const (
	// MaxRecordBytes is the largest record Firehose accepts (1,000 KiB);
	// anything larger did not come from Firehose and is refused unread.
	MaxRecordBytes = 1000 * 1024
	// ResponseLimit is what the response may take once encoded: Lambda
	// refuses a synchronous response over 6 MB (taken as 10^6 bytes, the
	// stricter reading).
	ResponseLimit = 6_000_000
	// TimestampLayout is the processing_timestamp format; the OpenX JSON
	// SerDe converts yyyy-MM-dd'T'HH:mm:ss[.S]'Z' to a Parquet timestamp.
	TimestampLayout = "2006-01-02T15:04:05.000Z"
)

// Event is one Firehose invocation. It is the typed event plus the records
// whose data was not valid base64: decoding straight into
// events.KinesisFirehoseEvent would reject the whole batch for one of them.
// Event.UnmarshalJSON fills only InvocationID and each record's RecordID and
// Data, which is all Transform and the handler use.
type Event struct {
	events.KinesisFirehoseEvent
	// Undecodable holds the ids of records whose data is not base64; their
	// Data is the text as received.
	Undecodable map[string]bool
}

// Stamp is what every record of one invocation gets.
type Stamp struct {
	RunID string
	At    time.Time
}

// Counts tally one invocation's results.
type Counts struct {
	Records int            `json:"records"`
	OK      int            `json:"ok"`
	Failed  map[Reason]int `json:"failed"`
}

// Transform stamps every record of ev with s. Every record comes back,
// with its record id, exactly once: Ok with the stamped order, or
// ProcessingFailed with its original data. The encoded response never
// exceeds ResponseLimit when the failed-record form of the batch fits in it
// (which Firehose's 6 MB request limit guarantees): records that would push
// it over come back ProcessingFailed with reason OverLimit.
func Transform(ev Event, s Stamp) (events.KinesisFirehoseResponse, Counts) {
	records := ev.Records
	counts := Counts{Records: len(records), Failed: map[Reason]int{}}
	fields := stampedFields(s)
	meta := s.Metadata()
	metaGrow := metadataLen(meta) - metadataLen(events.KinesisFirehoseResponseRecordMetadata{})

	scans := make([]order, len(records))
	size := emptyResponseSize + max(len(records)-1, 0) // commas between records
	for i, r := range records {
		switch {
		case ev.Undecodable[r.RecordID]:
			scans[i].reason = BadBase64
		case len(r.Data) > MaxRecordBytes:
			scans[i].reason = TooLarge
		default:
			scans[i] = scanOrder(r.Data)
		}
		scans[i].idLen = jsonStringLen(r.RecordID)
		size += recordSize(scans[i].idLen, failedLen, len(r.Data))
	}
	// Upgrade records from failed to Ok while the response still fits.
	room := ResponseLimit - size
	arena := 0
	for i, r := range records {
		if scans[i].reason != OK {
			continue
		}
		grow := recordSize(scans[i].idLen, okLen, len(r.Data)+len(fields)+1) -
			recordSize(scans[i].idLen, failedLen, len(r.Data)) + metaGrow
		if grow > room {
			scans[i].reason = OverLimit
			continue
		}
		room -= grow
		arena += len(r.Data) + len(fields) + 1
	}

	// One allocation holds every stamped order.
	buf := make([]byte, 0, arena)
	out := make([]events.KinesisFirehoseResponseRecord, len(records))
	for i, r := range records {
		out[i].RecordID = r.RecordID
		sc := &scans[i]
		if sc.reason != OK {
			out[i].Result = events.KinesisFirehoseTransformedStateProcessingFailed
			out[i].Data = r.Data
			if out[i].Data == nil {
				out[i].Data = []byte{} // "data":"" rather than null, which Firehose would reject
			}
			counts.Failed[sc.reason]++
			continue
		}
		start := len(buf)
		buf = append(buf, r.Data[:sc.close]...)
		if sc.members {
			buf = append(buf, ',')
		}
		buf = append(buf, fields...)
		buf = append(buf, r.Data[sc.close:]...)
		out[i].Result = events.KinesisFirehoseTransformedStateOk
		out[i].Data = buf[start:len(buf):len(buf)]
		out[i].Metadata = meta
		counts.OK++
	}
	return events.KinesisFirehoseResponse{Records: out}, counts
}

// Partition keys every stamped record returns in metadata.partitionKeys;
// Firehose's dynamic partitioning puts the record under
// orders/processing_date=<date>/processing_hour=<hour>/run=<run>/ (the
// ingestion stack's prefix), so a record's partition always agrees with its
// own processing_timestamp and run_id. The names are short because every
// record's response carries them (6 MB response limit).
const (
	PartitionDate = "date"
	PartitionHour = "hour"
	PartitionRun  = "run"
)

// Metadata is the partition-key metadata of the records stamped with s:
// the UTC date and hour of the stamp and the run id.
func (s Stamp) Metadata() events.KinesisFirehoseResponseRecordMetadata {
	at := s.At.UTC()
	return events.KinesisFirehoseResponseRecordMetadata{PartitionKeys: map[string]string{
		PartitionDate: at.Format("2006-01-02"),
		PartitionHour: at.Format("15"),
		PartitionRun:  s.RunID,
	}}
}

func metadataLen(m events.KinesisFirehoseResponseRecordMetadata) int { return mustLen(m) }

// stampedFields is the JSON members spliced before an order's closing brace.
func stampedFields(s Stamp) []byte {
	ts, _ := json.Marshal(s.At.UTC().Format(TimestampLayout))
	id, _ := json.Marshal(s.RunID)
	b := make([]byte, 0, 64)
	b = append(b, `"`+orders.ProcessingTimestampField+`":`...)
	b = append(b, ts...)
	b = append(b, `,"`+orders.RunIDField+`":`...)
	b = append(b, id...)
	return b
}

// emptyResponseSize and emptyRecordSize are measured from encoding/json
// itself, so the size accounting follows the library that writes the
// response (including the metadata object it always emits).
var (
	emptyResponseSize = mustLen(events.KinesisFirehoseResponse{Records: []events.KinesisFirehoseResponseRecord{}})
	emptyRecordSize   = mustLen(events.KinesisFirehoseResponseRecord{Data: []byte{}})
)

func mustLen(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return len(b)
}

var (
	okLen     = jsonStringLen(events.KinesisFirehoseTransformedStateOk)
	failedLen = jsonStringLen(events.KinesisFirehoseTransformedStateProcessingFailed)
)

// recordSize is the encoded size of one response record from the encoded
// lengths of its id and result and the length of its data.
func recordSize(idLen, resultLen, dataLen int) int {
	return emptyRecordSize + idLen - 2 + resultLen - 2 + base64.StdEncoding.EncodedLen(dataLen)
}

// jsonStringLen is the length of s encoded as a JSON string by encoding/json.
func jsonStringLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return len(b)
		}
	}
	return len(s) + 2
}
