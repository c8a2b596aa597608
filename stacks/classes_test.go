package stacks

import (
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
	for name, all := range variants(t) {
		if problems := retainedNamed(all); len(problems) > 0 {
			t.Errorf("%s pipeline:\n%s", name, describeProblems(problems))
		}
	}
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
