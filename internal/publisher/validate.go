package publisher

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

var (
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
	countryCode  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Validate checks that an order fits the landing table: every column the
// Glue table declares is present and parses as its declared type.
func Validate(o *orders.Order) error {
	// The order id is the partition key, which Kinesis limits to 256 characters.
	if n := utf8.RuneCountInString(o.OrderID); n == 0 || n > 256 {
		return fmt.Errorf("order_id must have 1 to 256 characters, got %d", n)
	}
	// The landing column is a timestamp without zone, read as UTC.
	if _, err := time.Parse(time.RFC3339Nano, o.OrderTimestamp); err != nil || !strings.HasSuffix(o.OrderTimestamp, "Z") {
		return fmt.Errorf("order_timestamp %q is not an RFC 3339 timestamp in UTC (ending in Z)", o.OrderTimestamp)
	}
	for name, v := range map[string]string{"customer_id": o.CustomerID, "order_status": o.OrderStatus, "payment_method": o.PaymentMethod} {
		if v == "" {
			return fmt.Errorf("%s is missing", name)
		}
	}
	if !currencyCode.MatchString(o.Currency) {
		return fmt.Errorf("currency %q is not an ISO 4217 code", o.Currency)
	}
	if !countryCode.MatchString(o.ShippingCountry) {
		return fmt.Errorf("shipping_country %q is not an ISO 3166-1 alpha-2 code", o.ShippingCountry)
	}
	if len(o.Products) == 0 {
		return errors.New("products is empty; an order has at least one product")
	}
	for i, p := range o.Products {
		if p.ProductCode == "" {
			return fmt.Errorf("products[%d].product_code is missing", i)
		}
		if p.Quantity < 1 {
			return fmt.Errorf("products[%d].quantity must be at least 1, got %d", i, p.Quantity)
		}
		// unit_price is decimal(10,2) in the landing table.
		if p.UnitPrice < 0 || p.UnitPrice >= 1e8 || math.Abs(p.UnitPrice*100-math.Round(p.UnitPrice*100)) > 1e-6 {
			return fmt.Errorf("products[%d].unit_price %v does not fit decimal(10,2)", i, p.UnitPrice)
		}
	}
	return nil
}

// ReadOrders reads JSON lines (one order per line; blank lines are skipped)
// and validates every one before returning, so a bad line stops the batch
// before anything is sent. Errors name the line number.
func ReadOrders(r io.Reader) ([]orders.Order, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, MaxRecordBytes+1)
	var list []orders.Order
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var o orders.Order
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value", line)
		}
		if err := Validate(&o); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		list = append(list, o)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than the %d-byte Kinesis record limit", line+1, MaxRecordBytes)
		}
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	return list, nil
}
