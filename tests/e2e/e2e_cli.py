"""Helpers of the end-to-end tests: the real CLI in a subprocess with a fixed environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from dogxray.core.config import OFFLINE_ENV

CLI_TIMEOUT_S = 240
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Headless Chromium that talks to nothing but the page: no background calls, no sync.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class Cli:
    """Runs `python -m dogxray ...` with a fixed environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "dogxray", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dogxray {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def json(self, *args: str, check: bool = True) -> Any:
        return json.loads(self(*args, "--output", "json", check=check).stdout)


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(OFFLINE_ENV)
    env.update(
        AWS_CONFIG_FILE=str(tmp / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "aws-credentials"),
        DOGXRAY_CACHE_DIR=str(tmp / "cache"),
        TMPDIR=str(tmp),
        NO_COLOR="1",
        COLUMNS="160",
    )
    return env
