package stacks

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// statefulLayers are the stacks that may keep resources after deletion.
var statefulLayers = []string{"storage", "warehouse"}

func isStatefulStack(all appTemplates, stack string) bool {
	for _, layer := range statefulLayers {
		if len(stack) > len(layer) && stack[len(stack)-len(layer)-1:] == "-"+layer {
			return true
		}
	}
	return false
}

// retainedNamed lists the resources outside the stateful stacks that
// survive their stack's deletion and keep a fixed name: recreating the
// stack then fails on the name still being taken.
func retainedNamed(all appTemplates) []string {
	var problems []string
	for _, n := range all.namedResources() {
		if isStatefulStack(all, n.ref.stack) {
			continue
		}
		r := all.resource(n.ref)
		for _, policy := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			if v, _ := r[policy].(string); v == "Retain" || v == "RetainExceptOnCreate" || v == "Snapshot" {
				errorf(&problems, "%s (%s) is kept on deletion (%s %s) and named %s=%q: a stateless stack cannot be destroyed and deployed again",
					n.ref, n.typ, policy, v, n.key, n.name)
			}
		}
	}
	return problems
}

func TestStatelessStacksRetainNothingNamed(t *testing.T) {
	wantNoProblems(t, retainedNamed)
}

func TestRetainedNamedFindsANamedRetainedResource(t *testing.T) {
	all := appTemplates{
		"p-dev-orchestration": {"Resources": map[string]any{
			"Named":    map[string]any{"Type": "AWS::Glue::SecurityConfiguration", "DeletionPolicy": "Retain", "Properties": map[string]any{"Name": "x-security"}},
			"Unnamed":  map[string]any{"Type": "AWS::Logs::LogStream", "DeletionPolicy": "Retain", "Properties": map[string]any{"LogGroupName": map[string]any{"Ref": "Named"}}},
			"Replaced": map[string]any{"Type": "AWS::Events::Rule", "UpdateReplacePolicy": "Retain", "Properties": map[string]any{"Name": "r"}},
		}},
		"p-dev-storage": {"Resources": map[string]any{
			"Bucket": map[string]any{"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": map[string]any{"BucketName": "b"}},
		}},
	}
	got := retainedNamed(all)
	if len(got) != 2 {
		t.Fatalf("want the security configuration and the rule, got:\n%s", describeProblems(got))
	}
}

// delivery is one way an AWS service hands something to a resource of
// the pipeline: an alarm action, a rule target, a dead-letter queue, a
// bucket or topic notification. Either a service principal delivers
// (then the target's resource policy and its key policy must allow it),
// or the source's role does (Lambda destinations: its role must allow it).
type delivery struct {
	what      string
	source    resourceRef
	service   string      // the delivering service principal, or ""
	role      resourceRef // the delivering role when service is ""
	target    any         // the target as the template writes it
	targetIn  string      // the stack that writes it
	sourceArn string      // the source's ARN, ${…} for pseudo parameters
}

