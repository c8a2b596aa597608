package guard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const root = "../.."

// The runner must report what the real rules find, resource by resource,
// or the pipeline test proves nothing.
func TestValidateReportsEachFailingResource(t *testing.T) {
	bin, err := Binary(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	template := filepath.Join(dir, "Fixture.template.json")
	// An unrotated key and a Lambda function outside any VPC fail; the
	// rotated key passes.
	writeFile(t, template, `{"Resources": {
	  "PlainKey": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": []}}},
	  "RotatedKey": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": true, "KeyPolicy": {"Version": "2012-10-17", "Statement": [
	    {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant", "Resource": "*",
	     "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}}}]}}},
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": "arn:aws:iam::123456789012:role/r", "Code": {"ZipFile": "x"}, "Handler": "index.handler", "Runtime": "nodejs22.x"}}
	}}`)
	findings, err := Validate(bin, Rules(root), []string{template})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range findings {
		got[f.Control+" "+f.LogicalID+" "+f.ResourceType] = true
		if f.Template != "Fixture" || !strings.Contains(f.Message, "[FIX]") {
			t.Errorf("finding lacks its template or fix: %+v", f)
		}
	}
	for _, want := range []string{
		"CT.KMS.PR.1 PlainKey AWS::KMS::Key",
		"CT.KMS.PR.3 PlainKey AWS::KMS::Key",
		"CT.LAMBDA.PR.3 Fn AWS::Lambda::Function",
	} {
		if !got[want] {
			t.Errorf("missing finding %q; got %v", want, findings)
		}
	}
	for g := range got {
		if strings.Contains(g, "RotatedKey") {
			t.Errorf("compliant key reported: %s", g)
		}
	}
}

func TestApplyCoversOnlyTheNamedResourceAndReportsStaleExemptions(t *testing.T) {
	findings := []Finding{
		{Template: "Warehouse", Control: "CT.LAMBDA.PR.3", LogicalID: "Fn", ResourceType: "AWS::Lambda::Function"},
		{Template: "Audit", Control: "CT.LAMBDA.PR.3", LogicalID: "Fn", ResourceType: "AWS::Lambda::Function"},
	}
	exemptions := []Exemption{
		{Control: "CT.LAMBDA.PR.3", Template: "Warehouse", ResourceType: "AWS::Lambda::Function", LogicalID: "Fn"},
		{Control: "CT.KMS.PR.1", Template: "Storage", ResourceType: "AWS::KMS::Key", LogicalID: "Key"},
	}
	open, stale := Apply(findings, exemptions)
	if len(open) != 1 || open[0].Template != "Audit" {
		t.Errorf("open = %v, want only the Audit function", open)
	}
	if len(stale) != 1 || stale[0].Control != "CT.KMS.PR.1" {
		t.Errorf("stale = %v, want the unused key exemption", stale)
	}
}

func TestLoadExemptionsRejectsVagueEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exemptions.json")
	writeFile(t, path, `{"exemptions": [
	  {"control": "CT.LAMBDA.PR.3", "template": "Warehouse", "resourceType": "AWS::Lambda::Function", "logicalId": "*", "reason": "because"}
	]}`)
	_, err := LoadExemptions(path)
	if err == nil || !strings.Contains(err.Error(), "wildcards") || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("vague exemption accepted: %v", err)
	}
	if _, err := LoadExemptions("exemptions.json"); err != nil {
		t.Fatalf("checked-in exemptions: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
