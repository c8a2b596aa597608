package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate/runstatetest"
	"github.com/orders-pipeline/orders-pipeline/internal/testserver"
)

// The built bootstrap answers a real invocation through the Lambda Runtime
// Interface Emulator, reading the run id from dynalite. Record metadata in
// the Lambda console's sample shape (strings where Firehose sends numbers)
// must not fail the invocation.
func TestBootstrapUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	table := runstatetest.New(t)
	fn := table.Function(t, "lambdas/transformer", runstate.EnvCacheSeconds+"=5")
	order := `{"order_id":"bee482f1-833c-4395-9d85-0ca6b963d6e7","products":[{"product_code":"P-1","quantity":2,"unit_price":9.99}]}`
	payload := fmt.Sprintf(`{"invocationId":"inv-1","deliveryStreamArn":"arn:aws:firehose:us-east-1:123456789012:deliverystream/orders-firehose","region":"us-east-1","records":[
		{"recordId":"r1","approximateArrivalTimestamp":1795000000000,"data":%q,
		 "kinesisRecordMetadata":{"shardId":"shardId-000000000000","partitionKey":"k","approximateArrivalTimestamp":"2026-11-28T01:02:03.456Z","sequenceNumber":"4965","subsequenceNumber":""}},
		{"recordId":"r2","approximateArrivalTimestamp":1795000000000,"data":"%%%%not-base64"},
		{"recordId":"r3","approximateArrivalTimestamp":1795000000000,"data":%q}]}`,
		base64.StdEncoding.EncodeToString([]byte(order)), base64.StdEncoding.EncodeToString([]byte(`[1,2]`)))
	body, err := fn.Invoke([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	if len(resp.Records) != 3 {
		t.Fatalf("response %s", body)
	}
	var stamped struct {
		OrderID string `json:"order_id"`
		RunID   string `json:"run_id"`
		At      string `json:"processing_timestamp"`
	}
	if err := json.Unmarshal(resp.Records[0].Data, &stamped); err != nil || resp.Records[0].Result != "Ok" {
		t.Fatalf("record 1: %s %s", resp.Records[0].Result, resp.Records[0].Data)
	}
	current := runstatetest.Current(t, table.Store())
	if stamped.RunID != current.ID || !runstate.ValidRunID(stamped.RunID) || len(stamped.At) != 24 {
		t.Fatalf("stamped %+v, open run %s", stamped, current.ID)
	}
	for i, want := range []string{"%%not-base64", "[1,2]"} {
		r := resp.Records[i+1]
		if r.Result != "ProcessingFailed" || string(r.Data) != want {
			t.Errorf("record %s: %s %q, want ProcessingFailed %q", r.RecordID, r.Result, r.Data, want)
		}
	}
	// The structured log line counts the failures per reason.
	if out := fn.Output(); !strings.Contains(out, `"rejected":2,"failed":{"bad_base64":1,"not_object":1}`) {
		t.Errorf("no per-reason count in the log:\n%s", out)
	}
}

// The deployed binary (linux/arm64, as the CDK bundles it) stays under 10 MB.
func TestBootstrapSize(t *testing.T) {
	root, err := testserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := gofunction.Build(root, "lambdas/transformer", out); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bootstrap is %d bytes", info.Size())
	if info.Size() >= 10_000_000 {
		t.Fatalf("bootstrap is %d bytes, over 10 MB", info.Size())
	}
}
