// Package orders is the shape of one order as the source system sends it to
// the `orders` stream. The landing table's columns come from internal/contract,
// which the Glue scripts' tests read too.
package orders

import "github.com/orders-pipeline/orders-pipeline/internal/contract"

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
type Column = contract.Column

var landing = contract.Get().LandingTable

// Fields the transformer stamps on every record.
var (
	ProcessingTimestampField = landing.Column("processing_timestamp").Name
	RunIDField               = landing.Column("run_id").Name
)

// LandingColumns are the columns of the landing table `orders`, in order:
// the source fields, then what the transformer adds.
var LandingColumns = landing.Columns

// PartitionColumns partition the landing and staging areas (Hive style) by the
// processing time of the stamp and by run.
var PartitionColumns = landing.PartitionColumns
