// Command orders-pipeline is the CDK app of the orders streaming-to-warehouse
// pipeline. `make synth` runs it through the CDK CLI.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
	"github.com/orders-pipeline/orders-pipeline/stacks"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	cfg, err := stacks.LoadConfig(app, ".")
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid configuration:\n%v\n", err)
		jsii.Close()
		os.Exit(1)
	}
	stacks.NewPipeline(app, stacks.PipelineProps{Config: cfg, Env: env()})
	nag.AddChecks(app)
	app.Synth(nil)
}

// env targets the account and region the CDK CLI resolved from the usual
// AWS settings; without them the stacks are environment-agnostic, which is
// enough to synthesize and review the templates.
func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