// deliveries finds every delivery in every template.
func (all appTemplates) deliveries() []delivery {
	var out []delivery
	all.eachResource(func(stack, id string, r map[string]any) {
		p, _ := r["Properties"].(map[string]any)
		src := resourceRef{stack, id}
		add := func(what, service string, target any, arn string) {
			out = append(out, delivery{what: what, source: src, service: service, target: target, targetIn: stack, sourceArn: arn})
		}
		switch r["Type"] {
		case "AWS::CloudWatch::Alarm":
			arn := "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:" + id
			for _, key := range []string{"AlarmActions", "OKActions", "InsufficientDataActions"} {
				for _, a := range list(p[key]) {
					add(key, "cloudwatch.amazonaws.com", a, arn)
				}
			}
		case "AWS::Events::Rule":
			arn := "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/" + id
			for _, tg := range list(p["Targets"]) {
				tg := tg.(map[string]any)
				// A target with a role is called with that role's
				// permissions, not the service principal's.
				if tg["RoleArn"] == nil {
					add("rule target", "events.amazonaws.com", tg["Arn"], arn)
				}
				if dl, ok := tg["DeadLetterConfig"].(map[string]any); ok {
					add("rule dead-letter queue", "events.amazonaws.com", dl["Arn"], arn)
				}
			}
		case "AWS::S3::Bucket":
			nc, _ := p["NotificationConfiguration"].(map[string]any)
			// A bucket's ARN is its name's: the policy of a queue the bucket
			// waits for cannot refer to the bucket itself.
			name := id
			if p["BucketName"] != nil {
				name = render(p["BucketName"])
			}
			for key, field := range map[string]string{"QueueConfigurations": "Queue", "TopicConfigurations": "Topic", "LambdaConfigurations": "Function"} {
				for _, c := range list(nc[key]) {
					add("bucket notification", "s3.amazonaws.com", c.(map[string]any)[field], "arn:${AWS::Partition}:s3:::"+name)
				}
			}
		case "AWS::SNS::Subscription":
			if proto := p["Protocol"]; proto == "sqs" || proto == "lambda" {
				add("topic subscription", "sns.amazonaws.com", p["Endpoint"], "")
			}
		case "AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig":
			dc, _ := p["DestinationConfig"].(map[string]any)
			fn, _ := all.resolve(stack, p["FunctionName"])
			fnProps, _ := all.resource(fn)["Properties"].(map[string]any)
			role, _ := all.resolve(fn.stack, fnProps["Role"])
			for _, key := range []string{"OnFailure", "OnSuccess"} {
				if d, ok := dc[key].(map[string]any); ok {
					out = append(out, delivery{what: "Lambda destination " + key, source: src, role: role, target: d["Destination"], targetIn: stack})
				}
			}
		}
	})
	return out
}

// deliveryProblems checks that each delivery's target lets it in.
func deliveryProblems(all appTemplates) []string {
	var problems []string
	for _, d := range all.deliveries() {
		who := d.service
		if who == "" {
			who = "role " + d.role.String()
		}
		prefix := fmt.Sprintf("%s %s → %s", d.source, d.what, render(d.target))
		target, ok := all.resolve(d.targetIn, d.target)
		if !ok {
			errorf(&problems, "%s: the target is not a resource of the app, so its policies cannot be checked", prefix)
			continue
		}
		prefix = fmt.Sprintf("%s %s → %s", d.source, d.what, target)
		typ, _ := all.resource(target)["Type"].(string)
		action, ok := deliveryActions[typ]
		if !ok {
			errorf(&problems, "%s: no rule for delivering to a %s", prefix, typ)
			continue
		}
		if d.service == "" {
			if !all.roleAllows(d.role, action, target) {
				errorf(&problems, "%s: %s may not %s it", prefix, who, action)
			}
			continue
		}
		if !all.resourcePolicyAllows(target, typ, d, action) {
			errorf(&problems, "%s: the %s's resource policy does not allow %s to %s it", prefix, typ, who, action)
		}
		if key, encrypted := all.targetKey(target, typ); encrypted {
			if key == nil {
				errorf(&problems, "%s: the %s is encrypted with a key whose policy the app does not own", prefix, typ)
			} else if !all.keyAllows(*key, d) {
				errorf(&problems, "%s: key %s does not let %s use it (kms:GenerateDataKey*, kms:Decrypt)", prefix, key, who)
			}
		}
	}
	return problems
}

// deliveryActions is what delivering to each kind of target calls.
var deliveryActions = map[string]string{
	"AWS::SNS::Topic":                  "sns:Publish",
	"AWS::SQS::Queue":                  "sqs:SendMessage",
	"AWS::Lambda::Function":            "lambda:InvokeFunction",
	"AWS::Lambda::Alias":               "lambda:InvokeFunction",
	"AWS::Events::EventBus":            "events:PutEvents",
	"AWS::Logs::LogGroup":              "logs:PutLogEvents",
	"AWS::Kinesis::Stream":             "kinesis:PutRecord",
	"AWS::StepFunctions::StateMachine": "states:StartExecution",
}

