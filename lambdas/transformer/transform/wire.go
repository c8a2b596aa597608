package transform

import (
	"encoding/base64"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
)

// wireRecord is a record as Firehose sends it, data still base64 text.
type wireRecord struct {
	RecordID                    string                               `json:"recordId"`
	ApproximateArrivalTimestamp events.MilliSecondsEpochTime         `json:"approximateArrivalTimestamp"`
	Data                        string                               `json:"data"`
	Metadata                    events.KinesisFirehoseRecordMetadata `json:"kinesisRecordMetadata"`
}

// UnmarshalJSON decodes an invocation record by record, so one record with
// bad base64 fails alone instead of failing the whole batch.
func (e *Event) UnmarshalJSON(b []byte) error {
	var wire struct {
		InvocationID           string       `json:"invocationId"`
		DeliveryStreamArn      string       `json:"deliveryStreamArn"`
		SourceKinesisStreamArn string       `json:"sourceKinesisStreamArn"`
		Region                 string       `json:"region"`
		Records                []wireRecord `json:"records"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*e = Event{KinesisFirehoseEvent: events.KinesisFirehoseEvent{
		InvocationID:           wire.InvocationID,
		DeliveryStreamArn:      wire.DeliveryStreamArn,
		SourceKinesisStreamArn: wire.SourceKinesisStreamArn,
		Region:                 wire.Region,
		Records:                make([]events.KinesisFirehoseEventRecord, len(wire.Records)),
	}}
	for i, w := range wire.Records {
		r := &e.Records[i]
		r.RecordID = w.RecordID
		r.ApproximateArrivalTimestamp = w.ApproximateArrivalTimestamp
		r.KinesisFirehoseRecordMetadata = w.Metadata
		data, err := base64.StdEncoding.DecodeString(w.Data)
		if err != nil {
			if e.Undecodable == nil {
				e.Undecodable = map[string]bool{}
			}
			e.Undecodable[w.RecordID] = true
			data = []byte(w.Data)
		}
		r.Data = data
	}
	return nil
}
