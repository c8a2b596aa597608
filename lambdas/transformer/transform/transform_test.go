package transform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

const okState, failedState = events.KinesisFirehoseTransformedStateOk, events.KinesisFirehoseTransformedStateProcessingFailed

// stampedOrder is an order as it lands: the source fields plus the stamps.
type stampedOrder struct {
	orders.Order
	ProcessingTimestamp string `json:"processing_timestamp"`
	RunID               string `json:"run_id"`
}

func TestValidOrdersAreStampedAndOtherwiseUnchanged(t *testing.T) {
	ev, _ := realisticEvent(1, 64*1024)
	resp, counts := Transform(ev, testStamp)
	if len(resp.Records) != len(ev.Records) || counts.OK != len(ev.Records) || len(counts.Failed) != 0 {
		t.Fatalf("got %d records, counts %+v; want %d Ok", len(resp.Records), counts, len(ev.Records))
	}
	suffix := `,"processing_timestamp":"2026-11-28T01:02:03.456Z","run_id":"20261128T013000Z-0a1b2c3d"}`
	for i, out := range resp.Records {
		in := ev.Records[i]
		if out.RecordID != in.RecordID || out.Result != okState {
			t.Fatalf("record %d: id %q result %q", i, out.RecordID, out.Result)
		}
		// Every byte of the order is kept: only the stamps are spliced in.
		want := string(in.Data[:len(in.Data)-1]) + suffix
		if string(out.Data) != want {
			t.Fatalf("record %d:\n got %s\nwant %s", i, out.Data, want)
		}
		var got stampedOrder
		if err := json.Unmarshal(out.Data, &got); err != nil {
			t.Fatalf("record %d is not JSON: %v", i, err)
		}
		var orig orders.Order
		_ = json.Unmarshal(in.Data, &orig)
		if !reflect.DeepEqual(got.Order, orig) || got.RunID != testStamp.RunID || got.ProcessingTimestamp != "2026-11-28T01:02:03.456Z" {
			t.Fatalf("record %d decoded to %+v", i, got)
		}
	}
}

func TestSpliceKeepsWhitespaceAndHandlesEmptyObjects(t *testing.T) {
	stamps := `"processing_timestamp":"2026-11-28T01:02:03.456Z","run_id":"20261128T013000Z-0a1b2c3d"`
	cases := map[string]string{
		`{}`:                        `{` + stamps + `}`,
		" \n{ }\r\n":                " \n{ " + stamps + "}\r\n",
		`{"a":{"b":[1,{}]}}  `:      `{"a":{"b":[1,{}]},` + stamps + `}  `,
		`{"é":"ü\u00e9\n"}`:         `{"é":"ü\u00e9\n",` + stamps + `}`,
		`{"run_idx":1,"n":-0.5e+3}`: `{"run_idx":1,"n":-0.5e+3,` + stamps + `}`,
	}
	for in, want := range cases {
		resp, _ := Transform(eventOf([]byte(in)), testStamp)
		if r := resp.Records[0]; r.Result != okState || string(r.Data) != want {
			t.Errorf("%q → %s %q, want Ok %q", in, r.Result, r.Data, want)
		}
	}
}

func TestBadRecordsFailWithTheirOriginalData(t *testing.T) {
	good := []byte(`{"order_id":"a"}`)
	cases := []struct {
		data   string
		reason Reason
	}{
		{``, NotJSON},
		{`   `, NotJSON},
		{`{"order_id":`, NotJSON},
		{`{"a":1}{"b":2}`, NotJSON},
		{`{"a":1,}`, NotJSON},
		{`{'a':1}`, NotJSON},
		{`{"a":01}`, NotJSON},
		{`{"a":"\x"}`, NotJSON},
		{"{\"a\":\"\xff\"}", NotJSON},
		{"{\"a\":\"tab\tinside\"}", NotJSON},
		{`{"a":tru}`, NotJSON},
		{`[{"order_id":"a"}]`, NotObject},
		{`"just a string"`, NotObject},
		{`42`, NotObject},
		{`null`, NotObject},
		{`{"run_id":"x"}`, ReservedField},
		{`{"a":1,"PROCESSING_TIMESTAMP":"x"}`, ReservedField},
		{`{"run\u005fid":"x"}`, ReservedField},
		{`{"` + strings.Repeat("x", MaxRecordBytes) + `":1}`, TooLarge},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), NotJSON},
	}
	datas := [][]byte{good}
	for _, c := range cases {
		datas = append(datas, []byte(c.data))
	}
	ev := eventOf(datas...)
	resp, counts := Transform(ev, testStamp)
	if len(resp.Records) != len(datas) {
		t.Fatalf("%d records back for %d", len(resp.Records), len(datas))
	}
	if resp.Records[0].Result != okState {
		t.Fatalf("the good record next to bad ones failed")
	}
	want := map[Reason]int{}
	for i, c := range cases {
		got := resp.Records[i+1]
		if got.RecordID != ev.Records[i+1].RecordID || got.Result != failedState || !bytes.Equal(got.Data, []byte(c.data)) {
			t.Errorf("%.40q: got %s (%.40q), want ProcessingFailed with the original data", c.data, got.Result, got.Data)
		}
		want[c.reason]++
	}
	if counts.OK != 1 || !reflect.DeepEqual(counts.Failed, want) {
		t.Errorf("counts %+v, want ok=1 failed=%v", counts, want)
	}
}

