package transform

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzTransform: never panics, one result per record with the same record
// id, Ok results are JSON objects carrying the stamps, failed results keep
// the original data, and the scanner agrees with encoding/json.
func FuzzTransform(f *testing.F) {
	for _, seed := range []string{`{}`, `{"order_id":"a","products":[{"quantity":1,"unit_price":9.99}]}`, `[1]`, `{"run_id":1}`, `{"a":"\u00e9"}`, "{\"a\":\"\xff\"}", `{"a":1e5}`, ` {"a":[true,false,null]} `} {
		f.Add([]byte(seed), "id-1")
	}
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		ev := eventOf(data, []byte(`{"order_id":"neighbour"}`))
		ev.Records[0].RecordID = id
		ev.Records[1].RecordID = id + "-2"
		resp, counts := Transform(ev, testStamp)
		if len(resp.Records) != 2 || resp.Records[0].RecordID != id || resp.Records[1].RecordID != id+"-2" {
			t.Fatalf("records back: %+v", resp.Records)
		}
		if resp.Records[1].Result != okState {
			t.Fatalf("a bad neighbour failed a good record")
		}
		if counts.OK+len(counts.Failed) < 1 || counts.Records != 2 {
			t.Fatalf("counts %+v", counts)
		}
		got := resp.Records[0]
		valid := json.Valid(data)
		var obj map[string]json.RawMessage
		isObject := valid && json.Unmarshal(data, &obj) == nil
		switch got.Result {
		case okState:
			if !isObject || !utf8.Valid(data) {
				t.Fatalf("accepted %q (json.Valid=%v)", data, valid)
			}
			var stamped map[string]json.RawMessage
			if err := json.Unmarshal(got.Data, &stamped); err != nil {
				t.Fatalf("stamped %q is not JSON: %v", got.Data, err)
			}
			if string(stamped["run_id"]) != `"`+testStamp.RunID+`"` || len(stamped) != len(obj)+2 {
				t.Fatalf("stamped %q lacks the stamps or lost fields", got.Data)
			}
		case failedState:
			if string(got.Data) != string(data) {
				t.Fatalf("failed record's data changed")
			}
			if isObject && utf8.Valid(data) && len(data) <= MaxRecordBytes && counts.Failed[ReservedField] == 0 {
				t.Fatalf("refused a valid object %q: %v", data, counts.Failed)
			}
		default:
			t.Fatalf("result %q", got.Result)
		}
	})
}

// FuzzDecodeEvent: the invocation decoder never panics, accepts exactly
// what it can answer, and reads what encoding/json reads (checkDecoding).
// The seeds are the shapes real Firehose events take (firehoseVariants).
func FuzzDecodeEvent(f *testing.F) {
	ev, _ := realisticEvent(7, 4096)
	seed, _ := json.Marshal(ev.KinesisFirehoseEvent)
	f.Add(seed)
	for _, v := range firehoseVariants {
		f.Add([]byte(v.payload))
	}
	f.Add([]byte(`{"records":[{"recordId":"a\u0041","data":"e30="}],"region":null}`))
	f.Add([]byte(`{"records":[{"recordId":"a","data":"!!"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","data":null},{"recordId":"b","data":42}]}`))
	f.Add([]byte(`{"records":[{"recordId":1,"recordId":"a"}],"invocationId":"x","invocationId":2}`))
	f.Add([]byte(`{"records":[]}`))
	f.Fuzz(checkDecoding)
}
