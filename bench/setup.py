"""Bench: `dogxray setup` (first run, no-op re-run) and `cleanup` vs the AWS CLI sequence.

Against a moto server on loopback, each as a subprocess (what a user runs):
  1. `dogxray --debug setup`: API calls (counted from the `[api]` debug lines), mutating
     calls, wall time; then a second `setup` (target: 0 mutating calls); then
     `cleanup --yes`.
  2. The same lab with the equivalent AWS CLI commands (create-bucket, put-bucket-tagging,
     create-role, put-role-policy, create-log-group, create-function with the same
     pre-built zip, wait function-active-v2, create-function-url-config, add-permission
     x2) and the ratio dogxray / AWS CLI wall time (target < 0.3).
The package is built (and cached) before timing; both sides deploy the same zip.
Run: .venv-test/bin/python bench/setup.py
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from common import aws_cli, dummy_env, moto_server, run_aws_cli  # noqa: E402

READ = ("Get", "List", "Describe", "Head")


def dogxray(endpoint: str, env: dict[str, str], *args: str) -> tuple[float, list[str], str]:
    """Run the CLI; returns wall time, the API operations it made, and stdout."""
    cmd = [sys.executable, "-m", "dogxray", "--endpoint-url", endpoint, "--debug", *args]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"dogxray {' '.join(args)} failed:\n{done.stderr}")
    ops = re.findall(r"\[api\] (\S+) -> ", done.stderr)  # lines may interleave (threads)
    return wall, ops, done.stdout


def mutating(ops: list[str]) -> list[str]:
    return [op for op in ops if not op.split(".", 1)[1].startswith(READ)]


def aws_cli_lab(endpoint: str, zip_path: Path, tmp: Path) -> tuple[float, int]:
    """The lab by hand with the AWS CLI; returns wall time and the number of commands."""
    from dogxray.lab import policies

    lab, bucket = "bench-cli", "bench-cli-bucket-123456789012"
    fn, role = f"{lab}-function", f"{lab}-function-role"
    trust, policy = tmp / "trust.json", tmp / "policy.json"
    trust.write_text(json.dumps(policies.TRUST_POLICY))
    policy.write_text(
        json.dumps(
            policies.least_privilege_policy(
                bucket=bucket,
                region="us-east-1",
                account="123456789012",
                log_group=f"/aws/lambda/{fn}",
            )
        )
    )
    role_arn = f"arn:aws:iam::123456789012:role/{role}"
    commands = [
        ["s3api", "create-bucket", "--bucket", bucket],
        [
            "s3api",
            "put-bucket-tagging",
            "--bucket",
            bucket,
            "--tagging",
            f"TagSet=[{{Key=dogxray:lab,Value={lab}}},{{Key=dogxray:created,Value=true}}]",
        ],
        [
            "iam",
            "create-role",
            "--role-name",
            role,
            "--assume-role-policy-document",
            f"file://{trust}",
            "--tags",
            f"Key=dogxray:lab,Value={lab}",
        ],
        [
            "iam",
            "put-role-policy",
            "--role-name",
            role,
            "--policy-name",
            f"{lab}-policy",
            "--policy-document",
            f"file://{policy}",
        ],
        [
            "logs",
            "create-log-group",
            "--log-group-name",
            f"/aws/lambda/{fn}",
            "--tags",
            f"dogxray:lab={lab}",
        ],
        [
            "lambda",
            "create-function",
            "--function-name",
            fn,
            "--runtime",
            "python3.13",
            "--handler",
            "lambda_function.lambda_handler",
            "--role",
            role_arn,
            "--zip-file",
            f"fileb://{zip_path}",
            "--timeout",
            "15",
            "--memory-size",
            "128",
            "--tracing-config",
            "Mode=Active",
            "--environment",
            f"Variables={{BUCKET_NAME={bucket}}}",
            "--tags",
            f"dogxray:lab={lab},dogxray:bucket={bucket}",
        ],
        ["lambda", "wait", "function-active-v2", "--function-name", fn],
        ["lambda", "create-function-url-config", "--function-name", fn, "--auth-type", "NONE"],
        [
            "lambda",
            "add-permission",
            "--function-name",
            fn,
            "--statement-id",
            "FunctionURLAllowPublicAccess",
            "--action",
            "lambda:InvokeFunctionUrl",
            "--principal",
            "*",
            "--function-url-auth-type",
            "NONE",
        ],
        [
            "lambda",
            "add-permission",
            "--function-name",
            fn,
            "--statement-id",
            "FunctionURLAllowInvokeAction",
            "--action",
            "lambda:InvokeFunction",
            "--principal",
            "*",
            "--invoked-via-function-url",
        ],
    ]
    start = time.perf_counter()
    for args in commands:
        run_aws_cli(args, endpoint)
    return time.perf_counter() - start, len(commands)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server request log
    env = dummy_env()
    aws_cli()  # install outside the timing
    with tempfile.TemporaryDirectory() as tmp_name, moto_server() as endpoint:
        tmp = Path(tmp_name)
        env = {**env, "DOGXRAY_CACHE_DIR": str(tmp / "cache"), "NO_COLOR": "1"}
        os.environ.update(env)
        from dogxray.packaging.build import build_package

        start = time.perf_counter()
        # a moto server is not dogxray's emulator: setup deploys the Lambda-platform
        # build; make it once here (pip, then cached) so the timings are the control plane
        package = build_package(from_env=False, cache_dir=tmp / "cache")
        build_s = time.perf_counter() - start
        zip_path = tmp / "function.zip"
        zip_path.write_bytes(package.zip_bytes)
        run_aws_cli(["iam", "list-policies", "--max-items", "1"], endpoint)  # warm moto IAM

        lab = ["--lab", "bench-dx"]
        bucket = ["--bucket", "bench-dx-bucket-123456789012"]
        first = dogxray(endpoint, env, *lab, "setup", *bucket)
        second = dogxray(endpoint, env, *lab, "setup")
        gone = dogxray(endpoint, env, *lab, "cleanup", "--yes")
        cli_wall, cli_cmds = aws_cli_lab(endpoint, zip_path, tmp)

    print(
        f"package build (Lambda platform, pip, then cached for both): {build_s:.2f} s, "
        f"{len(package.zip_bytes) / 1024:.0f} KiB"
    )
    for name, (wall, ops, _) in (
        ("first setup", first),
        ("second setup (no-op)", second),
        ("cleanup", gone),
    ):
        print(
            f"dogxray {name:<22} {wall:6.2f} s  {len(ops):3d} API calls, "
            f"{len(mutating(ops)):2d} mutating"
        )
    print(
        f"AWS CLI lab sequence           {cli_wall:6.2f} s  {cli_cmds:3d} commands "
        f"(>= {cli_cmds} API calls, {cli_cmds - 1} mutating)"
    )
    ratio = first[0] / cli_wall
    verdict = "meets" if ratio < 0.3 else "misses"
    print(f"ratio dogxray first setup / AWS CLI: {ratio:.2f} ({verdict} the < 0.3 target)")
    print(f"second setup mutating calls: {len(mutating(second[1]))} (target 0)")


if __name__ == "__main__":
    main()
