package transform

import (
	"encoding/json"
	"testing"
)

// benchEvent is a 6 MB Firehose invocation (Lambda's request limit) of
// realistic orders from a Kinesis source, about 6,600 of them, decoded and
// as JSON. It sets b's throughput to the orders' bytes, reports allocations
// and resets the timer, so the benchmark times only its loop.
func benchEvent(b *testing.B) (Event, []byte) {
	ev, _ := realisticEvent(42, 4*1024*1024)
	// Each size check encodes the event: estimate the count first, then trim.
	perRecord := encodedRequestSize(ev) / len(ev.Records)
	ev.Records = ev.Records[:6_000_000/perRecord+10]
	for encodedRequestSize(ev) > 6_000_000 {
		ev.Records = ev.Records[:len(ev.Records)-5]
	}
	payload, err := json.Marshal(ev.KinesisFirehoseEvent)
	if err != nil {
		b.Fatal(err)
	}
	decoded := 0
	for _, r := range ev.Records {
		decoded += len(r.Data)
	}
	b.Logf("%d orders, %d bytes of JSON, %d-byte invocation", len(ev.Records), decoded, len(payload))
	b.SetBytes(int64(decoded))
	b.ReportAllocs()
	b.ResetTimer()
	return ev, payload
}

// BenchmarkTransform measures the logic alone: scan, splice, size accounting.
func BenchmarkTransform(b *testing.B) {
	ev, _ := benchEvent(b)
	for b.Loop() {
		resp, _ := Transform(ev, testStamp)
		if len(resp.Records) != len(ev.Records) {
			b.Fatal("records lost")
		}
	}
}

// BenchmarkTransformInvocation is the whole handler as the Lambda runs it:
// decoding the invocation (base64 included), Transform, encoding the response.
func BenchmarkTransformInvocation(b *testing.B) {
	_, payload := benchEvent(b)
	for b.Loop() {
		var ev Event
		if err := ev.UnmarshalJSON(payload); err != nil {
			b.Fatal(err)
		}
		resp, _ := Transform(ev, testStamp)
		if _, err := json.Marshal(resp); err != nil {
			b.Fatal(err)
		}
	}
}