// resourcePolicyAllows looks for an Allow of the service on the target in
// the target's resource policies, with any source condition matching the
// delivery's source.
func (all appTemplates) resourcePolicyAllows(target resourceRef, typ string, d delivery, action string) bool {
	// A policy may live in another stack than its target (the CDK puts a
	// rule's Lambda permission beside the rule).
	for _, stack := range all.sortedStacks() {
		for _, r := range all.resourcesIn(stack) {
			p, _ := r["Properties"].(map[string]any)
			var doc any
			switch {
			case typ == "AWS::SNS::Topic" && r["Type"] == "AWS::SNS::TopicPolicy" && all.refersTo(stack, p["Topics"], target):
				doc = p["PolicyDocument"]
			case typ == "AWS::SQS::Queue" && r["Type"] == "AWS::SQS::QueuePolicy" && all.refersTo(stack, p["Queues"], target):
				doc = p["PolicyDocument"]
			case strings.HasPrefix(typ, "AWS::Lambda::") && r["Type"] == "AWS::Lambda::Permission" && all.refersTo(stack, p["FunctionName"], target):
				if p["Principal"] == d.service && p["Action"] == action && all.sourceMatches(stack, p["SourceArn"], d) {
					return true
				}
			}
			for _, st := range statements(doc) {
				if allowsAction(st, action) && namesService(st, d.service) && all.conditionsMatch(stack, st, d) {
					return true
				}
			}
		}
	}
	return false
}

// refersTo reports whether v (one reference or a list) names target.
func (all appTemplates) refersTo(stack string, v any, target resourceRef) bool {
	for _, x := range list(v) {
		if ref, ok := all.resolve(stack, x); ok && ref == target {
			return true
		}
	}
	return false
}

// conditionsMatch evaluates the source conditions a statement may carry:
// aws:SourceArn must name the delivery's source (by reference or by a
// pattern matching its ARN) and aws:SourceAccount the account.
func (all appTemplates) conditionsMatch(stack string, st map[string]any, d delivery) bool {
	cond, _ := st["Condition"].(map[string]any)
	for op, kv := range cond {
		for key, v := range kv.(map[string]any) {
			switch strings.ToLower(key) {
			case "aws:sourcearn":
				for _, x := range list(v) {
					if !all.sourceMatches(stack, x, d) {
						return false
					}
				}
			case "aws:sourceaccount":
				if render(v) != "${AWS::AccountId}" {
					return false
				}
			default:
				if strings.HasPrefix(strings.ToLower(key), "kms:") || op == "Bool" {
					continue
				}
				return false
			}
		}
	}
	return true
}

func (all appTemplates) sourceMatches(stack string, v any, d delivery) bool {
	if v == nil {
		return true
	}
	if ref, ok := all.resolve(stack, v); ok {
		return ref == d.source
	}
	return d.sourceArn != "" && globMatch(render(v), d.sourceArn)
}

// targetKey is the customer managed key that encrypts the target, if any.
// encrypted without a key means an AWS managed key (or one from outside
// the app), whose policy cannot let a service in.
func (all appTemplates) targetKey(target resourceRef, typ string) (key *resourceRef, encrypted bool) {
	p, _ := all.resource(target)["Properties"].(map[string]any)
	v, ok := p["KmsMasterKeyId"]
	if !ok || (typ != "AWS::SNS::Topic" && typ != "AWS::SQS::Queue") {
		return nil, false
	}
	if ref, ok := all.resolve(target.stack, v); ok && all.resource(ref)["Type"] == "AWS::KMS::Key" {
		return &ref, true
	}
	return nil, true
}

// keyAllows reports whether the key policy lets the service use the key
// to deliver an encrypted message.
func (all appTemplates) keyAllows(key resourceRef, d delivery) bool {
	p, _ := all.resource(key)["Properties"].(map[string]any)
	need := map[string]bool{"kms:GenerateDataKey": false, "kms:Decrypt": false}
	for _, st := range statements(p["KeyPolicy"]) {
		if !namesService(st, d.service) || !all.conditionsMatch(key.stack, st, d) {
			continue
		}
		for action := range need {
			if allowsAction(st, action) {
				need[action] = true
			}
		}
	}
	return need["kms:GenerateDataKey"] && need["kms:Decrypt"]
}

