// Package orders is the shape of one order as the source system sends it to
// the `orders` stream. The landing table declared in the Glue catalog, the
// publisher's generator and the transformer's tests all take it from here.
package orders

// Order is one order. JSON names are the landing table's column names.
type Order struct {
	OrderID         string    `json:"order_id"`
	OrderTimestamp  string    `json:"order_timestamp"` // RFC 3339 UTC, e.g. 2026-11-28T01:02:03.456Z
	CustomerID      string    `json:"customer_id"`
	OrderStatus     string    `json:"order_status"`
	PaymentMethod   string    `json:"payment_method"`
	Currency        string    `json:"currency"`
	ShippingCountry string    `json:"shipping_country"`
	Products        []Product `json:"products"`
}

// Product is one line of an order; staging has one row per Product.
type Product struct {
	ProductCode string  `json:"product_code"`
	ProductName string  `json:"product_name"`
	Category    string  `json:"category"`
	Quantity    int     `json:"quantity"`
	UnitPrice   float64 `json:"unit_price"` // two decimals
}

// Column is one column of a Glue table.
type Column struct{ Name, Type, Comment string }

// Fields the transformer stamps on every record.
const (
	ProcessingTimestampField = "processing_timestamp"
	RunIDField               = "run_id"
)

// LandingColumns are the columns of the landing table `orders`, in order:
// the source fields, then what the transformer adds.
var LandingColumns = []Column{
	{"order_id", "string", "Order id from the source system"},
	{"order_timestamp", "timestamp", "When the order was placed (UTC)"},
	{"customer_id", "string", ""},
	{"order_status", "string", ""},
	{"payment_method", "string", ""},
	{"currency", "string", "ISO 4217 code"},
	{"shipping_country", "string", "ISO 3166-1 alpha-2 code"},
	{"products", "array<struct<product_code:string,product_name:string,category:string,quantity:int,unit_price:decimal(10,2)>>", "Order lines; use element_at(products, n) in Athena"},
	{ProcessingTimestampField, "timestamp", "When the transformer Lambda processed the record (UTC)"},
	{RunIDField, "string", "Run of the pipeline the record belongs to"},
}

// PartitionColumns partition the landing and staging areas by processing time (Hive style).
var PartitionColumns = []Column{
	{"processing_date", "string", "yyyy-MM-dd of Firehose processing time (UTC)"},
	{"processing_hour", "string", "HH of Firehose processing time (UTC)"},
}
