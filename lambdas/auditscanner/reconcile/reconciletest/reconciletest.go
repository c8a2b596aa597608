// Package reconciletest runs the scanner's tests against real local
// servers: dynalite for the audit table, goaws for SNS and an HTTP inbox
// that goaws delivers the published notifications to.
package reconciletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/orders-pipeline/orders-pipeline/internal/audit"
	"github.com/orders-pipeline/orders-pipeline/internal/testserver"
	"github.com/orders-pipeline/orders-pipeline/lambdas/auditscanner/reconcile"
)

// Topic names goaws creates; MissingTopic is a name it does not create, so
// a publish to it fails.
const (
	SuccessTopic = "orders-audit-success"
	FailureTopic = "orders-audit-failure"
	MissingTopic = "orders-audit-not-created"
	Table        = "orders-audit-table"
)

// Notification is an SNS HTTP delivery as goaws posts it.
type Notification struct {
	Type, MessageId, TopicArn, Subject, Message string
	MessageAttributes                           map[string]struct{ Type, Value string }
}

// Inbox is an HTTP endpoint subscribed to the topics.
type Inbox struct {
	*httptest.Server
	mu   sync.Mutex
	msgs []Notification
}

// Messages are the notifications delivered so far (confirmations left out).
func (i *Inbox) Messages() []Notification {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]Notification(nil), i.msgs...)
}

func newInbox(t testing.TB) *Inbox {
	in := &Inbox{}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var n Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Errorf("inbox: undecodable SNS delivery %q: %v", body, err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n.Type == "Notification" {
			in.mu.Lock()
			in.msgs = append(in.msgs, n)
			in.mu.Unlock()
		}
	}))
	t.Cleanup(in.Close)
	return in
}

// Env is one set of running stand-ins with the audit table created.
type Env struct {
	Dynalite, Goaws *testserver.Server
	Inbox           *Inbox
	Dynamo          *dynamodb.Client
	// SNS reaches goaws through Faults and sends each request once, as the
	// function's client does.
	SNS    *sns.Client
	Faults *Faults
}

// Publish is one Publish request as the SNS client sent it.
type Publish struct{ TopicArn, Subject, Message string }

// Faults stands between an SNS client and goaws. Fail answers a Publish it
// picks with an SNS internal error, without forwarding it; Drop forwards
// the Publish it picks (goaws delivers it) and then closes the connection
// instead of answering, as when a response is lost on the way back.
type Faults struct {
	*httptest.Server
	mu         sync.Mutex
	fail, drop func(Publish) bool
	publishes  []Publish
}

// Fail sets which Publish requests fail; nil fails none.
func (f *Faults) Fail(pick func(Publish) bool) { f.mu.Lock(); f.fail = pick; f.mu.Unlock() }

// Drop sets which Publish requests lose their response; nil loses none.
func (f *Faults) Drop(pick func(Publish) bool) { f.mu.Lock(); f.drop = pick; f.mu.Unlock() }

// Publishes are the Publish requests that reached the proxy so far.
func (f *Faults) Publishes() []Publish {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Publish(nil), f.publishes...)
}

