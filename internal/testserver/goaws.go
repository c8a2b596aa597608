package testserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// GoawsAccount and GoawsRegion are what goaws puts into the ARNs it makes.
const (
	GoawsAccount = "100010001000"
	GoawsRegion  = "us-east-1"
)

// GoawsTopic is an SNS topic goaws creates at start, with HTTP endpoints
// it delivers every published message to (as an SNS Notification JSON).
type GoawsTopic struct {
	Name      string
	Endpoints []string
}

// GoawsTopicArn is the ARN goaws gives topic name.
func GoawsTopicArn(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", GoawsRegion, GoawsAccount, name)
}

// Goaws starts goaws (an SNS / SQS stand-in) with topics. Publish delivers
// to the HTTP endpoints before it answers, so a test can assert on the
// delivered message as soon as its publish returns. goaws v0.4.5 listens
// on every interface (its address is not configurable); Host only shapes
// the URLs it hands out, and the tests only ever talk to 127.0.0.1.
func Goaws(t testing.TB, topics ...GoawsTopic) *Server {
	t.Helper()
	dir := t.TempDir()
	return Start(t, Spec{Name: "goaws", Binary: "goaws", Args: func(port int) []string {
		path := filepath.Join(dir, "goaws.yaml")
		if err := os.WriteFile(path, []byte(goawsConfig(port, topics)), 0o600); err != nil {
			t.Fatalf("goaws config: %v", err)
		}
		return []string{"-config", path, "Local"}
	}, Ready: httpAnswers})
}

func goawsConfig(port int, topics []GoawsTopic) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Local:\n  Host: 127.0.0.1\n  Port: \"%d\"\n  Region: %s\n  AccountId: %q\n  LogToFile: false\n", port, GoawsRegion, GoawsAccount)
	if len(topics) == 0 {
		b.WriteString("  Topics: []\n")
	} else {
		b.WriteString("  Topics:\n")
	}
	for _, topic := range topics {
		fmt.Fprintf(&b, "    - Name: %s\n", topic.Name)
		if len(topic.Endpoints) == 0 {
			continue
		}
		b.WriteString("      Subscriptions:\n")
		for _, ep := range topic.Endpoints {
			fmt.Fprintf(&b, "        - Protocol: http\n          EndPoint: %q\n          TopicArn: %q\n          Raw: false\n", ep, GoawsTopicArn(topic.Name))
		}
	}
	return b.String()
}
