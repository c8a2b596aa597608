package transform

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

var (
	wireOrder = `{"order_id":"a","products":[{"quantity":1,"unit_price":9.99}]}`
	wireData1 = base64.StdEncoding.EncodeToString([]byte(wireOrder))
	wireData2 = base64.StdEncoding.EncodeToString([]byte(`{}`))
)

// firehoseVariants are one invocation of two records (r1: an order, r2:
// {}) in the shapes Firehose events take in the wild: AWS's samples, the
// Lambda console's test event, nulls, other number forms, fields Firehose
// may add, any field order. The transformer uses only the record ids and
// data, so every variant must decode to the same records.
var firehoseVariants = []struct{ name, payload string }{
	{"Kinesis source as Firehose sends it", `{"invocationId":"inv-1","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/orders-firehose","sourceKinesisStreamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders","region":"us-east-1","records":[
		{"recordId":"r1","approximateArrivalTimestamp":1795000000000,"data":"` + wireData1 + `","kinesisRecordMetadata":{"shardId":"shardId-000000000000","partitionKey":"k1","approximateArrivalTimestamp":1795000000000,"sequenceNumber":"49659000000000000000000000000000000000000000000000","subsequenceNumber":0}},
		{"recordId":"r2","approximateArrivalTimestamp":1795000000001,"data":"` + wireData2 + `","kinesisRecordMetadata":{"shardId":"shardId-000000000001","partitionKey":"k2","approximateArrivalTimestamp":1795000000001,"sequenceNumber":"49659000000000000000000000000000000000000000000001","subsequenceNumber":0}}]}`},
	{"console sample: subsequenceNumber and timestamp as strings", `{"invocationId":"inv-1","sourceKinesisStreamArn":"arn:aws:kinesis:EXAMPLE","deliveryStreamArn":"arn:aws:kinesis:EXAMPLE","region":"us-east-1","records":[
		{"recordId":"r1","approximateArrivalTimestamp":1495072949453,"data":"` + wireData1 + `","kinesisRecordMetadata":{"shardId":"shardId-000000000000","partitionKey":"4d1ad2b9-24f8-4b9d-a088-76e9947c317a","approximateArrivalTimestamp":"2012-04-23T18:25:43.511Z","sequenceNumber":"49546986683135544286507457936321625675700192471156785154","subsequenceNumber":""}},
		{"recordId":"r2","approximateArrivalTimestamp":"1495072949453","data":"` + wireData2 + `","kinesisRecordMetadata":{"subsequenceNumber":"0","approximateArrivalTimestamp":"2012-04-23T18:25:43.511Z"}}]}`},
	{"nulls", `{"invocationId":"inv-1","deliveryStreamArn":null,"sourceKinesisStreamArn":null,"region":null,"records":[
		{"recordId":"r1","approximateArrivalTimestamp":null,"data":"` + wireData1 + `","kinesisRecordMetadata":null},
		{"recordId":"r2","approximateArrivalTimestamp":null,"data":"` + wireData2 + `","kinesisRecordMetadata":{"shardId":null,"partitionKey":null,"approximateArrivalTimestamp":null,"sequenceNumber":null,"subsequenceNumber":null}}]}`},
	{"other number forms", `{"invocationId":"inv-1","records":[
		{"recordId":"r1","approximateArrivalTimestamp":1.795e12,"data":"` + wireData1 + `","kinesisRecordMetadata":{"subsequenceNumber":123456789012345678901234567890,"approximateArrivalTimestamp":-0.5E-3}},
		{"recordId":"r2","approximateArrivalTimestamp":1795000000000.25,"data":"` + wireData2 + `","kinesisRecordMetadata":{"subsequenceNumber":1.5}}]}`},
	{"fields of other types", `{"invocationId":"inv-1","region":["us-east-1"],"deliveryStreamArn":7,"records":[
		{"recordId":"r1","approximateArrivalTimestamp":true,"data":"` + wireData1 + `","kinesisRecordMetadata":["shardId-000000000000"]},
		{"recordId":"r2","approximateArrivalTimestamp":{"ms":1},"data":"` + wireData2 + `","kinesisRecordMetadata":"none"}]}`},
	{"unknown fields", `{"invocationId":"inv-1","newField":{"a":[1,{"b":null}],"c":"\u00e9\"}"},"records":[
		{"recordId":"r1","sourceRecordType":"KINESIS","data":"` + wireData1 + `","kinesisRecordMetadata":{"extra":[true,false],"shardId":"s"},"metadata":{"partitionKeys":{"k":"v"}}},
		{"recordId":"r2","data":"` + wireData2 + `","x":[[[]]]}],"trailer":{}}`},
	{"reordered fields", `{"records":[
		{"kinesisRecordMetadata":{"subsequenceNumber":0},"data":"` + wireData1 + `","approximateArrivalTimestamp":1795000000000,"recordId":"r1"},
		{"data":"` + wireData2 + `","recordId":"r2"}],"region":"us-east-1","invocationId":"inv-1"}`},
	{"Direct PUT source, no metadata", `{"invocationId":"inv-1","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/orders-firehose","region":"us-east-1","records":[
		{"recordId":"r1","approximateArrivalTimestamp":1795000000000,"data":"` + wireData1 + `"},
		{"recordId":"r2","approximateArrivalTimestamp":1795000000000,"data":"` + wireData2 + `"}]}`},
	{"whitespace and escaped ids", "\t{ \"invocationId\" : \"inv\\u002d1\" ,\r\n \"records\" : [ { \"recordId\" : \"r\\u0031\" , \"data\" : \"" + wireData1 + "\" } ,\n { \"recordId\":\"r2\", \"data\":\"" + wireData2 + "\" } ] }\n"},
	{"escaped names", `{"invocation\u0049d":"inv-1","rec\u006frds":[{"recordI\u0064":"r1","dat\u0061":"` + wireData1 + `"},{"\u0072ecordId":"r2","data":"` + wireData2 + `"}]}`},
}

