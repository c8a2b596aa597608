# The two commands a new user needs: `make synth` and `make test`.
# Both install what they need first; nothing here needs AWS credentials.

SHELL := /bin/bash
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export AWS_EC2_METADATA_DISABLED ?= true

# Python tools come from PyPI, pinned in requirements.txt, into a virtualenv
# made with PYTHON_BASE (Python 3.11, the version Glue 5.0 runs).
PYTHON_BASE ?= python3
VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
BIN := $(CURDIR)/.bin
GOAWS_VERSION := v0.4.5
STATICCHECK_VERSION := v0.8.2
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
GREMLINS_VERSION := v0.6.0
APT_PACKAGES := postgresql default-jre-headless

.PHONY: synth test test-go test-glue-scripts test-rehearsal rehearse smoke guard lint-templates lint tools node-tools go-tools python-tools system-tools deploy diff destroy bench mutation config-docs clean

synth: node-tools ## Synthesize every stack into cdk.out/
	$(CDK) synth --quiet

test: tools lint test-go test-glue-scripts test-rehearsal guard lint-templates ## Every test suite of the project

test-go:
	go test ./...

test-glue-scripts:
	cd glue-scripts && $(PYTHON) -m pytest -q tests

# The rehearsal: every layer on this machine, no AWS account (docs/rehearsal.md).
REHEARSAL_ARGS ?=
rehearse: tools synth spark-jars ## One batch of 1,000 orders through every layer, locally; table and .rehearsal/summary.json
	cd test/rehearsal && PYTHONPATH=$(CURDIR)/test/rehearsal $(PYTHON) -m rehearsal $(REHEARSAL_ARGS)

# Publishes a small batch to a deployed stage and waits for its SUCCESS notifications.
SMOKE_ARGS ?=
smoke: python-tools go-tools ## Smoke test of a deployed stage (needs AWS credentials): make smoke SMOKE_ARGS="--stage dev"
	cd test/rehearsal && PYTHONPATH=$(CURDIR)/test/rehearsal $(PYTHON) -m rehearsal.smoke $(SMOKE_ARGS)

# Scenario tests of the rehearsal (one set of local servers and Spark per session).
test-rehearsal: tools synth spark-jars
	cd test/rehearsal && PYTHONPATH=$(CURDIR)/test/rehearsal $(PYTHON) -m pytest -q -p no:cacheprovider tests_glue tests

# Synthesizes the app into a temporary cdk.out and runs the AWS Control Tower
# proactive controls (cfn-guard and its rules from @cdklabs/cdk-validator-cfnguard)
# over every template; fails on a finding or a stale exemption in
# test/guard/exemptions.json.
guard: node-tools ## Control Tower guard rules over the synthesized templates
	go test -tags guard -count=1 -skip CfnLint ./test/guard/

# cfn-lint (pinned in requirements.txt) over the templates of the defaults
# and of the guard run's variants: no error, no warning that .cfnlintrc.yaml
# does not waive with its reason.
lint-templates: node-tools python-tools ## CloudFormation's linter over the synthesized templates
	go test -tags guard -count=1 -run CfnLint ./test/guard/

# gofmt, go vet, staticcheck, a tidy go.mod, and ruff over the Python.
lint: go-tools python-tools
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$bad" ]; then echo "gofmt would change:"; echo "$$bad"; exit 1; fi
	go vet ./...
	go vet -tags guard ./test/guard/
	$(BIN)/staticcheck ./...
	$(BIN)/staticcheck -tags guard ./test/guard/
	@go mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run 'go mod tidy'"; go mod tidy -diff; exit 1; }
	$(VENV)/bin/ruff check .

tools: node-tools go-tools python-tools system-tools