func TestBadBase64FailsAloneThroughTheWireDecoding(t *testing.T) {
	payload := fmt.Sprintf(`{"invocationId":"i","records":[
		{"recordId":"1","approximateArrivalTimestamp":1795000000000,"data":%q},
		{"recordId":"2","approximateArrivalTimestamp":1795000000000,"data":"not base64!"}]}`,
		base64.StdEncoding.EncodeToString([]byte(`{"order_id":"a"}`)))
	var ev Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		t.Fatalf("one bad record failed the whole invocation: %v", err)
	}
	resp, counts := Transform(ev, testStamp)
	if resp.Records[0].Result != okState || resp.Records[1].Result != failedState || string(resp.Records[1].Data) != "not base64!" {
		t.Fatalf("got %+v", resp.Records)
	}
	if counts.Failed[BadBase64] != 1 || counts.OK != 1 {
		t.Fatalf("counts %+v", counts)
	}
}

func TestEmptyEvent(t *testing.T) {
	resp, counts := Transform(Event{}, testStamp)
	if len(resp.Records) != 0 || counts.Records != 0 {
		t.Fatalf("got %+v %+v", resp, counts)
	}
	b, _ := json.Marshal(resp)
	if string(b) != `{"records":[]}` {
		t.Fatalf("empty response encodes as %s; Firehose needs a records array", b)
	}
}

// The size accounting must equal what encoding/json writes, or the limit
// below proves nothing.
func TestResponseSizeAccountingIsExact(t *testing.T) {
	ev, _ := realisticEvent(2, 32*1024)
	ev.Records = append(ev.Records, record(9999, []byte(`[]`)), record(10000, nil))
	ev.Records[0].RecordID = `id with "quotes" & <tags> é`
	resp, _ := Transform(ev, testStamp)
	want := emptyResponseSize + len(resp.Records) - 1
	meta := metadataLen(testStamp.Metadata()) - metadataLen(events.KinesisFirehoseResponseRecordMetadata{})
	for _, r := range resp.Records {
		want += recordSize(jsonStringLen(r.RecordID), jsonStringLen(r.Result), len(r.Data))
		if r.Result == events.KinesisFirehoseTransformedStateOk {
			want += meta
		}
	}
	b, _ := json.Marshal(resp)
	if len(b) != want {
		t.Fatalf("accounted %d bytes, encoding/json wrote %d", want, len(b))
	}
}

