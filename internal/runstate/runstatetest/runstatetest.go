// Package runstatetest gives tests a run-state table in dynalite, shaped
// like the one the storage stack declares.
package runstatetest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/orders-pipeline/orders-pipeline/internal/runstate"
	"github.com/orders-pipeline/orders-pipeline/internal/testserver"
)

// Table is a run-state table in a fresh dynalite.
type Table struct {
	Endpoint string
	Name     string
	Client   *dynamodb.Client
}

// New starts dynalite and creates the table.
func New(t testing.TB) Table {
	t.Helper()
	srv := testserver.Dynalite(t)
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	name := "orders-run-state"
	testserver.CreateTable(t, client, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(runstate.PartitionKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(runstate.PartitionKey), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	return Table{Endpoint: srv.URL, Name: name, Client: client}
}

// Store is a runstate.Store on the table.
func (tb Table) Store() *runstate.Store {
	return &runstate.Store{Client: tb.Client, Table: tb.Name}
}

// Function builds the Lambda in pkg (relative to the module root) and runs
// it under the Runtime Interface Emulator with the table's name and
// endpoint in its environment, and env besides.
func (tb Table) Function(t testing.TB, pkg string, env ...string) *testserver.Lambda {
	t.Helper()
	return testserver.RIE(t, testserver.BuildHostBinary(t, pkg),
		append([]string{runstate.EnvTable + "=" + tb.Name, "AWS_ENDPOINT_URL_DYNAMODB=" + tb.Endpoint}, env...)...)
}

// Current is store's open run; t fails if it cannot be read.
func Current(t testing.TB, store *runstate.Store) runstate.Run {
	t.Helper()
	run, err := store.Current(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return run
}
