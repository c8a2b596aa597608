// Package rotate decides whether an EventBridge event closes the open run
// and, if so, rotates it: a completion object under batch-completion/ of the
// landing bucket (both trigger modes) or the success of the workflow's last
// job (continuous mode).
package rotate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
)

// Environment variables of the run rotator, which fill a Trigger. The stack
// that sets them names them by these constants.
const (
	EnvLandingBucket    = "LANDING_BUCKET"
	EnvCompletionPrefix = "COMPLETION_PREFIX"
	// EnvLastJob is set in continuous mode only.
	EnvLastJob = "LAST_JOB_NAME"
)

// Trigger names what may rotate the run.
type Trigger struct {
	LandingBucket    string // bucket whose completion objects close a run
	CompletionPrefix string // e.g. "batch-completion/"
	LastJob          string // Glue job whose success closes a run (continuous mode); empty disables
}

// Rotator is what Rotate needs from the run-state store.
type Rotator interface {
	Rotate(ctx context.Context, eventID string) (runstate.Rotation, error)
}

// Rotate checks that ev is one of the trigger's events and rotates the run
// once per event id. Any other event is an error, never a silent no-op:
// it means a rule targets this function by mistake.
func Rotate(ctx context.Context, store Rotator, tr Trigger, ev events.EventBridgeEvent) (runstate.Rotation, error) {
	if err := tr.check(ev); err != nil {
		return runstate.Rotation{}, fmt.Errorf("event %s (%s from %s): %w", ev.ID, ev.DetailType, ev.Source, err)
	}
	return store.Rotate(ctx, ev.ID)
}

func (tr Trigger) check(ev events.EventBridgeEvent) error {
	switch {
	case ev.Source == "aws.s3" && ev.DetailType == "Object Created":
		var d struct {
			Bucket struct{ Name string } `json:"bucket"`
			Object struct{ Key string }  `json:"object"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return fmt.Errorf("unreadable S3 detail: %w", err)
		}
		if d.Bucket.Name != tr.LandingBucket {
			return fmt.Errorf("object in bucket %q, not the landing bucket %q", d.Bucket.Name, tr.LandingBucket)
		}
		if !strings.HasPrefix(d.Object.Key, tr.CompletionPrefix) {
			return fmt.Errorf("object %q is not a completion file under %q", d.Object.Key, tr.CompletionPrefix)
		}
		return nil
	case ev.Source == "aws.glue" && ev.DetailType == "Glue Job State Change":
		var d struct {
			JobName string `json:"jobName"`
			State   string `json:"state"`
		}
		if err := json.Unmarshal(ev.Detail, &d); err != nil {
			return fmt.Errorf("unreadable Glue detail: %w", err)
		}
		if tr.LastJob == "" || d.JobName != tr.LastJob || d.State != "SUCCEEDED" {
			return fmt.Errorf("job %q in state %q does not close a run (last job: %q)", d.JobName, d.State, tr.LastJob)
		}
		return nil
	}
	return fmt.Errorf("not a batch-completion or workflow-restart event")
}
