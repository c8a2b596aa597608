"""The synthesized app in cdk.out, read as CloudFormation would deploy it.

Every name, setting and wiring the rehearsal uses comes from here: nothing
is retyped from the Go stacks. Intrinsic functions are resolved against a
fixed local account and region; a resource without a name property gets a
deterministic local name, so two loads of the same cdk.out agree.

Values that only exist once a local server created the resource (a DynamoDB
stream ARN carries a creation-time label, a secret ARN a random suffix) are
bound with `Templates.bind`, after which every reference resolves to them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PSEUDO_PARTITION = "aws"
PSEUDO_URL_SUFFIX = "amazonaws.com"

# Ref of these resource types returns the value of this name property.
_NAME_PROPERTY: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::Kinesis::Stream": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Glue::Crawler": "Name",
    "AWS::Glue::Job": "Name",
    "AWS::Glue::Workflow": "Name",
    "AWS::Glue::Trigger": "Name",
    "AWS::Glue::SecurityConfiguration": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::KinesisFirehose::DeliveryStream": "DeliveryStreamName",
    "AWS::Athena::WorkGroup": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RedshiftServerless::Workgroup": "WorkgroupName",
    "AWS::RedshiftServerless::Namespace": "NamespaceName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


class ResolveError(ValueError):
    pass


def _local_name(stack_name: str, logical_id: str, max_len: int = 63) -> str:
    """A deterministic name for an unnamed resource, valid as an S3 bucket,
    DynamoDB table, queue or topic name."""
    name = re.sub(r"[^a-z0-9-]", "-", f"{stack_name}-{logical_id}".lower())
    return name[:max_len].strip("-")


class Templates:
    """The synthesized app in cdk.out, with intrinsics resolved to the rehearsal's local names."""

    def __init__(self, cdk_out: Path, account: str, region: str, stacks: dict[str, dict], stack_names: dict[str, str], assets: dict[str, Path]):
        self.cdk_out = Path(cdk_out)
        self.account = account
        self.region = region
        self._stacks = stacks  # suffix -> template
        self._stack_names = stack_names  # suffix -> CloudFormation stack name
        self._assets = assets  # object key -> path in cdk.out
        self._bound: dict[tuple[str, str, str], Any] = {}

    # ---- loading ---------------------------------------------------------
    @classmethod
    def load(cls, cdk_out: Path, account: str = "000000000000", region: str = "eu-west-1") -> "Templates":
        cdk_out = Path(cdk_out)
        manifest_path = cdk_out / "manifest.json"
        if not manifest_path.exists():
            raise FileNotFoundError(f"{manifest_path} not found: run `make synth` first")
        manifest = json.loads(manifest_path.read_text())
        stacks: dict[str, dict] = {}
        names: dict[str, str] = {}
        assets: dict[str, Path] = {}
        for artifact in manifest["artifacts"].values():
            if artifact.get("type") == "aws:cloudformation:stack":
                props = artifact["properties"]
                stack_name = props.get("stackName") or artifact.get("displayName")
                suffix = stack_name.rsplit("-", 1)[-1].lower()
                stacks[suffix] = json.loads((cdk_out / props["templateFile"]).read_text())
                names[suffix] = stack_name
            elif artifact.get("type") == "cdk:asset-manifest":
                am = json.loads((cdk_out / artifact["properties"]["file"]).read_text())
                for entry in am.get("files", {}).values():
                    for dest in entry.get("destinations", {}).values():
                        assets[dest["objectKey"]] = cdk_out / entry["source"]["path"]
        if not stacks:
            raise ValueError(f"no stacks in {manifest_path}")
        return cls(cdk_out, account, region, stacks, names, assets)

    # ---- raw access ------------------------------------------------------
    @property
    def suffixes(self) -> list[str]:
        return sorted(self._stacks)

    def stack(self, suffix: str) -> dict:
        try:
            return self._stacks[suffix]
        except KeyError:
            raise KeyError(f"no stack {suffix!r} in {self.cdk_out} (have {', '.join(self.suffixes)})") from None

    def stack_name(self, suffix: str) -> str:
        self.stack(suffix)
        return self._stack_names[suffix]

    def resources(self, suffix: str, type_: str) -> dict[str, dict]:
        return {lid: r for lid, r in self.stack(suffix).get("Resources", {}).items() if r.get("Type") == type_}

    def resource(self, suffix: str, logical_id: str) -> dict:
        try:
            return self.stack(suffix)["Resources"][logical_id]
        except KeyError:
            raise KeyError(f"no resource {logical_id!r} in stack {suffix!r}") from None

    def one(self, suffix: str, type_: str, where=None) -> tuple[str, dict]:
        """The one resource of a type (optionally passing `where(resource)`); error if not exactly one."""
        found = [(lid, r) for lid, r in self.resources(suffix, type_).items() if where is None or where(r)]
        if len(found) != 1:
            raise LookupError(f"expected one {type_} in {suffix}, found {[lid for lid, _ in found]}")
        return found[0]

    def find_by_name(self, suffix: str, type_: str, name: str) -> tuple[str, dict]:
        """The resource of a type whose resolved name (Ref value for named types) is `name`."""
        for lid, r in self.resources(suffix, type_).items():
            if self.name_of(suffix, lid) == name:
                return lid, r
        raise LookupError(f"no {type_} named {name!r} in {suffix}")

    def bind(self, suffix: str, logical_id: str, attr: str, value: Any) -> None:
        """Fix the value of GetAtt (or attr="Ref") for a resource, once a local server created it."""
        self._bound[(suffix, logical_id, attr)] = value

    def asset_path(self, s3_uri_or_key: str) -> Path:
        key = s3_uri_or_key
        if key.startswith("s3://"):
            key = key[5:].split("/", 1)[1]
        key = key.lstrip("/")
        if key not in self._assets:
            # asset object keys carry the hash; accept just the file name too
            base = key.rsplit("/", 1)[-1]
            if base not in self._assets:
                raise KeyError(f"no asset with object key {key!r} in {self.cdk_out}")
            key = base
        return self._assets[key]

    # ---- names and attributes -------------------------------------------
    def name_of(self, suffix: str, logical_id: str) -> str:
        """The physical name of a resource: its name property resolved, else a local name."""
        r = self.resource(suffix, logical_id)
        t, props = r["Type"], r.get("Properties", {})
        if t == "AWS::Glue::Database":
            v = props.get("DatabaseInput", {}).get("Name")
        elif t == "AWS::Glue::Table":
            v = props.get("TableInput", {}).get("Name")
        else:
            p = _NAME_PROPERTY.get(t)
            v = props.get(p) if p else None
        if v is not None:
            return str(self.resolve(suffix, v))
        if t == "AWS::SQS::Queue" and props.get("FifoQueue"):
            return _local_name(self._stack_names[suffix], logical_id, 75) + ".fifo"
        if t == "AWS::KMS::Key":
            # a key id is a UUID; make a deterministic one
            import uuid

            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self._stack_names[suffix]}/{logical_id}"))
        return _local_name(self._stack_names[suffix], logical_id)

    def _arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return f"arn:{PSEUDO_PARTITION}:{service}:{self.region if region else ''}:{self.account if account else ''}:{resource}"

    def _ref(self, suffix: str, logical_id: str) -> Any:
        if (suffix, logical_id, "Ref") in self._bound:
            return self._bound[(suffix, logical_id, "Ref")]
        t = self.resource(suffix, logical_id)["Type"]
        name = self.name_of(suffix, logical_id)
        if t == "AWS::SNS::Topic":
            return self._arn("sns", name)
        if t == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.{PSEUDO_URL_SUFFIX}/{self.account}/{name}"
        if t == "AWS::SecretsManager::Secret":
            return self._get_att(suffix, logical_id, "Arn")
        return name

    def _get_att(self, suffix: str, logical_id: str, attr: str) -> Any:
        if (suffix, logical_id, attr) in self._bound:
            return self._bound[(suffix, logical_id, attr)]
        t = self.resource(suffix, logical_id)["Type"]
        name = self.name_of(suffix, logical_id)
        a = self._arn
        arns = {
            "AWS::S3::Bucket": lambda: f"arn:{PSEUDO_PARTITION}:s3:::{name}",
            "AWS::Kinesis::Stream": lambda: a("kinesis", f"stream/{name}"),
            "AWS::DynamoDB::Table": lambda: a("dynamodb", f"table/{name}"),
            "AWS::Lambda::Function": lambda: a("lambda", f"function:{name}"),
            "AWS::IAM::Role": lambda: a("iam", f"role/{name}", region=False),
            "AWS::KMS::Key": lambda: a("kms", f"key/{name}"),
            "AWS::SNS::Topic": lambda: a("sns", name),
            "AWS::SQS::Queue": lambda: a("sqs", name),
            "AWS::Events::Rule": lambda: a("events", f"rule/{name}"),
            "AWS::KinesisFirehose::DeliveryStream": lambda: a("firehose", f"deliverystream/{name}"),
            "AWS::Logs::LogGroup": lambda: a("logs", f"log-group:{name}:*"),
            "AWS::SecretsManager::Secret": lambda: a("secretsmanager", f"secret:{name}-AbCdEf"),
            "AWS::Glue::Workflow": lambda: a("glue", f"workflow/{name}"),
            "AWS::Glue::Job": lambda: a("glue", f"job/{name}"),
            "AWS::Glue::Crawler": lambda: a("glue", f"crawler/{name}"),
            "AWS::Athena::WorkGroup": lambda: a("athena", f"workgroup/{name}"),
            "AWS::RedshiftServerless::Workgroup": lambda: a("redshift-serverless", f"workgroup/{name}"),
            "AWS::RedshiftServerless::Namespace": lambda: a("redshift-serverless", f"namespace/{name}"),
            "AWS::Lambda::LayerVersion": lambda: a("lambda", f"layer:{name}:1"),
        }
        if attr == "Arn" and t in arns:
            return arns[t]()
        if t == "AWS::DynamoDB::Table" and attr == "StreamArn":
            return a("dynamodb", f"table/{name}/stream/1970-01-01T00:00:00.000")
        if t == "AWS::SNS::Topic" and attr == "TopicArn":
            return a("sns", name)
        if t == "AWS::SNS::Topic" and attr == "TopicName":
            return name
        if t == "AWS::SQS::Queue" and attr == "QueueUrl":
            return self._ref(suffix, logical_id)
        if t == "AWS::SQS::Queue" and attr == "QueueName":
            return name
        if t == "AWS::IAM::Role" and attr == "RoleId":
            return "AROA" + re.sub(r"[^A-Z0-9]", "", name.upper())[:16]
        if t == "AWS::KMS::Key" and attr == "KeyId":
            return name
        if t == "AWS::S3::Bucket":
            if attr == "DomainName":
                return f"{name}.s3.{PSEUDO_URL_SUFFIX}"
            if attr == "RegionalDomainName":
                return f"{name}.s3.{self.region}.{PSEUDO_URL_SUFFIX}"
        if t.startswith("AWS::RedshiftServerless::") and "." in attr:
            # e.g. Workgroup.WorkgroupName, Namespace.NamespaceName
            return name
        if t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource":
            return f"{name}-{attr}"
        if attr == "Arn":
            # e.g. AWS::CloudWatch::Alarm: a well-formed ARN nobody calls
            service, kind = t.split("::")[1].lower(), t.split("::")[2].lower()
            return a(service, f"{kind}/{name}")
        if attr.endswith("Id"):
            # e.g. AWS::EC2::SecurityGroup.GroupId
            return name
        raise ResolveError(f"Fn::GetAtt {logical_id}.{attr} ({t}) in {suffix}: no local value")

    # ---- intrinsics ------------------------------------------------------
    def _pseudo(self, suffix: str, name: str) -> Any:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": PSEUDO_PARTITION,
            "AWS::URLSuffix": PSEUDO_URL_SUFFIX,
            "AWS::StackName": self._stack_names[suffix],
            "AWS::StackId": self._arn("cloudformation", f"stack/{self._stack_names[suffix]}/00000000-0000-0000-0000-000000000000"),
            "AWS::NotificationARNs": [],
        }[name]

    def _ref_any(self, suffix: str, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(suffix, name)
        tpl = self.stack(suffix)
        if name in tpl.get("Parameters", {}):
            p = tpl["Parameters"][name]
            if "Default" not in p:
                raise ResolveError(f"parameter {name} of {suffix} has no default")
            return p["Default"]
        if name in tpl.get("Resources", {}):
            return self._ref(suffix, name)
        raise ResolveError(f"Ref {name}: not a parameter or resource of {suffix}")

    def output(self, suffix: str, output_name: str) -> Any:
        outs = self.stack(suffix).get("Outputs", {})
        if output_name not in outs:
            raise ResolveError(f"stack {suffix} has no output {output_name}")
        return self.resolve(suffix, outs[output_name]["Value"])

    def _suffix_of_stack(self, stack_name: str) -> str:
        for s, n in self._stack_names.items():
            if n == stack_name:
                return s
        raise ResolveError(f"no stack named {stack_name} in {self.cdk_out}")

    def _import(self, export_name: str) -> Any:
        for s, tpl in self._stacks.items():
            for out in tpl.get("Outputs", {}).values():
                exp = out.get("Export", {}).get("Name")
                if exp is not None and self.resolve(s, exp) == export_name:
                    return self.resolve(s, out["Value"])
        raise ResolveError(f"Fn::ImportValue {export_name}: no stack exports it")

    def _sub(self, suffix: str, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(suffix, v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def repl(m: re.Match) -> str:
            expr = m.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            if expr in variables:
                return str(variables[expr])
            if "." in expr and not expr.startswith("AWS::"):
                lid, attr = expr.split(".", 1)
                return str(self._get_att(suffix, lid, attr))
            return str(self._ref_any(suffix, expr))

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def resolve(self, suffix: str, value: Any) -> Any:
        """Resolve every intrinsic in value, recursively (AWS::NoValue drops the key/element)."""
        out = self._resolve(suffix, value)
        return None if out is _NOVALUE else out

    def _resolve(self, suffix: str, v: Any) -> Any:
        if isinstance(v, list):
            return [x for x in (self._resolve(suffix, e) for e in v) if x is not _NOVALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, arg), = v.items()
            if k == "Ref":
                if arg == "AWS::NoValue":
                    return _NOVALUE
                return self._ref_any(suffix, arg)
            if k == "Fn::GetAtt":
                lid, attr = (arg.split(".", 1) if isinstance(arg, str) else (arg[0], self._resolve(suffix, arg[1])))
                return self._get_att(suffix, lid, attr)
            if k == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(x) for x in self._resolve(suffix, items))
            if k == "Fn::Sub":
                return self._sub(suffix, arg)
            if k == "Fn::Select":
                idx, items = self._resolve(suffix, arg[0]), self._resolve(suffix, arg[1])
                return items[int(idx)]
            if k == "Fn::Split":
                sep, text = arg[0], self._resolve(suffix, arg[1])
                return str(text).split(sep)
            if k == "Fn::GetAZs":
                return [f"{self.region}{z}" for z in "abc"]
            if k == "Fn::ImportValue":
                return self._import(self._resolve(suffix, arg))
            if k == "Fn::GetStackOutput":
                a = self._resolve(suffix, arg)
                return self.output(self._suffix_of_stack(a["StackName"]), a["OutputName"])
            if k == "Fn::Base64":
                import base64

                return base64.b64encode(str(self._resolve(suffix, arg)).encode()).decode()
            if k == "Fn::FindInMap":
                m, a, b = (self._resolve(suffix, x) for x in arg[:3])
                return self.stack(suffix)["Mappings"][m][a][b]
            if k == "Fn::If":
                cond, yes, no = arg
                return self._resolve(suffix, yes if self._condition(suffix, cond) else no)
            if k in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
                return self._eval_condition(suffix, v)
        return {k: x for k, x in ((k, self._resolve(suffix, e)) for k, e in v.items()) if x is not _NOVALUE}

    def _condition(self, suffix: str, name: str) -> bool:
        return bool(self._eval_condition(suffix, self.stack(suffix)["Conditions"][name]))

    def _eval_condition(self, suffix: str, c: Any) -> Any:
        if not isinstance(c, dict) or len(c) != 1:
            return self._resolve(suffix, c)
        (k, arg), = c.items()
        if k == "Fn::Equals":
            a, b = (self._eval_condition(suffix, x) for x in arg)
            return a == b
        if k == "Fn::And":
            return all(self._eval_condition(suffix, x) for x in arg)
        if k == "Fn::Or":
            return any(self._eval_condition(suffix, x) for x in arg)
        if k == "Fn::Not":
            return not self._eval_condition(suffix, arg[0])
        if k == "Condition":
            return self._condition(suffix, arg)
        if k == "Fn::Contains":
            return self._resolve(suffix, arg[1]) in self._resolve(suffix, arg[0])
        return self._resolve(suffix, c)

    def properties(self, suffix: str, logical_id: str) -> dict:
        """A resource's Properties, fully resolved."""
        return self.resolve(suffix, self.resource(suffix, logical_id).get("Properties", {}))


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NOVALUE = _NoValue()
