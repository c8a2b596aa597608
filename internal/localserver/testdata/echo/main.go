// Command echo is a minimal Lambda handler that the RIE test drives.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in map[string]any) (map[string]any, error) {
		in["env"] = os.Getenv("ECHO_ENV")
		return in, nil
	})
}
