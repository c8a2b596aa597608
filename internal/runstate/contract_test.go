package runstate

import (
	"reflect"
	"testing"

	"github.com/orders-pipeline/orders-pipeline/internal/contract"
)

// The Glue jobs read and mark what the rotator writes (glue-scripts'
// run_selection.py holds the same names, checked against the same file).
func TestItemLayoutIsTheSharedContract(t *testing.T) {
	r := contract.Get().RunState
	got := contract.RunState{
		PartitionKey: PartitionKey, CurrentKey: currentKey, ClosedKeyPrefix: ClosedKeyPrefix,
		ClosedAttributes: []string{runIDAttr, previousAttr, nextAttr, openedAtAttr, closedAtAttr},
		CountedAttribute: CountedAttr, PendingKey: r.PendingKey, PendingRunsAttribute: r.PendingRunsAttribute,
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("runstate writes %+v, the contract says %+v", got, r)
	}
}