# The aws-cdk package ships Go `cdk init` templates whose file names do not
# parse as Go; they would break `go vet ./...` and `gofmt -l .`.
# A node_modules that is a symlink to a shared install is left alone: npm ci
# empties the install behind the link before replacing the link.
node_modules/.installed: package.json package-lock.json
	@if [ -L node_modules ]; then echo "node_modules links to a shared install; not reinstalling it (run npm ci there)" >&2; exit 1; fi
	npm ci --no-audit --no-fund
	rm -rf node_modules/aws-cdk/lib/init-templates/*/go
	touch $@

node-tools: node_modules/.installed

go-tools: $(BIN)/goaws $(BIN)/aws-lambda-rie $(BIN)/staticcheck

$(BIN)/goaws:
	GOBIN=$(BIN) go install github.com/Admiral-Piett/goaws/app/cmd@$(GOAWS_VERSION)
	mv $(BIN)/cmd $@

$(BIN)/staticcheck:
	GOBIN=$(BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(BIN)/aws-lambda-rie:
	GOBIN=$(BIN) go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

# A failed install leaves no stamp, so the next make retries it.
$(VENV)/.installed: requirements.txt
	@$(PYTHON_BASE) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "PYTHON_BASE=$(PYTHON_BASE) is not Python 3.11 (the version Glue 5.0 runs)" >&2; exit 1; }
	$(PYTHON_BASE) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

python-tools: $(VENV)/.installed

system-tools:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then \
	  echo "installing $(APT_PACKAGES) with apt"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

bench: ## Benchmarks whose figures the README reports
	go test -run '^$$' -bench . -benchmem ./...

# Mutation testing of the logic packages with gremlins; slow (every mutant
# reruns its package's tests, local stand-ins included), so not part of
# `make test`. gremlins copies the module once per worker: it runs in a copy
# of the source files only (no node_modules, .bin or cdk.out), and the tests
# find the stand-ins here through LOCALSERVER_TOOLS_DIR. gremlins times
# every mutant's run against its first, coverage run of the tests; a cached
# result of that run (the copy's path and files do not change between two
# runs) would make the limit a fraction of a real run and report nearly
# every mutant TIMED OUT, hence -count=1.
MUTATION_PACKAGES ?= lambdas/transformer/transform internal/config lambdas/auditscanner/reconcile \
	lambdas/runrotator/rotate internal/runstate internal/publisher
MUTATION_DIR := $(or $(TMPDIR),/tmp)/orders-pipeline-mutation

$(BIN)/gremlins:
	GOBIN=$(BIN) go install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

mutation: node-tools go-tools $(BIN)/gremlins ## Mutation testing of the logic packages (MUTATION_PACKAGES)
	rm -rf $(MUTATION_DIR) && mkdir -p $(MUTATION_DIR)
	git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C $(MUTATION_DIR)
	@status=0; for p in $(MUTATION_PACKAGES); do \
	  echo "== $$p"; \
	  (cd $(MUTATION_DIR) && GOFLAGS=-count=1 LOCALSERVER_TOOLS_DIR=$(CURDIR) $(BIN)/gremlins unleash ./$$p) || status=1; \
	done; rm -rf $(MUTATION_DIR); exit $$status

config-docs: ## Regenerate the configuration reference from internal/config
	go run ./internal/config/cmd/configdocs docs/configuration.md

deploy: node-tools ## Deploy every stack to the account of your AWS credentials
	$(CDK) deploy --all --require-approval broadening

# diff compares every stack when none is named; it has no --all (the CLI
# only warns about an unknown option). test/cli runs every $(CDK) recipe
# through the CLI's own option checks.
diff: node-tools ## What a deploy would change in the account of your AWS credentials
	$(CDK) diff

destroy: node-tools
	$(CDK) destroy --all

clean:
	rm -rf cdk.out .bin node_modules .venv

# S3A for the rehearsal's Spark (pyspark 3.5.4 bundles Hadoop 3.3.4): hadoop-aws
# of that Hadoop and the AWS SDK bundle it was built against, from Maven Central.
SPARK_JARS := $(BIN)/spark-jars
SPARK_JAR_ARTIFACTS := org.apache.hadoop:hadoop-aws:3.3.4 com.amazonaws:aws-java-sdk-bundle:1.12.262

.PHONY: spark-jars
spark-jars: $(SPARK_JARS)/.installed

$(SPARK_JARS)/.installed:
	mkdir -p $(SPARK_JARS)
	for a in $(SPARK_JAR_ARTIFACTS); do \
	  mvn -q -B -Dmaven.repo.local=$(BIN)/m2 dependency:copy -Dartifact=$$a -DoutputDirectory=$(SPARK_JARS) || exit 1; \
	done
	touch $@
