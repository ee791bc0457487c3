"""libbeat's Redis output, a second real output beside the file output.

Each test starts its own redis-server (the Debian package) on 127.0.0.1 on a
free port, with its working directory and no persistence, and compares what
arrives in the Redis list with what the file output writes for the same
input.
"""

import collections
import json
import shutil
import socket
import subprocess

import pytest

from conftest import REPO, file_output_config, wait_for

INPUT = f"""
  - type: logfile
    id: sample-unit42
    paths: ["{REPO}/_meta/sample/unit42-playbooks/*.json"]
    stix.feed.name: Unit 42 playbooks
"""

KEY = "tibeat-test"

# Fields that differ between two runs of the same input.
VOLATILE = ("agent.ephemeral_id", "agent.id")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server process and a minimal RESP client for it."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.proc = None

    def start(self):
        log = open(self.workdir / "redis.log", "wb")
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.workdir),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(self._ready, 20, f"redis-server on port {self.port}")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def _ready(self) -> bool:
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def command(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            parts = [f"*{len(args)}\r\n".encode()]
            for a in args:
                data = str(a).encode()
                parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
            conn.sendall(b"".join(parts))
            return _read_reply(conn.makefile("rb"))


def _read_reply(f):
    line = f.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = f.read(size + 2)[:-2]
        return data.decode()
    if kind == b"*":
        return [_read_reply(f) for _ in range(int(rest))]
    raise RuntimeError(f"unexpected Redis reply {line!r}")


@pytest.fixture
def redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: install the Debian package redis-server "
                    "(.ci/run does, with apt-get) to run the Redis output tests")
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def without_volatile(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    for path in VOLATILE:
        *parents, leaf = path.split(".")
        node = doc
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    return doc


def test_redis_receives_every_document_intact(tibeat, tmp_path, redis):
    tibeat.write_config(file_output_config(INPUT))
    file_run = tibeat.run_once()
    assert file_run.returncode == 0, file_run.stderr[-3000:]
    from_file = tibeat.documents()
    assert from_file

    redis_home = tmp_path / "redis-run"
    redis_home.mkdir()
    config = redis_home / "tibeat.yml"
    config.write_text(f"""
tibeat.inputs:
{INPUT}
output.redis:
  hosts: ["127.0.0.1:{redis.port}"]
  key: {KEY}
""")
    config.chmod(0o600)
    redis_run = subprocess.run(
        [str(tibeat.args()[0]), "run", "--once", "-e", "-c", str(config), "--path.home", str(REPO),
         "--path.data", str(redis_home / "data"), "--path.logs", str(redis_home / "logs")],
        capture_output=True, text=True, timeout=300)

    assert redis_run.returncode == 0, redis_run.stderr[-3000:]
    assert redis.command("LLEN", KEY) == len(from_file)
    from_redis = [json.loads(item) for item in redis.command("LRANGE", KEY, 0, -1)]
    ids = collections.Counter(d["@metadata"]["_id"] for d in from_redis)
    assert ids == collections.Counter(d["@metadata"]["_id"] for d in from_file)
    # The same documents, whatever order the two outputs wrote them in.
    canonical = lambda docs: sorted(json.dumps(without_volatile(d), sort_keys=True) for d in docs)
    assert canonical(from_redis) == canonical(from_file)
    assert {d["data_stream"]["namespace"] for d in from_redis} == {"default"}
