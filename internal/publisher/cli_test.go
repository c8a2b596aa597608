package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// stubAWS answers the three calls the publisher makes, Kinesis and S3 on
// one endpoint, and records them with the region they were signed for.
type stubAWS struct {
	mu    sync.Mutex
	calls []string
}

func (s *stubAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	region := "unsigned"
	if auth := r.Header.Get("Authorization"); strings.Contains(auth, "Credential=") {
		// Credential=<key>/<date>/<region>/<service>/aws4_request
		scope := strings.Split(strings.SplitN(strings.SplitN(auth, "Credential=", 2)[1], ",", 2)[0], "/")
		region = scope[2]
	}
	target := r.Header.Get("X-Amz-Target")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch {
	case target == "Kinesis_20131202.DescribeStreamSummary":
		s.add("DescribeStreamSummary " + region)
		fmt.Fprint(w, `{"StreamDescriptionSummary":{"StreamName":"orders","StreamStatus":"ACTIVE","OpenShardCount":2}}`)
	case target == "Kinesis_20131202.PutRecords":
		var in putRecordsBody
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.add(fmt.Sprintf("PutRecords %d %s", len(in.Records), region))
		results := make([]putRecordsResult, len(in.Records))
		for i := range results {
			results[i] = putRecordsResult{ShardId: "shardId-000000000000", SequenceNumber: fmt.Sprint(100 + i)}
		}
		json.NewEncoder(w).Encode(map[string]any{"FailedRecordCount": 0, "Records": results})
	case r.Method == http.MethodPut:
		s.add("PUT " + r.URL.Path + " " + region)
		w.Header().Set("ETag", `"0"`)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
	}
}

func (s *stubAWS) add(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
}

// --region and --endpoint-url take the place of the AWS environment for
// both the stream and the bucket.
func TestRegionAndEndpointFlagsReachBothClients(t *testing.T) {
	stub := &stubAWS{}
	srv := httptest.NewServer(stub)
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_KINESIS": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Run(ctx, []string{"--stream", "orders", "--bucket", "landing", "--region", "eu-west-1", "--endpoint-url", srv.URL,
		"--s3-path-style", "--count", "3", "--seed", "1", "--batch-id", "wired", "--progress", "never", "--retry-for", "10s"}, nil, &out, &errOut)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "DescribeStreamSummary eu-west-1,PutRecords 3 eu-west-1,PUT /landing/batch-completion/wired.json eu-west-1"
	if got := strings.Join(stub.calls, ","); got != want {
		t.Fatalf("calls %s\nwant  %s", got, want)
	}
	if !strings.HasPrefix(out.String(), "batch wired: 3 records (") || !strings.HasSuffix(out.String(), "delivered; wrote s3://landing/batch-completion/wired.json\n") {
		t.Errorf("summary %q", out.String())
	}
}

// Every usage error names the flag and what it takes.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	t.Setenv(EnvStream, "")
	t.Setenv(EnvBucket, "")
	ok := []string{"--stream", "s", "--bucket", "b"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--bucket", "b"}, "--stream (or PUBLISHER_STREAM) is required"},
		{[]string{"--stream", "s"}, "--bucket (or PUBLISHER_BUCKET) is required"},
		{append(ok, "extra"), `unexpected arguments ["extra"]`},
		{append(ok, "--count", "0"), "--count must be at least 1, got 0"},
		{append(ok, "--rate", "-1"), "--rate must not be negative, got -1"},
		{append(ok, "--completion-pause", "-1s"), "--completion-pause must not be negative, got -1s"},
		{append(ok, "--retry-for", "0s"), "--retry-for must be positive, got 0s"},
		{append(ok, "--progress", "sometimes"), `--progress must be auto, always or never, got "sometimes"`},
		{append(ok, "--batch-id", "a/b"), `batch id "a/b" must be 1-128 letters`},
	} {
		if _, err := parseFlags(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	for _, args := range [][]string{
		{"--dry-run"},
		append(ok, "--input", "orders.jsonl", "--count", "0"),
		append(ok, "--rate", "0", "--completion-pause", "0s", "--progress", "always"),
	} {
		if _, err := parseFlags(args, io.Discard); err != nil {
			t.Errorf("%v refused: %v", args, err)
		}
	}
}