// roleAllows reports whether one of the role's policies allows action on
// the target.
func (all appTemplates) roleAllows(role resourceRef, action string, target resourceRef) bool {
	for _, r := range all.resourcesIn(role.stack) {
		p, _ := r["Properties"].(map[string]any)
		if r["Type"] != "AWS::IAM::Policy" || !all.refersTo(role.stack, p["Roles"], role) {
			continue
		}
		for _, st := range statements(p["PolicyDocument"]) {
			if allowsAction(st, action) && all.refersTo(role.stack, st["Resource"], target) {
				return true
			}
		}
	}
	return false
}

func TestEveryDeliveryIsAllowedByItsTarget(t *testing.T) {
	for name, all := range variants(t) {
		if len(all.deliveries()) == 0 {
			t.Fatalf("%s pipeline: no deliveries found; the test would prove nothing", name)
		}
	}
	wantNoProblems(t, deliveryProblems)
}

// The check must catch each way a delivery is refused.
func TestDeliveryProblemsFindsRefusedDeliveries(t *testing.T) {
	topicPolicy := func(statements ...any) map[string]any {
		return map[string]any{"Type": "AWS::SNS::TopicPolicy", "Properties": map[string]any{
			"Topics": []any{map[string]any{"Ref": "Topic"}}, "PolicyDocument": map[string]any{"Statement": statements}}}
	}
	publish := func(service string, cond map[string]any) map[string]any {
		st := map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": service}, "Action": "sns:Publish", "Resource": map[string]any{"Ref": "Topic"}}
		if cond != nil {
			st["Condition"] = cond
		}
		return st
	}
	keyFor := func(service string) map[string]any {
		return map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{"KeyPolicy": map[string]any{"Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": service}, "Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*"},
		}}}}
	}
	alarm := map[string]any{"Type": "AWS::CloudWatch::Alarm", "Properties": map[string]any{"AlarmActions": []any{map[string]any{"Ref": "Topic"}}}}
	topic := map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}}}
	cases := map[string]struct {
		resources map[string]any
		problems  int
	}{
		"allowed": {map[string]any{"Alarm": alarm, "Topic": topic, "Key": keyFor("cloudwatch.amazonaws.com"),
			"Policy": topicPolicy(publish("cloudwatch.amazonaws.com", map[string]any{"ArnLike": map[string]any{"aws:SourceArn": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"}}))}, 0},
		"topic policy for another service": {map[string]any{"Alarm": alarm, "Topic": topic, "Key": keyFor("cloudwatch.amazonaws.com"),
			"Policy": topicPolicy(publish("events.amazonaws.com", nil))}, 1},
		"source condition for other sources": {map[string]any{"Alarm": alarm, "Topic": topic, "Key": keyFor("cloudwatch.amazonaws.com"),
			"Policy": topicPolicy(publish("cloudwatch.amazonaws.com", map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": "arn:aws:events:eu-west-1:1:rule/x"}}))}, 1},
		"key policy for another service": {map[string]any{"Alarm": alarm, "Topic": topic, "Key": keyFor("events.amazonaws.com"),
			"Policy": topicPolicy(publish("cloudwatch.amazonaws.com", nil))}, 1},
		"AWS managed key": {map[string]any{"Alarm": alarm, "Policy": topicPolicy(publish("cloudwatch.amazonaws.com", nil)),
			"Topic": map[string]any{"Type": "AWS::SNS::Topic", "Properties": map[string]any{"KmsMasterKeyId": "alias/aws/sns"}}}, 1},
		"rule target without permission": {map[string]any{"Fn": map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{}},
			"Rule": map[string]any{"Type": "AWS::Events::Rule", "Properties": map[string]any{"Targets": []any{map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{"Fn", "Arn"}}}}}}}, 1},
		"destination the role may not send to": {map[string]any{
			"Queue": map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{}},
			"Role":  map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{}},
			"Fn":    map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{"Role": map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}}},
			"Mapping": map[string]any{"Type": "AWS::Lambda::EventSourceMapping", "Properties": map[string]any{"FunctionName": map[string]any{"Ref": "Fn"},
				"DestinationConfig": map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}}}}}}, 1},
	}
	for name, c := range cases {
		got := deliveryProblems(appTemplates{"s": {"Resources": c.resources}})
		if len(got) != c.problems {
			t.Errorf("%s: want %d problems, got:\n%s", name, c.problems, describeProblems(got))
		}
	}
}

