package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

// newNotificationTopics defines the SUCCESS and FAILURE topics (one topic
// for both when singleNotificationTopic is set) with their email
// subscriptions.
//
// They are encrypted with the DataKey: SNS decrypts for email delivery
// itself, so the key policy needs no SNS statement; only the publisher
// (the scanner's role) needs kms:GenerateDataKey* and kms:Decrypt, which
// the publish grant adds. Topics hold messages only in flight, so the
// stateful key lives in the storage stack and this stack stays disposable.
func newNotificationTopics(stack awscdk.Stack, cfg config.Config, key awskms.IKey) (success, failure awssns.ITopic) {
	topic := func(id, display string) awssns.Topic {
		return awssns.NewTopic(stack, jsii.String(id), &awssns.TopicProps{
			DisplayName: jsii.String(display),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
	}
	if cfg.SingleNotificationTopic {
		t := topic("NotificationTopic", "Orders pipeline audit")
		for _, sub := range singleTopicSubscriptions(cfg) {
			var props *awssnssubscriptions.EmailSubscriptionProps
			if sub.outcome != "" {
				// One topic carries both outcomes: an address on only one
				// list receives only that outcome (message attribute "outcome").
				props = &awssnssubscriptions.EmailSubscriptionProps{FilterPolicy: &map[string]awssns.SubscriptionFilter{
					"outcome": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings(sub.outcome)}),
				}}
			}
			t.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(sub.email), props))
		}
		if len(cfg.SuccessEmails)+len(cfg.FailureEmails) == 0 {
			warnUnsubscribed(t, "audit", "successEmails and failureEmails")
		}
		return t, t
	}
	s := topic("SuccessTopic", "Orders pipeline SUCCESS")
	f := topic("FailureTopic", "Orders pipeline FAILURE")
	for _, email := range unique(cfg.SuccessEmails) {
		s.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	for _, email := range unique(cfg.FailureEmails) {
		f.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	if len(cfg.SuccessEmails) == 0 {
		warnUnsubscribed(s, "SUCCESS", "successEmails")
	}
	if len(cfg.FailureEmails) == 0 {
		warnUnsubscribed(f, "FAILURE", "failureEmails")
	}
	return s, f
}

// warnUnsubscribed tells at synth that a topic reaches no one: the
// defaults subscribe nobody, and a deployment would otherwise send its
// notifications into the void without a word.
func warnUnsubscribed(topic awssns.ITopic, what, settings string) {
	awscdk.Annotations_Of(topic).AddWarningV2(jsii.String("orders-pipeline:unsubscribedTopic"), jsii.String(
		"No one receives the "+what+" notifications: the topic has no subscriber. Set "+settings+
			" (e.g. -c "+strings.SplitN(settings, " ", 2)[0]+"=data-team@example.com, or in cdk.json / config/<stage>.json)."), nil)
}

type emailSubscription struct {
	email string
	// outcome filters the messages; empty means every outcome.
	outcome string
}

// singleTopicSubscriptions merges the two lists: SNS keeps one
// subscription per topic and address, so an address on both lists gets one
// subscription without a filter.
func singleTopicSubscriptions(cfg config.Config) []emailSubscription {
	failure := map[string]bool{}
	for _, e := range cfg.FailureEmails {
		failure[e] = true
	}
	var subs []emailSubscription
	seen := map[string]bool{}
	for _, e := range cfg.SuccessEmails {
		if seen[e] {
			continue
		}
		seen[e] = true
		if failure[e] {
			subs = append(subs, emailSubscription{email: e})
		} else {
			subs = append(subs, emailSubscription{email: e, outcome: "SUCCESS"})
		}
	}
	for _, e := range cfg.FailureEmails {
		if !seen[e] {
			seen[e] = true
			subs = append(subs, emailSubscription{email: e, outcome: "FAILURE"})
		}
	}
	return subs
}

// unique keeps the first of repeated addresses: a topic cannot hold two
// subscriptions for one address.
func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range list {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out
}
