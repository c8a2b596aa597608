package contract

import (
	"strings"
	"testing"
)

func TestContractIsComplete(t *testing.T) {
	c := Get()
	if c.LandingTable.Name == "" || len(c.LandingTable.Columns) == 0 || len(c.LandingTable.PartitionColumns) == 0 {
		t.Fatalf("landing table incomplete: %+v", c.LandingTable)
	}
	seen := map[string]bool{}
	for _, col := range append(append([]Column{}, c.LandingTable.Columns...), c.LandingTable.PartitionColumns...) {
		if col.Name == "" || col.Type == "" || seen[col.Name] {
			t.Errorf("column %+v is unnamed, untyped or repeated", col)
		}
		seen[col.Name] = true
	}
	for _, col := range c.LandingTable.Columns {
		if col.Source != "order" && col.Source != "transformer" {
			t.Errorf("column %s has source %q, want order or transformer", col.Name, col.Source)
		}
	}
	a := c.AuditItem
	if a.PartitionKey == "" || a.SortKey == "" || a.NotificationPrefix == "" {
		t.Fatalf("audit item keys incomplete: %+v", a)
	}
	if ref := a.LayersWithRole("reference"); len(ref) != 1 {
		t.Errorf("want exactly one reference layer, got %v", ref)
	}
	if len(a.LayersWithRole("compared")) == 0 {
		t.Error("no compared layers")
	}
	for _, l := range a.Layers {
		if strings.HasPrefix(l.Name, a.NotificationPrefix) {
			t.Errorf("layer %q collides with the scanner's own items", l.Name)
		}
	}
}

func TestUnknownFieldsAndNamesAreRefused(t *testing.T) {
	for name, fn := range map[string]func(){
		"unknown field":     func() { mustParse([]byte(`{"landing_table": {"name": "orders", "colums": []}}`)) },
		"unknown column":    func() { Get().LandingTable.Column("no_such_column") },
		"unknown attribute": func() { Get().AuditItem.Attribute("no_such_attribute") },
		"unknown layer":     func() { Get().AuditItem.Layer("no_such_layer") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("accepted")
				}
			}()
			fn()
		})
	}
}

func TestRunStateKeysAreDistinct(t *testing.T) {
	r := Get().RunState
	if r.PartitionKey == "" || r.CurrentKey == "" || r.ClosedKeyPrefix == "" || r.PendingKey == "" || r.CountedAttribute == "" || r.PendingRunsAttribute == "" || len(r.ClosedAttributes) == 0 {
		t.Fatalf("run state incomplete: %+v", r)
	}
	// The current and pending items must never look like a closed run's record.
	for _, key := range []string{r.CurrentKey, r.PendingKey} {
		if strings.HasPrefix(key, r.ClosedKeyPrefix) {
			t.Errorf("item %q collides with the closed runs' records", key)
		}
	}
	if r.CurrentKey == r.PendingKey {
		t.Errorf("current and pending share the key %q", r.CurrentKey)
	}
}
