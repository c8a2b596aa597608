// Package reconcile is AuditTableScannerFn's logic: it turns an audit-table
// stream record into a comparison of one layer's record count with the S3
// landing count of the same run id, and notifies the outcome once.
package reconcile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
)

// Write is one layer count an audit job wrote, as the stream delivered it.
type Write struct {
	RunID      string
	Layer      audit.Layer
	Count      int64
	JobName    string
	JobRunID   string
	RecordedAt string
	// EventID identifies the stream record; it names the scanner's claim.
	EventID string
	// Sequence is the record's stream sequence number, zero-padded to
	// SequenceDigits so that DynamoDB's string comparison orders it.
	Sequence string
}

// SequenceDigits is the longest stream sequence number DynamoDB Streams
// issues.
const SequenceDigits = 40

// ErrMalformed marks a stream record that can never be reconciled as it is.
var ErrMalformed = errors.New("malformed audit stream record")

// ParseRecord reads the audit item a stream record carries. relevant is
// false for records the scanner does not compare (removals, landing counts,
// its own notified# items), which the event filter normally keeps away.
func ParseRecord(r events.DynamoDBEventRecord) (w Write, relevant bool, err error) {
	if r.EventName != "INSERT" && r.EventName != "MODIFY" {
		return Write{}, false, nil
	}
	img := r.Change.NewImage
	if img == nil {
		return Write{}, false, fmt.Errorf("%w: %s event %s has no new image (the stream must carry NEW_IMAGE or NEW_AND_OLD_IMAGES)", ErrMalformed, r.EventName, r.EventID)
	}
	layer, err := stringAttr(img, audit.LayerKey)
	if err != nil {
		return Write{}, false, fmt.Errorf("%w: event %s: %v", ErrMalformed, r.EventID, err)
	}
	if !audit.IsCompared(audit.Layer(layer)) {
		return Write{}, false, nil
	}
	w = Write{Layer: audit.Layer(layer), EventID: r.EventID}
	if w.Sequence, err = paddedSequence(r.Change.SequenceNumber); err != nil {
		return Write{}, false, fmt.Errorf("%w: event %s: %v", ErrMalformed, r.EventID, err)
	}
	if w.RunID, err = stringAttr(img, audit.RunIDKey); err != nil {
		return Write{}, false, fmt.Errorf("%w: event %s: %v", ErrMalformed, r.EventID, err)
	}
	if w.Count, err = countAttr(img, audit.RecordCountAttr); err != nil {
		return Write{}, false, fmt.Errorf("%w: event %s (run %s, layer %s): %v", ErrMalformed, r.EventID, w.RunID, w.Layer, err)
	}
	// Job and time are context for the reader of the notification, not
	// needed to compare, so an audit job that omits them is not rejected.
	w.JobName = optionalString(img, audit.JobNameAttr)
	w.JobRunID = optionalString(img, audit.JobRunIDAttr)
	w.RecordedAt = optionalString(img, audit.RecordedAtAttr)
	return w, true, nil
}

func paddedSequence(seq string) (string, error) {
	if seq == "" || len(seq) > SequenceDigits || strings.Trim(seq, "0123456789") != "" {
		return "", fmt.Errorf("sequence number %q is not 1 to %d decimal digits", seq, SequenceDigits)
	}
	return strings.Repeat("0", SequenceDigits-len(seq)) + seq, nil
}

func stringAttr(img map[string]events.DynamoDBAttributeValue, name string) (string, error) {
	v, ok := img[name]
	if !ok {
		return "", fmt.Errorf("attribute %s is missing", name)
	}
	if v.DataType() != events.DataTypeString {
		return "", fmt.Errorf("attribute %s must be a string (S)", name)
	}
	if v.String() == "" {
		return "", fmt.Errorf("attribute %s is empty", name)
	}
	return v.String(), nil
}

func countAttr(img map[string]events.DynamoDBAttributeValue, name string) (int64, error) {
	v, ok := img[name]
	if !ok {
		return 0, fmt.Errorf("attribute %s is missing", name)
	}
	if v.DataType() != events.DataTypeNumber {
		return 0, fmt.Errorf("attribute %s must be a number (N)", name)
	}
	n, err := strconv.ParseInt(v.Number(), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("attribute %s = %q is not a non-negative whole number", name, v.Number())
	}
	return n, nil
}

func optionalString(img map[string]events.DynamoDBAttributeValue, name string) string {
	if v, ok := img[name]; ok && v.DataType() == events.DataTypeString {
		return v.String()
	}
	return ""
}
