package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// scanDocs are records that between them use every construct the record
// scanner reads: escapes of every kind (hex digits at both ends of each
// range), multi-byte UTF-8, strings longer than a word, every number form,
// the literals, empty and nested containers and whitespace everywhere.
var scanDocs = []string{
	`{"order_id":"00000000-0000-0000-0000-000000000000","n":1}`,
	`{"a":"\"\\\/\b\f\n\r\t","b":"\u0009\u09aF\uaf0A\uFfAf"}`,
	`{"é":"ü€𝄞","long ascii key over a word":"a string longer than eight bytes"}`,
	`{"n":[0,-0,12,-1.5,1.25e+10,2E-3,7e5,-0.0e0]}`,
	`{"t":true,"f":false,"z":null,"e":{},"a":[],"o":{"x":[{}]}}`,
	" \t\r\n{ \"a\" : [ 1 , { \"b\" : \"c\" } ] , \"d\" : { } } \n",
	`{}`,
	`{"\u0072un_id":1}`,
	`{"a":1,"Processing_Timestamp":"x"}`,
	`["not",{"an":"object"}]`,
	`"just a string"`,
	`-12.5e3`,
}

// corruptions are the bytes written over each byte of a document: the JSON
// structural bytes, the ends of the hex digit ranges and the bytes just
// outside them, a control character, and bytes that are not UTF-8 alone.
var corruptions = []byte(`"\{}[],: /09:@AFG` + "`" + `afgu.eE+-tnx` + "\x00\x1f\x7f\x80\xc3\xff")

// variations are every prefix of doc, and doc with each byte deleted and
// with each byte replaced by each of corruptions.
func variations(doc string) [][]byte {
	var out [][]byte
	for n := 0; n <= len(doc); n++ {
		out = append(out, []byte(doc[:n]))
	}
	for i := 0; i < len(doc); i++ {
		out = append(out, []byte(doc[:i]+doc[i+1:]))
		for _, c := range corruptions {
			if c != doc[i] {
				out = append(out, []byte(doc[:i]+string(c)+doc[i+1:]))
			}
		}
	}
	return out
}

// checkScan compares scanOrder with encoding/json: a record is JSON when it
// is UTF-8 and json.Valid, an object when it starts with a brace, and
// reserved when one of its top-level keys, decoded, names a stamped field
// in any case. For an object the scan also says where the closing brace is
// and whether there are members.
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	got := scanOrder(data)
	want := OK
	var obj map[string]json.RawMessage
	switch {
	case !utf8.Valid(data) || !json.Valid(data):
		want = NotJSON
	case json.Unmarshal(data, &obj) != nil || obj == nil:
		want = NotObject
	default:
		for k := range obj {
			if strings.EqualFold(k, orders.RunIDField) || strings.EqualFold(k, orders.ProcessingTimestampField) {
				want = ReservedField
			}
		}
	}
	if got.reason != want {
		t.Fatalf("scanOrder(%q): reason %q, encoding/json says %q", data, got.reason, want)
	}
	if want != OK {
		return
	}
	if trimmed := bytes.TrimRight(data, " \t\r\n"); got.close != len(trimmed)-1 || data[got.close] != '}' {
		t.Fatalf("scanOrder(%q): closing brace at %d", data, got.close)
	}
	if got.members != (len(obj) > 0) {
		t.Fatalf("scanOrder(%q): members %v, encoding/json reads %d", data, got.members, len(obj))
	}
}

// Every truncation and single-byte corruption of valid records is judged
// as encoding/json judges it, without a panic.
func TestScanAgreesWithEncodingJSONOnTruncatedAndCorruptedRecords(t *testing.T) {
	for _, doc := range scanDocs {
		checkScan(t, []byte(doc)) // the document itself
		for _, v := range variations(doc) {
			checkScan(t, v)
		}
	}
}

// atNestingLimit gives check every document docs builds for maxDepth and
// for maxDepth+1 levels, once encoding/json is seen to accept exactly the
// former.
func atNestingLimit(t *testing.T, docs func(levels int) []string, check func(*testing.T, []byte)) {
	t.Helper()
	for _, levels := range []int{maxDepth, maxDepth + 1} {
		for _, doc := range docs(levels) {
			if json.Valid([]byte(doc)) != (levels == maxDepth) {
				t.Fatalf("encoding/json's limit is not %d levels", maxDepth)
			}
			check(t, []byte(doc))
		}
	}
}

