package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gluejob"
	"github.com/orders-pipeline/orders-pipeline/internal/construct/gofunction"
)

// glueScripts locates the Glue job scripts, their shared modules and the
// warehouse SQL under glue-scripts/.
type glueScripts struct {
	dir string
}

func newGlueScripts(dir string) glueScripts {
	if dir == "" {
		dir = filepath.Join(gofunction.MustModuleRoot(), "glue-scripts")
	}
	return glueScripts{dir: dir}
}

// file is the path of one file under glue-scripts/; a missing file stops
// synth here rather than as an asset error without the job's name.
func (g glueScripts) file(rel string) string {
	p := filepath.Join(g.dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		panic(fmt.Sprintf("glue script %s: %v", rel, err))
	}
	return p
}

// sharedModules are the .py files of glue-scripts/common/ deployed under
// their own names, for every job's --extra-py-files.
type sharedModules struct {
	code []awsglue.Code
	// deployment copies them; nil when there are none.
	deployment awss3deployment.BucketDeployment
}

const sharedModulesPrefix = "common/"

// deploySharedModules copies every .py file of glue-scripts/common/ into
// the Glue code bucket under its own name: Glue imports an
// --extra-py-files module by its object name, and a CDK asset's object is
// named by its hash (a zip of them would do for Spark, but Python shell jobs
// do not import from zips).
func deploySharedModules(stack awscdk.Stack, in orchestrationInputs) sharedModules {
	dir := filepath.Join(in.scripts.dir, "common")
	files := pythonModules(dir)
	var m sharedModules
	if len(files) == 0 {
		return m
	}
	for _, f := range files {
		m.code = append(m.code, awsglue.Code_FromBucket(in.glueCode, jsii.String(sharedModulesPrefix+filepath.Base(f))))
	}
	logs := awslogs.NewLogGroup(stack, jsii.String("SharedModulesDeploymentLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(logGroupName(in.cfg, lambdaLogs, "shared-modules-deployment")),
		EncryptionKey: in.dataKey,
		Retention:     awslogs.RetentionDays_ONE_YEAR,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	m.deployment = awss3deployment.NewBucketDeployment(stack, jsii.String("SharedModules"), &awss3deployment.BucketDeploymentProps{
		Sources:              &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(dir), &awss3assets.AssetOptions{Exclude: jsii.Strings("__pycache__", "*.pyc")})},
		DestinationBucket:    in.glueCode,
		DestinationKeyPrefix: jsii.String(sharedModulesPrefix),
		Prune:                jsii.Bool(true),
		LogGroup:             logs,
	})
	suppressDeploymentHandler(stack)
	return m
}

// suppressDeploymentHandler documents the findings of the CDK's
// BucketDeployment handler, a singleton Lambda at the stack's root that
// runs only while CloudFormation deploys the modules.
func suppressDeploymentHandler(stack awscdk.Stack) {
	for _, child := range *stack.Node().Children() {
		if !strings.HasPrefix(*child.Node().Id(), "Custom::CDKBucketDeployment") {
			continue
		}
		suppress(child,
			rule("AwsSolutions-IAM4", "The CDK's BucketDeployment handler logs through the basic execution role; it runs only during deployments.",
				"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
			rule("AwsSolutions-L1", "The CDK pins the BucketDeployment handler's runtime with the aws-cdk-lib version; it runs only during deployments."))
		suppressMatching(child, "The CDK's grants for the BucketDeployment handler: read the modules' asset in the CDK assets bucket, write and prune the Glue code bucket, use the data key it is encrypted with.",
			`^Action::s3:(GetBucket|GetObject|List|Abort|DeleteObject)\*$`, `^Action::kms:(GenerateDataKey|ReEncrypt)\*$`,
			`^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>/\*$`, `^Resource::.*GlueCode.*/\*$`)
	}
}

// awaitedBy makes a job wait for the modules' deployment; the job's
// construct grants it read on each module.
func (m sharedModules) awaitedBy(job *gluejob.Job) {
	if m.deployment != nil {
		job.Job.Node().AddDependency(m.deployment)
	}
}

// pythonModules lists the .py files directly in dir, sorted so the
// template is stable.
func pythonModules(dir string) []string {
	found, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil {
		panic(err)
	}
	sort.Strings(found)
	return found
}