// glueLogFamilies are the log groups Glue writes per kind of run (the
// job's Command.Name, or "crawler"); a security configuration puts its
// name and the role's into the group name.
var glueLogFamilies = map[string][]string{
	"glueetl":       {"/aws-glue/jobs/output", "/aws-glue/jobs/error", "/aws-glue/jobs/logs-v2", "/aws-glue/jobs/SC-role/ROLE/output"},
	"gluestreaming": {"/aws-glue/jobs/output", "/aws-glue/jobs/error", "/aws-glue/jobs/logs-v2", "/aws-glue/jobs/SC-role/ROLE/output"},
	"pythonshell":   {"/aws-glue/python-jobs/output", "/aws-glue/python-jobs/error", "/aws-glue/python-jobs/SC-role/ROLE/output"},
	"crawler":       {"/aws-glue/crawlers", "/aws-glue/crawlers-role/ROLE-SC"},
}

var glueLogActions = []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"}

func logGroupArn(group string) string {
	return "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + group
}

// glueLogProblems checks that every Glue job and crawler may write and
// encrypt the log groups its kind of run writes, and that the key of its
// security configuration lets CloudWatch Logs encrypt those groups.
func glueLogProblems(all appTemplates) []string {
	var problems []string
	all.eachResource(func(stack, id string, r map[string]any) {
		p, _ := r["Properties"].(map[string]any)
		var kind string
		var security any
		switch r["Type"] {
		case "AWS::Glue::Job":
			cmd, _ := p["Command"].(map[string]any)
			kind, _ = cmd["Name"].(string)
			security = p["SecurityConfiguration"]
		case "AWS::Glue::Crawler":
			kind, security = "crawler", p["CrawlerSecurityConfiguration"]
		default:
			return
		}
		src := resourceRef{stack, id}
		groups, ok := glueLogFamilies[kind]
		if !ok {
			errorf(&problems, "%s: unknown kind of Glue run %q; add the log groups it writes to glueLogFamilies", src, kind)
			return
		}
		role, ok := all.resolve(stack, p["Role"])
		if !ok {
			errorf(&problems, "%s: role %s is not a role of the app", src, render(p["Role"]))
			return
		}
		for _, g := range groups {
			for _, action := range glueLogActions {
				arn := logGroupArn(g)
				if action == "logs:CreateLogStream" || action == "logs:PutLogEvents" {
					arn += ":log-stream:run"
				}
				if !all.roleAllowsArn(role, action, arn) {
					errorf(&problems, "%s (%s): role %s may not %s on %s", src, kind, role, action, g)
				}
			}
		}
		if security == nil {
			return
		}
		key, ok := all.cloudWatchKey(stack, security)
		if !ok {
			return
		}
		if key == nil {
			errorf(&problems, "%s: the security configuration's CloudWatch key is not a key of the app", src)
			return
		}
		for _, g := range groups {
			if !all.keyLetsLogsEncrypt(*key, logGroupArn(g)) {
				errorf(&problems, "%s (%s): key %s does not let CloudWatch Logs encrypt %s", src, kind, key, g)
			}
		}
	})
	return problems
}

