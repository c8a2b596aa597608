// Package gluemodules deploys the Python modules Glue jobs share, every .py
// file of one directory, into a bucket under their own names: Glue imports
// an --extra-py-files module by its object name, and a CDK asset's object
// is named by its hash (a zip of them would do for Spark, but Python shell
// jobs do not import from zips).
package gluemodules

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/nag"
)

// Props configure the deployment.
type Props struct {
	// Dir holds the modules; files in its subdirectories are not modules.
	Dir string
	// Bucket receives them under Prefix; the deployment prunes what is no
	// longer in Dir, so the prefix must hold nothing else.
	Bucket awss3.IBucket
	Prefix string
	// LogGroupName and LogKey name and encrypt the deployment handler's logs.
	LogGroupName string
	LogKey       awskms.IKey
}

// Modules are the deployed modules.
type Modules struct {
	// Code is one entry per module, for a job's ExtraPythonFiles.
	Code       []awsglue.Code
	Deployment awss3deployment.BucketDeployment
}

// New defines the deployment as id under scope and its log group as
// "<id>DeploymentLogs". It panics when Dir holds no module.
func New(scope constructs.Construct, id string, props Props) *Modules {
	files := PythonModules(props.Dir)
	if len(files) == 0 {
		panic(fmt.Sprintf("gluemodules %s: no .py module in %s", id, props.Dir))
	}
	m := &Modules{}
	for _, f := range files {
		m.Code = append(m.Code, awsglue.Code_FromBucket(props.Bucket, jsii.String(props.Prefix+filepath.Base(f))))
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"DeploymentLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(props.LogGroupName),
		EncryptionKey: props.LogKey,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	m.Deployment = awss3deployment.NewBucketDeployment(scope, jsii.String(id), &awss3deployment.BucketDeploymentProps{
		Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(props.Dir), &awss3assets.AssetOptions{Exclude: jsii.Strings("__pycache__", "*.pyc")})},
		DestinationBucket:    props.Bucket,
		DestinationKeyPrefix: jsii.String(props.Prefix),
		Prune:                jsii.Bool(true),
		LogGroup:             logs,
	})
	suppressHandlerFindings(awscdk.Stack_Of(scope), *props.Bucket.Node().Id())
	return m
}

// AwaitedBy makes c (a job) wait for the deployment, so no run starts
// before its modules are there.
func (m *Modules) AwaitedBy(c constructs.IConstruct) {
	c.Node().AddDependency(m.Deployment)
}

// suppressHandlerFindings documents the findings of the CDK's
// BucketDeployment handler, a singleton Lambda at the stack's root that
// runs only while CloudFormation deploys the modules. bucketID is the
// destination bucket's construct id, which its logical id starts with.
func suppressHandlerFindings(stack awscdk.Stack, bucketID string) {
	for _, child := range *stack.Node().Children() {
		if !strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			continue
		}
		nag.Suppress(child,
			nag.Suppression("AwsSolutions-IAM4", "The CDK's BucketDeployment handler logs through the basic execution role; it runs only during deployments.",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
			nag.Suppression("AwsSolutions-L1", "The CDK pins the BucketDeployment handler's runtime with the aws-cdk-lib version; it runs only during deployments."))
		nag.Suppress(child, nag.Suppression("AwsSolutions-IAM5",
			"The CDK's grants for the BucketDeployment handler: read the modules' asset in the CDK assets bucket, write and prune the Glue code bucket, use the data key it is encrypted with.",
			`regex:/^Action::s3:(GetBucket|GetObject|List|Abort|DeleteObject)\*$/`, `regex:/^Action::kms:(GenerateDataKey|ReEncrypt)\*$/`,
			`regex:/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>/\*$/`,
			`regex:/^Resource::.*`+regexp.QuoteMeta(bucketID)+`.*/\*$/`))
	}
}

// PythonModules lists the .py files directly in dir, sorted so the
// template is stable.
func PythonModules(dir string) []string {
	found, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil {
		panic(err)
	}
	sort.Strings(found)
	return found
}
