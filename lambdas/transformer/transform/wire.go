package transform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// UnmarshalJSON decodes a Firehose invocation. It reads the fields it knows
// in one pass, with every record's data decoded into one shared buffer,
// because encoding/json spends most of an invocation's time on a 6 MB event.
//
// Only what the transformer uses is decoded: the invocation id (for the
// log, when it is a string) and each record's recordId and data. Everything
// else (the stream ARNs, the arrival timestamps, kinesisRecordMetadata) is
// checked to be JSON and skipped whatever its type, because Firehose's own
// samples disagree on those types (subsequenceNumber as a number or "",
// timestamps as numbers or strings) and a field the transformer does not
// need must not fail a batch. A record whose data is not base64 fails alone
// (see Event.Undecodable).
func (e *Event) UnmarshalJSON(b []byte) error {
	d := decoder{scanner: scanner{data: b}}
	*e = Event{}
	// Decoded data is at most 3/4 of its base64 text, all inside b.
	d.arena = make([]byte, 0, len(b)/4*3+3)
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "invocationId":
			return d.optionalString(&e.InvocationID)
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
		return fmt.Errorf("decoding the Firehose invocation: data after the event at byte %d", d.i)
	}
	return nil
}

var errSyntax = errors.New("malformed JSON")

type decoder struct {
	scanner
	arena []byte
	// depth is how many objects and arrays enclose d.i, so that a skipped
	// value nests no deeper than encoding/json allows in the whole event.
	depth int
}

func (d *decoder) syntaxError() error { return fmt.Errorf("%w at byte %d", errSyntax, d.i) }

// object calls member for each key of the object at d.i; member must
// consume the value.
func (d *decoder) object(member func(key []byte) error) error {
	d.space()
	if d.i >= len(d.data) || d.data[d.i] != '{' {
		return d.syntaxError()
	}
	d.i++
	d.space()
	if d.i < len(d.data) && d.data[d.i] == '}' {
		d.i++
		return nil
	}
	d.depth++
	for {
		start := d.i
		key, err := d.rawString()
		if err != nil {
			return err
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			// An escaped spelling of a name (rare) means the same name.
			var name string
			if err := json.Unmarshal(d.data[start:d.i], &name); err != nil {
				return err
			}
			key = []byte(name)
		}
		d.space()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			return d.syntaxError()
		}
		d.i++
		d.space()
		if err := member(key); err != nil {
			return err
		}
		if done, err := d.next('}'); done || err != nil {
			return err
		}
	}
}

// next is the scanner's next, leaving the level when it closes.
func (d *decoder) next(closing byte) (done bool, err error) {
	done, ok := d.scanner.next(closing)
	if !ok {
		return false, d.syntaxError()
	}
	if done {
		d.depth--
	}
	return done, nil
}

// rawString returns the body of the string at d.i without its quotes,
// escapes left as they are.
func (d *decoder) rawString() ([]byte, error) {
	if d.i >= len(d.data) || d.data[d.i] != '"' {
		return nil, d.syntaxError()
	}
	d.i++
	start := d.i
	if !d.scanner.str() {
		return nil, d.syntaxError()
	}
	return d.data[start : d.i-1], nil
}

func (d *decoder) isString() bool { return d.i < len(d.data) && d.data[d.i] == '"' }

func (d *decoder) str(dst *string) error {
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

// optionalString decodes a string; any other value leaves dst empty.
func (d *decoder) optionalString(dst *string) error {
	if !d.isString() {
		*dst = ""
		return d.skip()
	}
	return d.str(dst)
}

func (d *decoder) skip() error {
	if !d.value(d.depth) {
		return d.syntaxError()
	}
	return nil
}

func (d *decoder) records(e *Event) error {
	if d.i < len(d.data) && d.data[d.i] == 'n' {
		return d.skip()
	}
	if d.i >= len(d.data) || d.data[d.i] != '[' {
		return fmt.Errorf("records at byte %d is not an array", d.i)
	}
	d.i++
	d.space()
	e.Records, e.Undecodable = []events.KinesisFirehoseEventRecord{}, nil
	if d.i < len(d.data) && d.data[d.i] == ']' {
		d.i++
		return nil
	}
	d.depth++
	for {
		if err := d.record(e); err != nil {
			return fmt.Errorf("record %d: %w", len(e.Records), err)
		}
		if done, err := d.next(']'); done || err != nil {
			return err
		}
	}
}

// record decodes one record's recordId and data. Without a string
// recordId no answer could name the record, so that fails the invocation;
// data that is not a base64 string fails the record alone.
func (d *decoder) record(e *Event) error {
	var r events.KinesisFirehoseEventRecord
	var data []byte
	// A key given twice counts with its last value, as in encoding/json.
	idAt, idFound, dataIsText := -1, false, true
	start := d.i
	err := d.object(func(key []byte) error {
		switch string(key) {
		case "recordId":
			idAt, idFound = d.i, d.isString()
			if !idFound {
				return d.skip()
			}
			return d.str(&r.RecordID)
		case "data":
			if d.isString() {
				raw, err := d.rawString()
				data, dataIsText = raw, true
				return err
			}
			from := d.i
			if err := d.skip(); err != nil {
				return err
			}
			// null is no data (not JSON, downstream); anything else is
			// kept as it came and fails as not base64.
			data, dataIsText = d.data[from:d.i], false
			if string(data) == "null" {
				data, dataIsText = nil, true
			}
			return nil
		}
		return d.skip()
	})
	if err != nil {
		return err
	}
	switch {
	case idAt < 0:
		return fmt.Errorf("the record at byte %d has no recordId", start)
	case !idFound:
		return fmt.Errorf("recordId at byte %d is not a string", idAt)
	}
	arenaStart := len(d.arena)
	// Base64 text has no escapes, so the raw string is the text itself; a
	// backslash is not base64, so a string written with escapes fails to
	// decode, as it should.
	decoded, err := base64.StdEncoding.AppendDecode(d.arena, data)
	if err != nil || !dataIsText {
		if e.Undecodable == nil {
			e.Undecodable = map[string]bool{}
		}
		e.Undecodable[r.RecordID] = true
		r.Data = bytes.Clone(data)
	} else {
		d.arena = decoded
		r.Data = d.arena[arenaStart:len(d.arena):len(d.arena)]
	}
	e.Records = append(e.Records, r)
	return nil
}