// roleAllowsArn reports whether one of the role's policies allows action
// on a resource ARN given as text.
func (all appTemplates) roleAllowsArn(role resourceRef, action, arn string) bool {
	for _, r := range all.resourcesIn(role.stack) {
		p, _ := r["Properties"].(map[string]any)
		if r["Type"] != "AWS::IAM::Policy" || !all.refersTo(role.stack, p["Roles"], role) {
			continue
		}
		for _, st := range statements(p["PolicyDocument"]) {
			if !allowsAction(st, action) {
				continue
			}
			for _, res := range list(st["Resource"]) {
				if globMatch(render(res), arn) {
					return true
				}
			}
		}
	}
	return false
}

// cloudWatchKey finds the security configuration by its name and returns
// the key of its CloudWatch encryption; ok is false when it does not
// encrypt logs.
func (all appTemplates) cloudWatchKey(stack string, security any) (key *resourceRef, ok bool) {
	name := all.renderName(stack, security)
	for _, s := range all.sortedStacks() {
		for _, r := range all.resourcesIn(s) {
			p, _ := r["Properties"].(map[string]any)
			if r["Type"] != "AWS::Glue::SecurityConfiguration" || render(p["Name"]) != name {
				continue
			}
			enc, _ := p["EncryptionConfiguration"].(map[string]any)
			cw, _ := enc["CloudWatchEncryption"].(map[string]any)
			if cw["CloudWatchEncryptionMode"] != "SSE-KMS" {
				return nil, false
			}
			if ref, ok := all.resolve(s, cw["KmsKeyArn"]); ok {
				return &ref, true
			}
			return nil, true
		}
	}
	return nil, true
}

