package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate/runstatetest"
	"github.com/orders-pipeline/orders-pipeline/lambdas/runrotator/rotate"
)

// The built bootstrap rotates the run in dynalite for a completion event
// delivered through the Lambda Runtime Interface Emulator, once per event id.
func TestBootstrapUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	table := runstatetest.New(t)
	fn := table.Function(t, "lambdas/runrotator", rotate.EnvLandingBucket+"=landing", rotate.EnvCompletionPrefix+"=batch-completion/")
	event := []byte(`{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Object Created","source":"aws.s3",
		"account":"123456789012","time":"2026-11-28T01:30:00Z","region":"us-east-1","resources":["arn:aws:s3:::landing"],
		"detail":{"version":"0","bucket":{"name":"landing"},"object":{"key":"batch-completion/batch-42.done","size":0},"reason":"PutObject"}}`)
	var first, second runstate.Rotation
	for _, out := range []*runstate.Rotation{&first, &second} {
		body, err := fn.Invoke(event)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("response %s: %v", body, err)
		}
	}
	current := runstatetest.Current(t, table.Store())
	if first.Duplicate || first.Opened != current.ID || !second.Duplicate || second.Opened != current.ID {
		t.Fatalf("first %+v, second %+v, open run %s", first, second, current.ID)
	}
	// A function error comes back as an error document, which EventBridge retries.
	body, err := fn.Invoke([]byte(`{"id":"x","source":"aws.events","detail-type":"Scheduled Event","detail":{}}`))
	if err == nil && !strings.Contains(string(body), "errorMessage") {
		t.Fatalf("an unrelated event was accepted: %s", body)
	}
}
