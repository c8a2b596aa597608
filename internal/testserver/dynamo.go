package testserver

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// CreateTable creates a table on a DynamoDB stand-in and waits until it is
// ACTIVE: dynalite answers CreateTable while the table is still CREATING,
// and an item written in that moment fails with ResourceNotFoundException.
func CreateTable(t testing.TB, client *dynamodb.Client, in *dynamodb.CreateTableInput) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := client.CreateTable(ctx, in); err != nil {
		t.Fatalf("creating table %s: %v", *in.TableName, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second); err != nil {
		t.Fatalf("waiting for table %s: %v", *in.TableName, err)
	}
}