func TestEveryFirehoseEventShapeDecodesToTheSameRecords(t *testing.T) {
	for _, v := range firehoseVariants {
		var ev Event
		if err := ev.UnmarshalJSON([]byte(v.payload)); err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		if ev.InvocationID != "inv-1" || len(ev.Records) != 2 || len(ev.Undecodable) != 0 ||
			ev.Records[0].RecordID != "r1" || string(ev.Records[0].Data) != wireOrder ||
			ev.Records[1].RecordID != "r2" || string(ev.Records[1].Data) != `{}` {
			t.Errorf("%s: decoded %+v", v.name, ev)
			continue
		}
		resp, counts := Transform(ev, testStamp)
		if counts.OK != 2 || resp.Records[0].RecordID != "r1" || resp.Records[1].RecordID != "r2" {
			t.Errorf("%s: transformed %+v", v.name, counts)
		}
	}
}

// Data that is not a base64 string fails its record alone, kept as it came.
func TestDataOfAnotherTypeFailsOnlyItsRecord(t *testing.T) {
	payload := `{"records":[{"recordId":"a","data":null},{"recordId":"b","data":42},{"recordId":"c","data":{"x":"e30="}},{"recordId":"d","data":"` + wireData2 + `"}]}`
	var ev Event
	if err := ev.UnmarshalJSON([]byte(payload)); err != nil {
		t.Fatal(err)
	}
	resp, counts := Transform(ev, testStamp)
	want := []struct {
		result, data string
	}{{failedState, ``}, {failedState, `42`}, {failedState, `{"x":"e30="}`}, {okState, ""}}
	for i, w := range want {
		if r := resp.Records[i]; r.Result != w.result || (w.result == failedState && string(r.Data) != w.data) {
			t.Errorf("record %s: %s %q, want %s %q", r.RecordID, r.Result, r.Data, w.result, w.data)
		}
	}
	if counts.Failed[NotJSON] != 1 || counts.Failed[BadBase64] != 2 || counts.OK != 1 {
		t.Errorf("counts %+v", counts)
	}
}

// What the transformer cannot answer, or what is not JSON, fails the
// invocation with an error that says where.
func TestUnanswerableInvocationsFailWithTheReason(t *testing.T) {
	for _, c := range []struct{ payload, want string }{
		{`{"records":[{"recordId":1,"data":"e30="}]}`, "record 0: recordId at byte 24 is not a string"},
		{`{"records":[{"data":"e30="},{"recordId":null}]}`, "record 0: the record at byte 12 has no recordId"},
		{`{"records":[{"recordId":"a","data":"e30="},{"recordId":null}]}`, "record 1: recordId at byte 55 is not a string"},
		{`{"records":{}}`, "records at byte 11 is not an array"},
		{`{"records":[{"recordId":"a","data":"e30="}]`, "malformed JSON at byte 43"},
		{`{"records":[],"region":tru}`, "malformed JSON at byte 23"},
		{`{"records":[]} x`, "data after the event at byte 15"},
		{`[]`, "malformed JSON at byte 0"},
		{`{"records":[{"recordId":"a","kinesisRecordMetadata":{"subsequenceNumber":01}}]}`, "record 0: malformed JSON at byte 74"},
	} {
		var ev Event
		err := ev.UnmarshalJSON([]byte(c.payload))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "decoding the Firehose invocation: ") {
			t.Errorf("%s: error %v, want one naming %q", c.payload, err, c.want)
		}
	}
}

