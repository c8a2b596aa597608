package transform

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

var testStamp = Stamp{RunID: "20261128T013000Z-0a1b2c3d", At: time.Date(2026, 11, 28, 1, 2, 3, 456_000_000, time.UTC)}

var (
	statuses   = []string{"PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"}
	payments   = []string{"CARD", "PAYPAL", "BANK_TRANSFER", "GIFT_CARD"}
	currencies = []string{"EUR", "USD", "GBP"}
	countries  = []string{"DE", "FR", "US", "GB", "IN", "JP", "BR"}
	categories = []string{"Electronics", "Books", "Home & Kitchen", "Toys", "Garden", "Sports"}
	adjectives = []string{"Wireless", "Compact", "Deluxe", "Organic", "Classic", "Smart", "Portable"}
	nouns      = []string{"Headphones", "Kettle", "Novel", "Lamp", "Backpack", "Blender", "Puzzle", "Jacket"}
)

// realisticOrder is an order as the source system sends it: 1–5 products.
func realisticOrder(r *rand.Rand, n int) []byte {
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
	}
	o := orders.Order{
		OrderID:         uuid(),
		OrderTimestamp:  time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * 137 * time.Millisecond).Format(TimestampLayout),
		CustomerID:      fmt.Sprintf("CUST-%07d", r.IntN(10_000_000)),
		OrderStatus:     statuses[r.IntN(len(statuses))],
		PaymentMethod:   payments[r.IntN(len(payments))],
		Currency:        currencies[r.IntN(len(currencies))],
		ShippingCountry: countries[r.IntN(len(countries))],
	}
	for p := 0; p < 1+r.IntN(5); p++ {
		o.Products = append(o.Products, orders.Product{
			ProductCode: fmt.Sprintf("P-%06d", r.IntN(1_000_000)),
			ProductName: adjectives[r.IntN(len(adjectives))] + " " + nouns[r.IntN(len(nouns))],
			Category:    categories[r.IntN(len(categories))],
			Quantity:    1 + r.IntN(4),
			UnitPrice:   float64(r.IntN(50_000)+99) / 100,
		})
	}
	b, err := json.Marshal(o)
	if err != nil {
		panic(err)
	}
	return b
}

// record is a Firehose record from a Kinesis source, with the metadata and
// the 74-digit-style record id Firehose sends.
func record(i int, data []byte) events.KinesisFirehoseEventRecord {
	return events.KinesisFirehoseEventRecord{
		RecordID:                    fmt.Sprintf("49659000000000000000000000000000000000000000000000%08d000000000000000", i),
		ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1_795_000_000_000 + int64(i))},
		Data:                        data,
		KinesisFirehoseRecordMetadata: events.KinesisFirehoseRecordMetadata{
			ShardID:                     "shardId-000000000000",
			PartitionKey:                fmt.Sprintf("CUST-%07d", i),
			SequenceNumber:              fmt.Sprintf("49659000000000000000000000000000000000000000000000%08d", i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(1_795_000_000_000 + int64(i))},
		},
	}
}

func eventOf(datas ...[]byte) Event {
	ev := Event{KinesisFirehoseEvent: events.KinesisFirehoseEvent{
		InvocationID:           "invocation-1",
		DeliveryStreamArn:      "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders-firehose",
		SourceKinesisStreamArn: "arn:aws:kinesis:us-east-1:123456789012:stream/orders",
		Region:                 "us-east-1",
	}}
	for i, d := range datas {
		ev.Records = append(ev.Records, record(i, d))
	}
	return ev
}

// realisticEvent holds realistic orders whose decoded data totals at most
// dataBytes, as the processor buffer hands them to the Lambda.
func realisticEvent(seed uint64, dataBytes int) (Event, int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var datas [][]byte
	total := 0
	for {
		o := realisticOrder(r, len(datas))
		if total+len(o) > dataBytes {
			break
		}
		datas = append(datas, o)
		total += len(o)
	}
	return eventOf(datas...), total
}

// encodedRequestSize is the invocation payload Firehose would send.
func encodedRequestSize(ev Event) int {
	b, err := json.Marshal(ev.KinesisFirehoseEvent)
	if err != nil {
		panic(err)
	}
	return len(b)
}
