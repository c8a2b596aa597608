// Package publisher sends one batch of orders to the `orders` stream and,
// once every record is acknowledged, closes the batch with a manifest under
// batch-completion/ of the landing bucket: the object that starts the Glue
// workflow. cmd/publisher wires it to flags and the AWS environment.
package publisher

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// TimestampLayout is how order timestamps are written: RFC 3339, UTC, milliseconds.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// GeneratorOptions shape the generated orders. The same options (seed and
// start included) always produce the same orders.
type GeneratorOptions struct {
	Seed        uint64
	MinProducts int
	MaxProducts int
	// Start is the timestamp of the first order; later ones follow it by up
	// to two seconds each, like a steady shop.
	Start time.Time
}

// Generator makes realistic orders from a seeded random source.
type Generator struct {
	rng  *rand.Rand
	opts GeneratorOptions
	at   time.Time
}

// NewGenerator checks the options and returns a generator.
func NewGenerator(opts GeneratorOptions) (*Generator, error) {
	if opts.MinProducts < 1 || opts.MaxProducts < opts.MinProducts {
		return nil, fmt.Errorf("products per order must satisfy 1 <= min (%d) <= max (%d)", opts.MinProducts, opts.MaxProducts)
	}
	if opts.MaxProducts > MaxProductsPerOrder {
		return nil, fmt.Errorf("at most %d products per order, got %d", MaxProductsPerOrder, opts.MaxProducts)
	}
	return &Generator{
		rng:  rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		opts: opts,
		at:   opts.Start.UTC().Truncate(time.Millisecond),
	}, nil
}

// MaxProductsPerOrder keeps a generated order far below the 1 MiB record limit.
const MaxProductsPerOrder = 1000

type market struct{ country, currency string }

var (
	markets        = []market{{"US", "USD"}, {"GB", "GBP"}, {"DE", "EUR"}, {"FR", "EUR"}, {"NL", "EUR"}, {"IN", "INR"}, {"CA", "CAD"}, {"AU", "AUD"}}
	statuses       = []string{"PLACED", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"}
	paymentMethods = []string{"CREDIT_CARD", "DEBIT_CARD", "PAYPAL", "APPLE_PAY", "BANK_TRANSFER"}
	catalog        = []orders.Product{
		{ProductCode: "ELE-1001", ProductName: "Wireless Mouse", Category: "Electronics", UnitPrice: 24.99},
		{ProductCode: "ELE-1002", ProductName: "USB-C Charger 65W", Category: "Electronics", UnitPrice: 39.5},
		{ProductCode: "ELE-1003", ProductName: "Noise Cancelling Headphones", Category: "Electronics", UnitPrice: 249},
		{ProductCode: "ELE-1004", ProductName: "Mechanical Keyboard", Category: "Electronics", UnitPrice: 89.9},
		{ProductCode: "HOM-2001", ProductName: "Ceramic Coffee Mug", Category: "Home", UnitPrice: 12.75},
		{ProductCode: "HOM-2002", ProductName: "Cotton Bath Towel", Category: "Home", UnitPrice: 18.2},
		{ProductCode: "HOM-2003", ProductName: "LED Desk Lamp", Category: "Home", UnitPrice: 34.99},
		{ProductCode: "HOM-2004", ProductName: "Cast Iron Skillet", Category: "Home", UnitPrice: 45},
		{ProductCode: "BOO-3001", ProductName: "Data Engineering Handbook", Category: "Books", UnitPrice: 42.3},
		{ProductCode: "BOO-3002", ProductName: "Science Fiction Anthology", Category: "Books", UnitPrice: 15.99},
		{ProductCode: "BOO-3003", ProductName: "Cooking for Two", Category: "Books", UnitPrice: 22.5},
		{ProductCode: "SPO-4001", ProductName: "Yoga Mat", Category: "Sports", UnitPrice: 29.95},
		{ProductCode: "SPO-4002", ProductName: "Running Shoes", Category: "Sports", UnitPrice: 119.99},
		{ProductCode: "SPO-4003", ProductName: "Water Bottle 1L", Category: "Sports", UnitPrice: 9.99},
		{ProductCode: "TOY-5001", ProductName: "Building Blocks Set", Category: "Toys", UnitPrice: 59.99},
		{ProductCode: "TOY-5002", ProductName: "Jigsaw Puzzle 1000", Category: "Toys", UnitPrice: 17.49},
		{ProductCode: "GRO-6001", ProductName: "Organic Green Tea", Category: "Grocery", UnitPrice: 6.45},
		{ProductCode: "GRO-6002", ProductName: "Dark Chocolate 85%", Category: "Grocery", UnitPrice: 3.2},
		{ProductCode: "BEA-7001", ProductName: "Sunscreen SPF 50", Category: "Beauty", UnitPrice: 14.9},
		{ProductCode: "BEA-7002", ProductName: "Argan Hair Oil", Category: "Beauty", UnitPrice: 21.35},
	}
)

// Next returns the next order. Its products slice is freshly allocated, so
// the order stays valid after further calls.
func (g *Generator) Next() orders.Order {
	r := g.rng
	g.at = g.at.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
	m := markets[r.IntN(len(markets))]
	n := g.opts.MinProducts + r.IntN(g.opts.MaxProducts-g.opts.MinProducts+1)
	products := make([]orders.Product, n)
	for i := range products {
		products[i] = catalog[r.IntN(len(catalog))]
		products[i].Quantity = 1 + r.IntN(5)
	}
	return orders.Order{
		OrderID:         g.uuid(),
		OrderTimestamp:  g.at.Format(TimestampLayout),
		CustomerID:      fmt.Sprintf("C-%06d", r.IntN(1000000)),
		OrderStatus:     statuses[r.IntN(len(statuses))],
		PaymentMethod:   paymentMethods[r.IntN(len(paymentMethods))],
		Currency:        m.currency,
		ShippingCountry: m.country,
		Products:        products,
	}
}

// uuid is a version 4 UUID drawn from the seeded source, so ids repeat with the seed.
func (g *Generator) uuid() string {
	var b [16]byte
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], b[10:16])
	return string(s[:])
}
