"""Fixtures that run the built tibeat binary, as Beats' own system tests do.

Every test gets its own path.data and configuration; the binary comes from
TIBEAT_BINARY (set by `go run mage.go systemTest`) or ./tibeat.
"""

import glob
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "stix"
CASES = REPO / "tests" / "cases"


def binary() -> Path:
    path = Path(os.environ.get("TIBEAT_BINARY", REPO / "tibeat"))
    if not path.exists():
        pytest.fail(f"tibeat binary not found at {path}: run `go run mage.go build` first")
    return path


class Tibeat:
    """One tibeat installation: a configuration, path.data and path.logs."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.data = workdir / "data"
        self.config_path = workdir / "tibeat.yml"
        self.stderr_path = workdir / "stderr.log"

    def write_config(self, text: str) -> None:
        self.config_path.write_text(text)
        self.config_path.chmod(0o600)

    def args(self, *extra: str) -> list:
        return [
            str(binary()), "run", "-e",
            "-c", str(self.config_path),
            "--path.home", str(REPO),
            "--path.data", str(self.data),
            "--path.logs", str(self.workdir / "logs"),
            *extra,
        ]

    def run_once(self, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
        with open(self.stderr_path, "ab") as stderr:
            proc = subprocess.run(self.args("--once", *extra), stdout=subprocess.PIPE,
                                  stderr=stderr, timeout=timeout)
        proc.stderr = self.stderr_path.read_text(errors="replace")
        return proc

    def start(self, *extra: str) -> subprocess.Popen:
        stderr = open(self.stderr_path, "ab")
        return subprocess.Popen(self.args(*extra), stdout=subprocess.DEVNULL, stderr=stderr)

    def log_lines(self) -> list:
        """The JSON log lines tibeat wrote to standard error."""
        lines = []
        for raw in self.stderr_path.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except json.JSONDecodeError:
                    pass
        return lines

    def documents(self) -> list:
        """Every document output.file wrote, in order. A last line without
        its newline is still being written by a running tibeat, so it is
        left out until it is complete."""
        docs = []
        for path in sorted(glob.glob(str(self.data / "output" / "tibeat*"))):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.strip() and line.endswith("\n"):
                        docs.append(json.loads(line))
        return docs


@pytest.fixture
def tibeat(tmp_path) -> Tibeat:
    return Tibeat(tmp_path)


def file_output_config(inputs_yaml: str, extra: str = "") -> str:
    """A configuration that writes every document to path.data/output."""
    return f"""
tibeat.inputs:
{inputs_yaml}
output.file:
  path: ${{path.data}}/output
  filename: tibeat
  rotate_every_kb: 10485760
{extra}
"""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def get(doc: dict, dotted: str):
    """Looks a dotted field up in a document, whether nested or flat."""
    if dotted in doc:
        return doc[dotted]
    node = doc
    parts = dotted.split(".")
    i = 0
    while i < len(parts):
        if not isinstance(node, dict):
            return None
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in node:
                node = node[key]
                i = j
                break
        else:
            return None
    return node