// keyLetsLogsEncrypt reports whether the key policy lets the regional
// CloudWatch Logs principal encrypt the log group.
func (all appTemplates) keyLetsLogsEncrypt(key resourceRef, groupArn string) bool {
	p, _ := all.resource(key)["Properties"].(map[string]any)
	for _, st := range statements(p["KeyPolicy"]) {
		if !namesService(st, "logs.${AWS::Region}.amazonaws.com") || !allowsAction(st, "kms:GenerateDataKey") || !allowsAction(st, "kms:Encrypt") {
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		like, _ := cond["ArnLike"].(map[string]any)
		patterns := list(like["kms:EncryptionContext:aws:logs:arn"])
		if len(cond) == 0 {
			return true
		}
		for _, pat := range patterns {
			if globMatch(render(pat), groupArn) {
				return true
			}
		}
	}
	return false
}

func TestEveryGlueRunMayWriteAndEncryptItsLogs(t *testing.T) {
	wantNoProblems(t, glueLogProblems)
}

func TestGlueLogProblemsFindsAJobThatCannotLog(t *testing.T) {
	policy := func(group string) map[string]any {
		return map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
			"Roles": []any{map[string]any{"Ref": "Role"}},
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{"Effect": "Allow", "Action": []any{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"},
				"Resource": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:" + group}}}}}
	}
	key := func(pattern string) map[string]any {
		return map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{"KeyPolicy": map[string]any{"Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "logs.${AWS::Region}.amazonaws.com"}, "Action": []any{"kms:Encrypt*", "kms:GenerateDataKey*"},
			"Condition": map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": logGroupArn(pattern)}}}}}}}
	}
	job := map[string]any{"Type": "AWS::Glue::Job", "Properties": map[string]any{
		"Command": map[string]any{"Name": "pythonshell"}, "Role": map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}, "SecurityConfiguration": "sc"}}
	security := map[string]any{"Type": "AWS::Glue::SecurityConfiguration", "Properties": map[string]any{"Name": "sc",
		"EncryptionConfiguration": map[string]any{"CloudWatchEncryption": map[string]any{"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": map[string]any{"Fn::GetAtt": []any{"Key", "Arn"}}}}}}
	role := map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{}}
	for name, c := range map[string]struct {
		policy, key string
		problems    int
	}{
		"covered":                {"/aws-glue/python-jobs*", "/aws-glue/*", 0},
		"role covers Spark only": {"/aws-glue/jobs*", "/aws-glue/*", 3 * len(glueLogActions)},
		"key covers Spark only":  {"/aws-glue/python-jobs*", "/aws-glue/jobs*", 3},
	} {
		all := appTemplates{"s": {"Resources": map[string]any{"Job": job, "Role": role, "Policy": policy(c.policy), "Key": key(c.key), "Security": security}}}
		if got := glueLogProblems(all); len(got) != c.problems {
			t.Errorf("%s: want %d problems, got:\n%s", name, c.problems, describeProblems(got))
		}
	}
}

// sharedNames lists the explicit physical names two pipelines both use for
// a resource of the same type: deployed to one account and region, the
// second would fail on them (or, worse, take over the first's resource).
// Environment-agnostic templates render the account and region as the
// same pseudo parameters in both, which is what one account and region
// means here.
func sharedNames(a, b appTemplates) []string {
	seen := map[string]namedResource{}
	for _, n := range a.namedResources() {
		seen[n.typ+" "+n.name] = n
	}
	var problems []string
	for _, n := range b.namedResources() {
		if first, ok := seen[n.typ+" "+n.name]; ok {
			errorf(&problems, "%s %q: %s and %s", n.typ, n.name, first.ref, n.ref)
		}
	}
	return problems
}

func TestTwoStagesShareNoPhysicalName(t *testing.T) {
	dev := templatesOf(t, variant(t, "everything"))
	prodContext := map[string]any{"stage": "prod"}
	for k, v := range everythingOn {
		prodContext[k] = v
	}
	prod := templatesOf(t, newPipeline(t, prodContext))
	if len(dev.namedResources()) < 20 {
		t.Fatalf("only %d named resources found; the test would prove little", len(dev.namedResources()))
	}
	if problems := sharedNames(dev, prod); len(problems) > 0 {
		t.Errorf("stages dev and prod collide in one account and region:\n%s", describeProblems(problems))
	}
}

func TestSharedNamesFindsACollision(t *testing.T) {
	stage := func(stack, queue string) appTemplates {
		return appTemplates{stack: {"Resources": map[string]any{
			"Bucket": map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{
				"BucketName": map[string]any{"Fn::Join": []any{"-", []any{"landing", map[string]any{"Ref": "AWS::AccountId"}}}}}},
			"Queue": map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{"QueueName": queue}},
			"Db":    map[string]any{"Type": "AWS::Glue::Database", "Properties": map[string]any{"DatabaseInput": map[string]any{"Name": queue + "-db"}}},
			"Table": map[string]any{"Type": "AWS::Glue::Table", "Properties": map[string]any{"DatabaseName": map[string]any{"Ref": "Db"}, "TableInput": map[string]any{"Name": "orders"}}},
		}}}
	}
	got := sharedNames(stage("a-storage", "a"), stage("b-storage", "b"))
	if len(got) != 1 || !strings.Contains(got[0], "landing-${AWS::AccountId}") {
		t.Errorf("want only the bucket, got:\n%s", describeProblems(got))
	}
}

// crossStackReferences lists every reference from one template to
// another's outputs: producer stack, consumer stack and its kind.
func crossStackReferences(all appTemplates) (refs []struct{ producer, consumer, kind string }) {
	var walk func(consumer string, v any)
	walk = func(consumer string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if so, ok := x["Fn::GetStackOutput"].(map[string]any); ok {
				refs = append(refs, struct{ producer, consumer, kind string }{render(so["StackName"]), consumer, "weak"})
			}
			if name, ok := x["Fn::ImportValue"]; ok {
				producer, _, _ := strings.Cut(render(name), ":")
				refs = append(refs, struct{ producer, consumer, kind string }{producer, consumer, "strong"})
			}
			for _, k := range sortedKeys(x) {
				walk(consumer, x[k])
			}
		case []any:
			for _, e := range x {
				walk(consumer, e)
			}
		}
	}
	for _, stack := range all.sortedStacks() {
		walk(stack, all[stack]["Resources"])
		walk(stack, all[stack]["Outputs"])
	}
	return refs
}

