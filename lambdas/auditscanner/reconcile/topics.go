package reconcile

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// Topics are the SUCCESS and FAILURE topics (the same ARN when the
// deployment uses one topic).
type Topics struct {
	Client           *sns.Client
	Success, Failure string
}

// PublishOnce makes an SNS client send each request once. A Publish whose
// response is lost has usually been delivered, so an SDK retry would email
// it again; a publish that really failed is retried with its stream record
// instead (README, "Delivery guarantees").
func PublishOnce(o *sns.Options) { o.RetryMaxAttempts = 1 }

// Publish sends r's notification and returns the SNS message id. The
// outcome, layer and run id are also message attributes, so a subscriber of
// a single topic can filter on them.
func (t Topics) Publish(ctx context.Context, r Result) (string, error) {
	topic := t.Failure
	if r.Outcome == Success {
		topic = t.Success
	}
	out, err := t.Client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic),
		Subject:  aws.String(r.Subject()),
		Message:  aws.String(r.Message()),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"outcome": {DataType: aws.String("String"), StringValue: aws.String(string(r.Outcome))},
			"layer":   {DataType: aws.String("String"), StringValue: aws.String(string(r.Layer))},
			"run_id":  {DataType: aws.String("String"), StringValue: aws.String(r.RunID)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("publishing %s for run %s, layer %s to %s: %w", r.Outcome, r.RunID, r.Layer, topic, err)
	}
	return aws.ToString(out.MessageId), nil
}
