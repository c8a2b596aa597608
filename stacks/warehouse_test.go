package stacks

import (
	"strings"
	"testing"
)

func TestWarehouseIsNagClean(t *testing.T) {
	stack := defaultPipeline(t).Warehouse.Stack
	if msgs := nagFindings(t, stack); len(msgs) > 0 {
		t.Errorf("cdk-nag findings:\n%s", strings.Join(msgs, "\n"))
	}
}
