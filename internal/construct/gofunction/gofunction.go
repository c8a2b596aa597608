// Package gofunction builds a Go Lambda from a package of this module into a
// static `bootstrap` for provided.al2023 on arm64, with CDK local bundling:
// the host's Go toolchain compiles it, so neither Docker nor the *alpha Go
// Lambda construct is needed.
package gofunction

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure one Go function.
type Props struct {
	// Package is the function's main package, relative to the module root
	// (for example "lambdas/transformer").
	Package string
	// FunctionName is the deployed name; empty lets CloudFormation choose.
	FunctionName string
	Description  string
	Environment  map[string]string
	// MemorySize in MB; 0 means 256.
	MemorySize int
	// Timeout; nil means 30 seconds.
	Timeout awscdk.Duration
	// ReservedConcurrency caps parallel executions; 0 leaves it unreserved.
	ReservedConcurrency int
	// LogRetention of the function's log group; empty means one year, the
	// least the Control Tower controls accept.
	LogRetention awslogs.RetentionDays
	// LogGroupName names the function's log group; empty lets
	// CloudFormation choose. A key policy that lets CloudWatch Logs use
	// LogKey can only name the log groups it covers by their names.
	LogGroupName string
	// LogKey encrypts the function's log group; nil leaves the CloudWatch
	// Logs default encryption.
	LogKey awskms.IKey
	// ModuleRoot is the directory holding go.mod; empty searches upwards
	// from the working directory.
	ModuleRoot string
}

// GoFunction is a Lambda function with its own role and log group. The role
// starts with nothing but writing to that log group; callers grant the rest.
type GoFunction struct {
	constructs.Construct
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// buildFlags are part of the asset hash: a change to them must rebuild.
var buildFlags = []string{"build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", "-s -w"}

var buildEnv = []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0"}

// New defines the function.
func New(scope constructs.Construct, id string, props Props) *GoFunction {
	c := constructs.NewConstruct(scope, jsii.String(id))
	root := props.ModuleRoot
	if root == "" {
		root = MustModuleRoot()
	}
	if props.MemorySize == 0 {
		props.MemorySize = 256
	}
	if props.Timeout == nil {
		props.Timeout = awscdk.Duration_Seconds(jsii.Number(30))
	}
	if props.LogRetention == "" {
		props.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	hash, err := SourceHash(root, props.Package)
	if err != nil {
		panic(fmt.Sprintf("gofunction %s: %v", props.Package, err))
	}

	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  optional(props.LogGroupName),
		EncryptionKey: props.LogKey,
		Retention:     props.LogRetention,
		// Logs are diagnostics, not pipeline data: they go with the function.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of " + props.Package),
	})
	logGroup.GrantWrite(role)

	env := map[string]*string{}
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}
	fnProps := &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code: awslambda.Code_FromAsset(jsii.String(root), &awss3assets.AssetOptions{
			AssetHashType: awscdk.AssetHashType_CUSTOM,
			AssetHash:     jsii.String(hash),
			Bundling: &awscdk.BundlingOptions{
				// Never pulled: local bundling always succeeds or panics.
				Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
				Local: &localGoBuild{root: root, pkg: props.Package},
			},
		}),
		Description:   optional(props.Description),
		FunctionName:  optional(props.FunctionName),
		MemorySize:    jsii.Number(float64(props.MemorySize)),
		Timeout:       props.Timeout,
		Environment:   &env,
		Role:          role,
		LogGroup:      logGroup,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	}
	if props.ReservedConcurrency > 0 {
		fnProps.ReservedConcurrentExecutions = jsii.Number(float64(props.ReservedConcurrency))
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), fnProps)
	return &GoFunction{Construct: c, Function: fn, Role: role, LogGroup: logGroup}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return jsii.String(s)
}

// localGoBuild implements awscdk.ILocalBundling with the host's Go toolchain.
type localGoBuild struct{ root, pkg string }

func (b *localGoBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := Build(b.root, b.pkg, filepath.Join(*outputDir, "bootstrap")); err != nil {
		// Returning false would send CDK to Docker, which this project does not use.
		panic(fmt.Sprintf("building %s for Lambda: %v", b.pkg, err))
	}
	return jsii.Bool(true)
}

// Build compiles pkg (relative to root) into a static linux/arm64 binary at out.
func Build(root, pkg, out string) error {
	args := append(append([]string{}, buildFlags...), "-o", out, "./"+filepath.ToSlash(pkg))
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, output)
	}
	return nil
}

// SourceHash fingerprints what the binary is built from: the Go files of
// every package of this module that pkg imports, go.mod, go.sum and the
// build settings. Paths are taken relative to the module root, so the hash
// is the same on every machine that has the same sources.
func SourceHash(root, pkg string) (string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`,
		"./"+filepath.ToSlash(pkg))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), buildEnv...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("go list %s: %s", pkg, ee.Stderr)
		}
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	var files []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, f := range fields[1:] {
			files = append(files, filepath.Join(fields[0], f))
		}
	}
	files = append(files, filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", strings.Join(buildFlags, " "), strings.Join(buildEnv, " "))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(root, f)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MustModuleRoot finds the directory holding go.mod, from the working directory up.
func MustModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			panic("gofunction: no go.mod above the working directory")
		}
		dir = parent
	}
}