// A weak reference to a stateful stack would let it be deleted under its
// consumers, and a changed value would not reach a consumer whose
// template text stayed the same.
func TestReferencesToStatefulStacksAreStrong(t *testing.T) {
	for name, all := range variants(t) {
		strong := 0
		for _, r := range crossStackReferences(all) {
			switch {
			case isStatefulStack(all, r.producer) && r.kind == "weak":
				t.Errorf("%s pipeline: %s refers to the stateful %s weakly (Fn::GetStackOutput)", name, r.consumer, r.producer)
			case !isStatefulStack(all, r.producer) && r.kind == "strong":
				t.Errorf("%s pipeline: %s refers to the stateless %s strongly, which would stop %s from being destroyed on its own", name, r.consumer, r.producer, r.producer)
			case r.kind == "strong":
				strong++
			}
		}
		if strong == 0 {
			t.Errorf("%s pipeline: no strong reference found; the test would prove nothing", name)
		}
	}
}

// glueProvidedSDK is the boto3 and botocore each kind of Glue job gets
// unless it installs others: AWS Glue docs, "Python modules already
// provided in AWS Glue" (5.0) and "Supported libraries for Python shell
// jobs" (3.9, library set analytics).
var glueProvidedSDK = map[string][2]string{
	"glueetl 5.0":     {"1.34.131", "1.34.131"},
	"pythonshell 3.9": {"1.21.21", "1.24.21"},
}

// requirementPins reads the exact pins of requirements.txt.
func requirementPins(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if name, version, ok := strings.Cut(strings.TrimSpace(line), "=="); ok && !strings.HasPrefix(line, "#") {
			pins[strings.ToLower(name)] = version
		}
	}
	return pins
}

// glueSDKProblems checks that every Glue job runs the boto3 and botocore
// the Glue-script tests run.
func glueSDKProblems(all appTemplates, pins map[string]string) []string {
	var problems []string
	all.eachResource(func(stack, id string, r map[string]any) {
		if r["Type"] != "AWS::Glue::Job" {
			return
		}
		p, _ := r["Properties"].(map[string]any)
		cmd, _ := p["Command"].(map[string]any)
		kind := render(cmd["Name"]) + " " + render(p["GlueVersion"])
		if cmd["Name"] == "pythonshell" {
			kind = "pythonshell " + render(cmd["PythonVersion"])
		}
		provided, ok := glueProvidedSDK[kind]
		if !ok {
			errorf(&problems, "%s/%s: no record of the SDK a %s job gets; add it to glueProvidedSDK from the AWS Glue docs", stack, id, kind)
			return
		}
		got := map[string]string{"boto3": provided[0], "botocore": provided[1]}
		args, _ := p["DefaultArguments"].(map[string]any)
		if mods, ok := args["--additional-python-modules"].(string); ok {
			for _, m := range strings.Split(mods, ",") {
				if name, version, ok := strings.Cut(strings.TrimSpace(m), "=="); ok {
					got[strings.ToLower(name)] = version
				}
			}
		}
		for _, lib := range []string{"boto3", "botocore"} {
			if got[lib] != pins[lib] {
				errorf(&problems, "%s/%s (%s) runs %s %s, the Glue-script tests %s (requirements.txt)", stack, id, kind, lib, got[lib], pins[lib])
			}
		}
	})
	return problems
}

func TestEveryGlueJobRunsTheSDKTheScriptTestsRun(t *testing.T) {
	pins := requirementPins(t)
	if pins["boto3"] == "" || pins["botocore"] == "" {
		t.Fatalf("requirements.txt pins no boto3/botocore: %v", pins)
	}
	wantNoProblems(t, func(all appTemplates) []string { return glueSDKProblems(all, pins) })
	// A Python shell job without the modules gets 1.21.21, and is caught.
	shell := appTemplates{"s": {"Resources": map[string]any{"Job": map[string]any{"Type": "AWS::Glue::Job", "Properties": map[string]any{
		"Command": map[string]any{"Name": "pythonshell", "PythonVersion": "3.9"}, "DefaultArguments": map[string]any{}}}}}}
	if got := glueSDKProblems(shell, pins); len(got) != 2 {
		t.Errorf("a Python shell job with the provided SDK: %v", got)
	}
}