// Maximum-size events: the processor buffer at the largest value config
// allows (realistic orders), and a 6 MB request (Lambda's request limit) of
// the smallest orders, which grow the most relative to their size.
func TestMaximumSizeEventsStayUnderTheResponseLimit(t *testing.T) {
	realistic, _ := realisticEvent(3, maxTransformerBufferMiB(t)*1024*1024)
	if n := encodedRequestSize(realistic); n > 6_000_000 {
		t.Fatalf("a full processor buffer makes a %d-byte request, over Lambda's 6 MB: lower transformerBufferSizeMiB's max", n)
	}
	// A full processor buffer of the smallest realistic orders (one
	// product, about 250 bytes): they grow the most relative to their size,
	// about 180 bytes each with the stamp and the partition keys.
	var tiny Event
	smallest := []byte(`{"order_id":"00000000-0000-0000-0000-000000000000","order_timestamp":"2026-11-28T01:02:03.456Z","customer_id":"c-1","order_status":"PLACED","payment_method":"CARD","currency":"EUR","shipping_country":"DE","products":[{"product_code":"P-1","quantity":1,"unit_price":1.00}]}`)
	for i := 0; (i+1)*len(smallest) <= maxTransformerBufferMiB(t)*1024*1024; i++ {
		tiny.Records = append(tiny.Records, record(i, smallest))
	}
	if n := encodedRequestSize(tiny); n > 6_000_000 {
		t.Fatalf("a full processor buffer of small orders makes a %d-byte request, over Lambda's 6 MB", n)
	}
	// Without the Kinesis metadata the request envelope is smaller than the
	// response's, so stamping every record would not fit: the limit must bite.
	bare := eventOf()
	for i := 0; i < 20_000; i++ {
		bare.Records = append(bare.Records, events.KinesisFirehoseEventRecord{RecordID: fmt.Sprint(i), Data: bytes.Repeat([]byte(" "), 40)})
		bare.Records[i].Data[0], bare.Records[i].Data[39] = '{', '}'
	}
	for name, ev := range map[string]Event{"full buffer of realistic orders": realistic, "full buffer of the smallest orders": tiny, "bare records": bare} {
		resp, counts := Transform(ev, testStamp)
		b, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d records, request %d bytes, response %d bytes, counts ok=%d failed=%v",
			name, len(ev.Records), encodedRequestSize(ev), len(b), counts.OK, counts.Failed)
		if len(b) >= ResponseLimit {
			t.Errorf("%s: response is %d bytes, limit %d", name, len(b), ResponseLimit)
		}
		if len(resp.Records) != len(ev.Records) || counts.OK+counts.Failed[OverLimit] != len(ev.Records) {
			t.Errorf("%s: records lost or wrongly failed: %d back, counts %+v", name, len(resp.Records), counts)
		}
		if name == "bare records" && counts.Failed[OverLimit] == 0 {
			t.Errorf("bare records: expected the response limit to fail some records")
		}
		if name != "bare records" && counts.OK != len(ev.Records) {
			t.Errorf("%s: every record should fit, counts %+v", name, counts)
		}
	}
}

// maxTransformerBufferMiB is the largest processor buffer config accepts.
func maxTransformerBufferMiB(t *testing.T) int {
	f, _ := reflect.TypeOf(config.Config{}).FieldByName("TransformerBufferSizeMiB")
	n, err := strconv.Atoi(f.Tag.Get("max"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The invocation decoder reads what encoding/json reads from a real event.
func TestDecodedInvocationMatchesEncodingJSON(t *testing.T) {
	ev, _ := realisticEvent(5, 256*1024)
	ev.Records[0].RecordID = `id with \ and "quotes"`
	payload, _ := json.Marshal(ev.KinesisFirehoseEvent)
	checkDecoding(t, payload)
	var ours Event
	if err := json.Unmarshal(payload, &ours); err != nil || len(ours.Records) != len(ev.Records) || ours.Records[0].RecordID != ev.Records[0].RecordID {
		t.Fatalf("decoded %d of %d records: %v", len(ours.Records), len(ev.Records), err)
	}
}

// Every stamped record names its partition by its own stamp: the UTC date
// and hour of processing_timestamp and the run id, so Firehose's dynamic
// partitioning files it where its stamp says (not by arrival time). A
// record stamped 00:59:59.999 and one stamped 01:00:00.000 land in
// different hours; failed records carry no keys.
func TestStampedRecordsCarryTheirStampsPartitionKeys(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(2026, 11, 28, 0, 59, 59, 999_000_000, time.UTC),
		time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 28, 23, 30, 0, 0, time.FixedZone("CET", 3600)), // 22:30 UTC
	} {
		st := Stamp{RunID: "20261128T000000Z-0a1b2c3d", At: at}
		resp, _ := Transform(eventOf([]byte(`{"order_id":"a"}`), []byte(`not json`)), st)
		ok, failed := resp.Records[0], resp.Records[1]
		var stamped struct {
			ProcessingTimestamp string `json:"processing_timestamp"`
			RunID               string `json:"run_id"`
		}
		if err := json.Unmarshal(ok.Data, &stamped); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{PartitionDate: stamped.ProcessingTimestamp[:10], PartitionHour: stamped.ProcessingTimestamp[11:13], PartitionRun: stamped.RunID}
		if !reflect.DeepEqual(ok.Metadata.PartitionKeys, want) {
			t.Errorf("stamp %s: partition keys %v, want %v", stamped.ProcessingTimestamp, ok.Metadata.PartitionKeys, want)
		}
		if failed.Metadata.PartitionKeys != nil {
			t.Errorf("a failed record carries partition keys %v", failed.Metadata.PartitionKeys)
		}
	}
}
