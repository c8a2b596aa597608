package testserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A message published to a configured topic reaches its HTTP endpoint
// before the publish is answered; a topic that was not configured fails.
func TestGoawsDeliversToHTTPEndpoints(t *testing.T) {
	got := make(chan map[string]any, 1)
	inbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n map[string]any
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &n); err != nil {
			t.Errorf("delivery %q: %v", body, err)
		}
		got <- n
	}))
	defer inbox.Close()
	s := Goaws(t, GoawsTopic{Name: "orders-audit", Endpoints: []string{inbox.URL}}, GoawsTopic{Name: "unsubscribed"})

	publish := func(topic string) int {
		resp, err := http.PostForm(s.URL, url.Values{"Action": {"Publish"}, "TopicArn": {GoawsTopicArn(topic)}, "Subject": {"SUCCESS"}, "Message": {"counts match"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := publish("orders-audit"); code != http.StatusOK {
		t.Fatalf("publish answered %d; goaws output:\n%s", code, s.Output())
	}
	select {
	case n := <-got:
		if n["Type"] != "Notification" || n["Message"] != "counts match" || n["Subject"] != "SUCCESS" || n["TopicArn"] != GoawsTopicArn("orders-audit") {
			t.Fatalf("delivered %v", n)
		}
	default:
		t.Fatal("publish returned before the message was delivered")
	}
	if code := publish("unsubscribed"); code != http.StatusOK {
		t.Fatalf("publish to a topic without subscriptions answered %d", code)
	}
	if code := publish("not-configured"); code < 400 {
		t.Fatalf("publish to an unknown topic answered %d", code)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %q is not on loopback", s.URL)
	}
}
