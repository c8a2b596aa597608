// Command echofn is the smallest Go Lambda handler: the emulator and
// bundling tests build and run it without depending on a pipeline Lambda.
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
