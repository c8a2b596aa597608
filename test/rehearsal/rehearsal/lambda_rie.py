"""The project's Go Lambdas, built for this machine and run under the Lambda
Runtime Interface Emulator (`.bin/aws-lambda-rie`, from `make tools`), invoked
over HTTP as the Lambda service would (internal/testserver/rie.go does the
same for the Go tests)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .servers import _stop, free_port


def go_build(repo: Path, pkg: str, out: Path, lambda_bootstrap: bool = True) -> Path:
    """go build for the host (the emulator runs the binary here, not on arm64)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["go", "build", "-trimpath"]
    if lambda_bootstrap:
        cmd += ["-tags", "lambda.norpc"]
    cmd += ["-o", str(out), "./" + pkg]
    r = subprocess.run(cmd, cwd=repo, env={**os.environ, "CGO_ENABLED": "0"}, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"go build ./{pkg} failed:\n{r.stderr}")
    return out


class FunctionError(RuntimeError):
    """The function returned an error (Lambda's X-Amz-Function-Error)."""


class Lambda:
    """One function from a template: its bootstrap under the emulator, with the
    template's environment variables (resolved) plus the local endpoints."""

    def __init__(self, env, suffix: str, logical_id: str, pkg: str):
        self.env, self.suffix, self.logical_id, self.pkg = env, suffix, logical_id, pkg
        props = env.templates.properties(suffix, logical_id)
        self.name = props.get("FunctionName") or env.templates.name_of(suffix, logical_id)
        self.timeout = int(props.get("Timeout", 3))
        self.memory = int(props.get("MemorySize", 128))
        self.variables: dict[str, str] = dict(props.get("Environment", {}).get("Variables", {}))
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.invocations = 0
        self._lock = threading.Lock()  # the emulator runs one invocation at a time
        self.log_path = env.work_dir / f"lambda-{self.name}.log"

    def start(self) -> "Lambda":
        rie = self.env.repo / ".bin" / "aws-lambda-rie"
        if not rie.exists():
            raise RuntimeError(f"{rie} missing: run `make tools`")
        bootstrap = go_build(self.env.repo, self.pkg, self.env.work_dir / "bin" / self.pkg.replace("/", "_") / "bootstrap")
        port, api_port = free_port(), free_port()
        child_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory),
            **self.env.aws_env(),
            **self.variables,
        }
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(rie), "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
             "--runtime-api-address", f"127.0.0.1:{api_port}", str(bootstrap)],
            env=child_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations"
        deadline = time.monotonic() + 30
        import socket

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator for {self.name} exited:\n{self.log_path.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"emulator for {self.name} did not listen on {port}")

    def invoke(self, event) -> dict | list | None:
        """Invoke synchronously; raises FunctionError when the function fails."""
        body = event if isinstance(event, (bytes, bytearray)) else json.dumps(event).encode()
        with self._lock:
            self.invocations += 1
            req = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout + 30) as resp:
                    out = resp.read()
                    ferr = resp.headers.get("X-Amz-Function-Error")
            except urllib.error.HTTPError as e:
                raise FunctionError(f"{self.name}: emulator answered {e.code}: {e.read()[:500]!r}") from None
        doc = json.loads(out) if out.strip() else None
        if ferr or (isinstance(doc, dict) and "errorType" in doc and "errorMessage" in doc and len(doc) <= 3):
            raise FunctionError(f"{self.name}: {doc}")
        return doc

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None
            self._log.close()

    def __enter__(self) -> "Lambda":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def function_by_package(env, suffix: str, pkg: str) -> str:
    """The logical id of the template's Lambda whose asset was built from `pkg`
    (gofunction bundles each package; the description names it otherwise)."""
    # gofunction puts one function per package; match by the construct path in metadata
    t = env.templates
    for lid, r in t.resources(suffix, "AWS::Lambda::Function").items():
        path = r.get("Metadata", {}).get("aws:cdk:path", "")
        leaf = pkg.rstrip("/").rsplit("/", 1)[-1]
        wanted = {"lambdas/transformer": "Transformer", "lambdas/runrotator": "RunRotator", "lambdas/auditscanner": "Scanner"}.get(pkg, leaf)
        if f"/{wanted}/" in path:
            return lid
    raise LookupError(f"no Lambda for {pkg} in {suffix}")