// oracle decodes what the transformer needs with encoding/json into maps,
// which match keys exactly as Firehose spells them (encoding/json's struct
// fields would also match "RecordID").
type oracle struct {
	invocationID string
	ids          []string
	datas        []json.RawMessage
	// answerable is false when a record has no string recordId.
	answerable bool
}

func decodeOracle(payload []byte) (o oracle, valid bool) {
	// encoding/json lets invalid UTF-8 through; RFC 8259 and the decoder
	// do not.
	var top map[string]json.RawMessage
	if !utf8.Valid(payload) || json.Unmarshal(payload, &top) != nil || top == nil {
		return oracle{}, false
	}
	o.answerable = true
	_ = json.Unmarshal(top["invocationId"], &o.invocationID)
	var recs []json.RawMessage
	if raw, ok := top["records"]; ok && json.Unmarshal(raw, &recs) != nil {
		return oracle{}, false
	}
	for _, raw := range recs {
		var rec map[string]json.RawMessage
		if json.Unmarshal(raw, &rec) != nil || rec == nil {
			return oracle{}, false
		}
		var id string
		if raw, ok := rec["recordId"]; !ok || raw[0] != '"' || json.Unmarshal(raw, &id) != nil {
			o.answerable = false
		}
		o.ids = append(o.ids, id)
		o.datas = append(o.datas, rec["data"])
	}
	return o, true
}

// checkDecoding is FuzzDecodeEvent's property: the decoder accepts exactly
// the UTF-8 JSON objects whose records all have a string recordId, and reads the
// same invocation id, record ids and data as encoding/json; data that is not
// base64 text is marked undecodable.
func checkDecoding(t *testing.T, payload []byte) {
	var ours Event
	oursErr := ours.UnmarshalJSON(payload) // directly, as the handler does: no encoding/json pre-scan
	want, valid := decodeOracle(payload)
	if oursErr != nil {
		if valid && want.answerable {
			t.Fatalf("refused a valid invocation: %v\n%q", oursErr, payload)
		}
		return
	}
	if !valid || !want.answerable {
		t.Fatalf("accepted %q (valid JSON object %v, every record with a string recordId %v)", payload, valid, want.answerable)
	}
	if ours.InvocationID != want.invocationID || len(ours.Records) != len(want.ids) {
		t.Fatalf("invocation %q with %d records, encoding/json reads %q with %d", ours.InvocationID, len(ours.Records), want.invocationID, len(want.ids))
	}
	// Undecodable is by record id, which Firehose keeps unique.
	unique := map[string]bool{}
	for _, id := range want.ids {
		unique[id] = true
	}
	checkMark := len(unique) == len(want.ids)
	for i, r := range ours.Records {
		if r.RecordID != want.ids[i] {
			t.Fatalf("record %d id %q, encoding/json reads %q", i, r.RecordID, want.ids[i])
		}
		raw := want.datas[i]
		var text string
		isText := len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &text) == nil
		decoded, err := base64.StdEncoding.DecodeString(text)
		switch {
		case len(raw) == 0 || string(raw) == "null":
			if len(r.Data) != 0 || (checkMark && ours.Undecodable[r.RecordID]) {
				t.Fatalf("record %d without data decoded to %q (undecodable %v)", i, r.Data, ours.Undecodable[r.RecordID])
			}
		case isText && err == nil && !bytes.Contains(raw, []byte(`\`)):
			if !bytes.Equal(r.Data, decoded) || (checkMark && ours.Undecodable[r.RecordID]) {
				t.Fatalf("record %d data %q, encoding/json reads %q", i, r.Data, decoded)
			}
		default:
			if checkMark && !ours.Undecodable[r.RecordID] {
				t.Fatalf("record %d data %s is not base64 text, but was not marked undecodable", i, raw)
			}
		}
	}
}