// NewFaults starts a fault proxy in front of the SNS endpoint target.
func NewFaults(t testing.TB, target string) *Faults {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	f := &Faults{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form.Get("Action") != "Publish" {
			forward.ServeHTTP(w, r)
			return
		}
		p := Publish{TopicArn: form.Get("TopicArn"), Subject: form.Get("Subject"), Message: form.Get("Message")}
		f.mu.Lock()
		f.publishes = append(f.publishes, p)
		fail, drop := f.fail != nil && f.fail(p), f.drop != nil && f.drop(p)
		f.mu.Unlock()
		switch {
		case fail:
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected by the test proxy</Message></Error><RequestId>test</RequestId></ErrorResponse>`)
		case drop:
			forward.ServeHTTP(httptest.NewRecorder(), r)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("fault proxy: %v", err)
				return
			}
			conn.Close()
		default:
			forward.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

// Start runs dynalite and goaws (SUCCESS and FAILURE topics delivering to
// one inbox) and creates the audit table.
func Start(t testing.TB) *Env {
	t.Helper()
	e := &Env{Inbox: newInbox(t)}
	e.Dynalite = testserver.Dynalite(t)
	e.Goaws = testserver.Goaws(t,
		testserver.GoawsTopic{Name: SuccessTopic, Endpoints: []string{e.Inbox.URL}},
		testserver.GoawsTopic{Name: FailureTopic, Endpoints: []string{e.Inbox.URL}},
	)
	e.Faults = NewFaults(t, e.Goaws.URL)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	e.Dynamo = dynamodb.New(dynamodb.Options{Region: testserver.GoawsRegion, Credentials: creds, BaseEndpoint: aws.String(e.Dynalite.URL)})
	e.SNS = sns.New(sns.Options{Region: testserver.GoawsRegion, Credentials: creds, BaseEndpoint: aws.String(e.Faults.URL)}, reconcile.PublishOnce)
	testserver.CreateTable(t, e.Dynamo, &dynamodb.CreateTableInput{
		TableName: aws.String(Table),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(audit.RunIDKey), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String(audit.LayerKey), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(audit.RunIDKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(audit.LayerKey), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	return e
}

// TopicArn is the ARN of a goaws topic.
func TopicArn(name string) string { return testserver.GoawsTopicArn(name) }

// AuditItem is an audit item as an audit job writes it.
func AuditItem(runID string, layer audit.Layer, count int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		audit.RunIDKey:        &types.AttributeValueMemberS{Value: runID},
		audit.LayerKey:        &types.AttributeValueMemberS{Value: string(layer)},
		audit.RecordCountAttr: &types.AttributeValueMemberN{Value: strconv.FormatInt(count, 10)},
		audit.JobNameAttr:     &types.AttributeValueMemberS{Value: "orders_" + string(layer) + "_audit_load"},
		audit.JobRunIDAttr:    &types.AttributeValueMemberS{Value: "jr_" + runID},
		audit.RecordedAtAttr:  &types.AttributeValueMemberS{Value: "2026-11-28T01:00:00Z"},
	}
}

// Put writes item into the audit table, as an audit job would.
func (e *Env) Put(t testing.TB, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.Dynamo.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(Table), Item: item}); err != nil {
		t.Fatalf("writing an audit item: %v", err)
	}
}

// Get reads an item of the audit table.
func (e *Env) Get(t testing.TB, runID, layer string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.Dynamo.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(Table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			audit.RunIDKey: &types.AttributeValueMemberS{Value: runID},
			audit.LayerKey: &types.AttributeValueMemberS{Value: layer},
		},
	})
	if err != nil {
		t.Fatalf("reading %s/%s: %v", runID, layer, err)
	}
	return out.Item
}

// Record is the stream record DynamoDB Streams would deliver for writing
// item (dynalite has no Streams API, so tests build it from the item).
func Record(t testing.TB, eventName, sequence string, item map[string]types.AttributeValue) events.DynamoDBEventRecord {
	t.Helper()
	img := StreamImage(t, item)
	rec := events.DynamoDBEventRecord{
		AWSRegion: testserver.GoawsRegion, EventID: "event-" + sequence, EventName: eventName,
		EventSource: "aws:dynamodb", EventVersion: "1.1",
		Change: events.DynamoDBStreamRecord{
			Keys:           map[string]events.DynamoDBAttributeValue{audit.RunIDKey: img[audit.RunIDKey], audit.LayerKey: img[audit.LayerKey]},
			NewImage:       img,
			SequenceNumber: sequence, SizeBytes: 100, StreamViewType: "NEW_AND_OLD_IMAGES",
		},
	}
	if eventName == "REMOVE" {
		rec.Change.OldImage, rec.Change.NewImage = img, nil
	}
	return rec
}

// StreamImage converts an SDK item into the stream event's image.
func StreamImage(t testing.TB, item map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range item {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			img[k] = events.NewStringAttribute(v.Value)
		case *types.AttributeValueMemberN:
			img[k] = events.NewNumberAttribute(v.Value)
		case *types.AttributeValueMemberBOOL:
			img[k] = events.NewBooleanAttribute(v.Value)
		default:
			t.Fatalf("StreamImage: attribute %s has an unsupported type %T", k, v)
		}
	}
	return img
}

// WaitFor waits until the inbox holds n notifications (deliveries happen
// before goaws answers the publish, so this rarely waits).
func (e *Env) WaitFor(t testing.TB, n int) []Notification {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msgs := e.Inbox.Messages()
		if len(msgs) >= n || time.Now().After(deadline) {
			if len(msgs) != n {
				t.Fatalf("inbox holds %d notifications, want %d: %s", len(msgs), n, fmt.Sprint(msgs))
			}
			return msgs
		}
		time.Sleep(20 * time.Millisecond)
	}
}
