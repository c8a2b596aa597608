// Package contract holds the shapes the Go code and the Glue scripts share:
// the landing table's columns and the audit table's items. They live in
// contract.json, embedded here and read by the Glue-script tests, so the two
// languages cannot drift apart.
package contract

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed contract.json
var raw []byte

// Column is one column of a Glue table.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Comment string `json:"comment,omitempty"`
	// Source is "order" for fields the source system sends, "transformer" for
	// the ones the transformer stamps; empty for partition columns.
	Source string `json:"source,omitempty"`
}

// LandingTable is the Glue table Firehose converts against.
type LandingTable struct {
	Name             string   `json:"name"`
	Columns          []Column `json:"columns"`
	PartitionColumns []Column `json:"partition_columns"`
}

// Attribute is one non-key attribute of an audit item.
type Attribute struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

// Layer is one counted layer; the "reference" layer is what the "compared" ones are compared with.
type Layer struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// AuditItem is one item of the audit table.
type AuditItem struct {
	PartitionKey       string      `json:"partition_key"`
	SortKey            string      `json:"sort_key"`
	Attributes         []Attribute `json:"attributes"`
	Layers             []Layer     `json:"layers"`
	NotificationPrefix string      `json:"notification_prefix"`
}

// RunState is the run-state table's layout as the run rotator writes it and
// the landing and final audits read and mark it.
type RunState struct {
	PartitionKey string `json:"partition_key"`
	// CurrentKey is the item of the open run.
	CurrentKey string `json:"current_key"`
	// ClosedKeyPrefix + run id is a closed run's record, with ClosedAttributes.
	ClosedKeyPrefix  string   `json:"closed_key_prefix"`
	ClosedAttributes []string `json:"closed_attributes"`
	// CountedAttribute marks a closed run the landing audit has counted.
	CountedAttribute string `json:"counted_attribute"`
	// PendingKey's PendingRunsAttribute (a string set) holds the runs counted
	// in landing and not yet in every layer.
	PendingKey           string `json:"pending_key"`
	PendingRunsAttribute string `json:"pending_runs_attribute"`
}

// Contract is the whole file.
type Contract struct {
	LandingTable LandingTable `json:"landing_table"`
	AuditItem    AuditItem    `json:"audit_item"`
	RunState     RunState     `json:"run_state"`
}

// The parsed contract; a malformed file fails every program and test at start.
var parsed = mustParse(raw)

// Get returns the contract.
func Get() Contract { return parsed }

func mustParse(data []byte) Contract {
	var c Contract
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		panic(fmt.Sprintf("contract.json: %v", err))
	}
	return c
}

// Column returns the landing column of that name; the name must be in the contract.
func (t LandingTable) Column(name string) Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	panic(fmt.Sprintf("contract.json: the landing table has no column %q", name))
}

// Attribute returns the audit attribute of that name; the name must be in the contract.
func (a AuditItem) Attribute(name string) string {
	for _, at := range a.Attributes {
		if at.Name == name {
			return at.Name
		}
	}
	panic(fmt.Sprintf("contract.json: the audit item has no attribute %q", name))
}

// Layer returns the layer of that name; the name must be in the contract.
func (a AuditItem) Layer(name string) string {
	for _, l := range a.Layers {
		if l.Name == name {
			return l.Name
		}
	}
	panic(fmt.Sprintf("contract.json: the audit item has no layer %q", name))
}

// LayersWithRole lists the layers of one role, in the file's order.
func (a AuditItem) LayersWithRole(role string) []string {
	var out []string
	for _, l := range a.Layers {
		if l.Role == role {
			out = append(out, l.Name)
		}
	}
	return out
}
