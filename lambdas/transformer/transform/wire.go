package transform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// UnmarshalJSON decodes a Firehose invocation. It reads the fields it knows
// in one pass, with every record's data decoded into one shared buffer,
// because encoding/json spends most of an invocation's time on a 6 MB event.
// A record whose data is not base64 fails alone (see Event.Undecodable)
// instead of failing the whole batch.
func (e *Event) UnmarshalJSON(b []byte) error {
	d := decoder{scanner: scanner{data: b}}
	*e = Event{}
	// Decoded data is at most 3/4 of its base64 text, all inside b.
	d.arena = make([]byte, 0, len(b)/4*3+3)
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "invocationId":
			return d.str(&e.InvocationID)
		case "deliveryStreamArn":
			return d.str(&e.DeliveryStreamArn)
		case "sourceKinesisStreamArn":
			return d.str(&e.SourceKinesisStreamArn)
		case "region":
			return d.str(&e.Region)
		case "records":
			return d.records(e)
		}
		return d.skip()
	})
	if err != nil {
		return fmt.Errorf("decoding the Firehose invocation: %w", err)
	}
	d.space()
	if d.i != len(d.data) {
		return errors.New("decoding the Firehose invocation: data after the event")
	}
	return nil
}

var errSyntax = errors.New("malformed JSON")

type decoder struct {
	scanner
	arena []byte
}

// object calls member for each key of the object at d.i; member must
// consume the value.
func (d *decoder) object(member func(key []byte) error) error {
	d.space()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return errSyntax
	}
	d.i++
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.rawString()
		if err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return errSyntax
		}
		d.i++
		d.space()
		if err := member(key); err != nil {
			return err
		}
		d.space()
		if d.i >= len(d.data) {
			return errSyntax
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case '}':
			d.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// rawString returns the body of the string at d.i without its quotes,
// escapes left as they are.
func (d *decoder) rawString() ([]byte, error) {
	if d.i >= len(d.data) || d.data[d.i] != '"' {
		return nil, errSyntax
	}
	d.i++
	start := d.i
	if !d.scanner.str() {
		return nil, errSyntax
	}
	return d.data[start : d.i-1], nil
}

func (d *decoder) str(dst *string) error {
	if d.i < len(d.data) && d.data[d.i] == 'n' {
		return d.skip() // null leaves the field empty
	}
	start := d.i
	raw, err := d.rawString()
	if err != nil {
		return err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		*dst = string(raw)
		return nil
	}
	return json.Unmarshal(d.data[start:d.i], dst)
}

func (d *decoder) int(dst *int64) error {
	if d.i < len(d.data) && d.data[d.i] == 'n' {
		return d.skip()
	}
	start := d.i
	if !d.number() {
		return errSyntax
	}
	f, err := strconv.ParseFloat(string(d.data[start:d.i]), 64)
	*dst = int64(f)
	return err
}

func (d *decoder) millis(dst *events.MilliSecondsEpochTime) error {
	var ms int64
	if err := d.int(&ms); err != nil {
		return err
	}
	dst.Time = time.UnixMilli(ms)
	return nil
}

func (d *decoder) skip() error {
	if !d.value(0) {
		return errSyntax
	}
	return nil
}

func (d *decoder) records(e *Event) error {
	if d.i < len(d.data) && d.data[d.i] == 'n' {
		return d.skip()
	}
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return errSyntax
	}
	d.i++
	d.space()
	e.Records = []events.KinesisFirehoseEventRecord{}
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return nil
	}
	for {
		var r events.KinesisFirehoseEventRecord
		var data []byte
		err := d.object(func(key []byte) error {
			switch string(key) {
			case "recordId":
				return d.str(&r.RecordID)
			case "approximateArrivalTimestamp":
				return d.millis(&r.ApproximateArrivalTimestamp)
			case "data":
				raw, err := d.rawString()
				data = raw
				return err
			case "kinesisRecordMetadata":
				return d.metadata(&r.KinesisFirehoseRecordMetadata)
			}
			return d.skip()
		})
		if err != nil {
			return err
		}
		start := len(d.arena)
		// Base64 text has no escapes, so the raw string is the text itself.
		decoded, err := base64.StdEncoding.AppendDecode(d.arena, data)
		if err != nil || bytes.IndexByte(data, '\\') >= 0 {
			if e.Undecodable == nil {
				e.Undecodable = map[string]bool{}
			}
			e.Undecodable[r.RecordID] = true
			r.Data = bytes.Clone(data)
		} else {
			d.arena = decoded
			r.Data = d.arena[start:len(d.arena):len(d.arena)]
		}
		e.Records = append(e.Records, r)
		d.space()
		if d.i >= len(d.data) {
			return errSyntax
		}
		switch d.data[d.i] {
		case ',':
			d.i++
			d.space()
		case ']':
			d.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (d *decoder) metadata(m *events.KinesisFirehoseRecordMetadata) error {
	if d.i < len(d.data) && d.data[d.i] == 'n' {
		return d.skip()
	}
	return d.object(func(key []byte) error {
		switch string(key) {
		case "shardId":
			return d.str(&m.ShardID)
		case "partitionKey":
			return d.str(&m.PartitionKey)
		case "sequenceNumber":
			return d.str(&m.SequenceNumber)
		case "subsequenceNumber":
			return d.int(&m.SubsequenceNumber)
		case "approximateArrivalTimestamp":
			return d.millis(&m.ApproximateArrivalTimestamp)
		}
		return d.skip()
	})
}