func nestedArrays(levels int) string {
	return strings.Repeat(`[`, levels) + strings.Repeat(`]`, levels)
}

// Nesting is refused where encoding/json refuses it: 10,000 levels are
// JSON, 10,001 are not, whether the levels are objects or arrays.
func TestScanNestingLimitIsEncodingJSONs(t *testing.T) {
	atNestingLimit(t, func(levels int) []string {
		return []string{
			strings.Repeat(`{"a":`, levels-1) + `{}` + strings.Repeat(`}`, levels-1),
			`{"a":` + nestedArrays(levels-1) + `}`,
			// Not an object, but JSON up to the same limit: NotObject, then NotJSON.
			nestedArrays(levels),
		}
	}, checkScan)
}

// wireDocs are invocations that between them use what the invocation
// decoder reads: escaped ids and names, data of every kind, skipped values
// of every type, empty records and whitespace.
var wireDocs = []string{
	`{"invocationId":"i\u0041","records":[{"recordId":"\u0072\"1","data":"e30=","x":[1,-2.5e+3,true,false,null,{}],"y":{"a":[]}},{"data":null,"recordId":"r2"},{"recordId":"r3","data":"\u0065\u0033\u0030="}],"z":"é"}`,
	` { "records" : [ { "recordId" : "a" , "data" : 42 } , { "recordId" : "b" , "data" : "eyJhIjoxfQ==" } ] , "invocationId" : 7 } `,
	`{"records":null,"invocationId":"x"}`,
	`{"records":[],"invocationId":null}`,
	`{}`,
}

// Every truncation and single-byte corruption of valid invocations is
// accepted exactly when encoding/json can answer it, and read as
// encoding/json reads it (checkDecoding), without a panic; so is every
// truncation of the Firehose event shapes.
func TestDecoderAgreesWithEncodingJSONOnTruncatedAndCorruptedInvocations(t *testing.T) {
	for _, doc := range wireDocs {
		checkDecoding(t, []byte(doc))
		for _, v := range variations(doc) {
			checkDecoding(t, v)
		}
	}
	for _, v := range firehoseVariants {
		for n := 0; n <= len(v.payload); n++ {
			checkDecoding(t, []byte(v.payload[:n]))
		}
	}
}

// A value the decoder skips counts the levels around it: the invocation
// is refused exactly where encoding/json refuses the nesting, whether the
// skipped value is a member of the invocation or of a record.
func TestDecoderNestingLimitIsEncodingJSONs(t *testing.T) {
	atNestingLimit(t, func(levels int) []string {
		return []string{
			`{"records":[],"x":` + nestedArrays(levels-1) + `}`,
			`{"records":[{"recordId":"a","data":"e30=","x":` + nestedArrays(levels-3) + `}]}`,
			// After records and an empty object have closed, their levels are left.
			`{"records":[{"recordId":"a","data":"e30=","y":{}}],"x":` + nestedArrays(levels-1) + `}`,
		}
	}, checkDecoding)
}

// jsonStringLen is what encoding/json writes for an id, for every byte
// value alone and among plain text, and for multi-byte UTF-8.
func TestJSONStringLenIsEncodingJSONs(t *testing.T) {
	ids := []string{"", "plain-id", "é", "€", "𝄞", "\u2028"}
	for c := 0; c < 256; c++ {
		ids = append(ids, string([]byte{byte(c)}), "id-"+string([]byte{byte(c)})+"-id")
	}
	for _, id := range ids {
		b, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := jsonStringLen(id); got != len(b) {
			t.Errorf("jsonStringLen(%q) = %d, encoding/json writes %d bytes (%s)", id, got, len(b), b)
		}
	}
}

// limitCase is an event whose encoded response, with every record stamped,
// would be slack bytes over ResponseLimit: its first record's id is padded
// to make it so.
type limitCase struct {
	name  string
	pads  int      // records too large to stamp, which come back failed
	datas []string // then these, which can be stamped
	ids   []string
}

// build returns the event with record 0's id padded by k plain bytes.
func (c limitCase) build(k int) Event {
	var datas [][]byte
	for i := 0; i < c.pads; i++ {
		datas = append(datas, bytes.Repeat([]byte("x"), 1_100_000))
	}
	for _, d := range c.datas {
		datas = append(datas, []byte(d))
	}
	ev := eventOf(datas...)
	for i, id := range c.ids {
		ev.Records[c.pads+i].RecordID = id
	}
	ev.Records[0].RecordID += strings.Repeat("p", k)
	return ev
}

// limitOracle measures with encoding/json what the response of ev takes
// with every record failed, and how much stamping each record adds: the
// difference between its Ok form (as Transform answers it alone) and its
// failed form, both encoded; the stamped data itself is checked by the
// splice tests. Records are stamped in order while the
// response stays within ResponseLimit.
func limitOracle(t *testing.T, ev Event) (failedSize int, grow []int) {
	t.Helper()
	var failed events.KinesisFirehoseResponse
	for _, r := range ev.Records {
		f := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: failedState, Data: r.Data}
		failed.Records = append(failed.Records, f)
		grow = append(grow, 0)
		if len(r.Data) > MaxRecordBytes {
			continue
		}
		// The id is in both forms alike: a short one keeps the record
		// alone within the limit.
		r.RecordID, f.RecordID = "id", "id"
		alone, _ := Transform(Event{KinesisFirehoseEvent: events.KinesisFirehoseEvent{Records: []events.KinesisFirehoseEventRecord{r}}}, testStamp)
		if alone.Records[0].Result != okState {
			t.Fatalf("record %q alone is not stamped", r.Data)
		}
		grow[len(grow)-1] = encodedLen(t, alone.Records[0]) - encodedLen(t, f)
	}
	return encodedLen(t, failed), grow
}

func encodedLen(t *testing.T, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// Records are stamped, in order, exactly while the encoded response fits in
// ResponseLimit: a response that would be at the limit is sent whole, one
// byte over fails the record that crosses it (and only it: a later smaller
// record that still fits is stamped). Measured with encoding/json, whatever
// the ids need escaping and whatever the number of records.
func TestResponseLimitStampsExactlyWhatFits(t *testing.T) {
	small := []string{`{"a":"x"}`, `{"a":"xx"}`, `{"a":"xxx"}`, `{"order_id":"a","products":[{"quantity":1}]}`}
	cases := []limitCase{
		{name: "one record", datas: small[:1], ids: []string{"r"}},
		{name: "two records", datas: small[:2], ids: []string{"r1", "r2"}},
		{name: "padding and small orders", pads: 4, datas: small, ids: []string{"a", "b", "c", "d"}},
		{name: "ids needing escapes", pads: 4, datas: small, ids: []string{`"q"`, `<&>`, "é\x01", `\`}},
		{name: "a large order before a small one", pads: 4, datas: []string{small[3], small[0]}, ids: []string{"big", "small"}},
	}
	for _, c := range cases {
		failed0, grow := limitOracle(t, c.build(0))
		all := 0
		for _, g := range grow {
			all += g
		}
		last := grow[len(grow)-1]
		for _, slack := range []int{-2, -1, 0, 1, 2, 3, 4, 5, last, last + 1} {
			if slack > all {
				continue // the failed form would not fit either: outside Transform's promise
			}
			k := ResponseLimit + slack - failed0 - all
			if k < 0 {
				t.Fatalf("%s: the records alone are over the limit", c.name)
			}
			ev := c.build(k)
			failedSize, grow := limitOracle(t, ev)
			if failedSize+all != ResponseLimit+slack {
				t.Fatalf("%s: padding missed: %d bytes", c.name, failedSize+all-ResponseLimit)
			}
			size, wantOK := failedSize, map[int]bool{}
			for i, g := range grow {
				if g > 0 && size+g <= ResponseLimit {
					size += g
					wantOK[i] = true
				}
			}
			resp, counts := Transform(ev, testStamp)
			for i, r := range resp.Records {
				if (r.Result == okState) != wantOK[i] {
					t.Errorf("%s, %d bytes over: record %d (%q) is %s, stamped should be %v", c.name, slack, i, ev.Records[i].Data[:min(len(ev.Records[i].Data), 20)], r.Result, wantOK[i])
				}
			}
			if wantOver := len(ev.Records) - c.pads - len(wantOK); counts.Failed[OverLimit] != wantOver {
				t.Errorf("%s, %d bytes over: %d records failed over the limit, want %d", c.name, slack, counts.Failed[OverLimit], wantOver)
			}
			if got := encodedLen(t, resp); got != size || got > ResponseLimit {
				t.Errorf("%s, %d bytes over: response is %d bytes, want %d", c.name, slack, got, size)
			}
		}
	}
}
