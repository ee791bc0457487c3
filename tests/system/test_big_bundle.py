"""A large generated bundle through the logfile input: killed with SIGKILL
half-way, started again, every indicator arrives, few arrive twice, and the
long read logs its progress.

The bundle comes from tests/cases/B28/gen_bundle.py. 150,000 indicators make
a 53 MB file, which tibeat reads in about 7 s on 2 CPUs with output.file. The
whole test took 20 to 30 s there. The case's 3,000,000-object bundle is too
slow for the test suite and is measured by `go run mage.go benchBundle`.
"""

import collections
import datetime
import json
import subprocess
import sys

from conftest import CASES, kill, wait_for

OBJECTS = 150_000

# The input attaches a cursor update to one event in every 1,024 (the
# checkpoint interval in input/logfile/harvester.go), and input-cursor
# writes it to the registry once the output acknowledged that event.
CURSOR_STEP = 1024
# output.file takes batches of at most BATCH events from a memory queue of
# QUEUE events, and acknowledges each batch after writing it.
BATCH = 512
QUEUE = 2 * BATCH
# An object is written twice when it reached the output file after the last
# cursor update that reached the registry. Those are at most the objects of
# one cursor step plus the events in the queue. The queue counts too because
# acknowledgements reach the registry from a goroutine of their own, so
# written batches can still wait for it when the process dies.
MAX_REPEATED = CURSOR_STEP + QUEUE

PROGRESS = "Progress reading STIX file"


def config(feed) -> str:
    return f"""
tibeat.inputs:
  - type: logfile
    id: big-bundle
    paths: ["{feed}"]
    progress_interval: 1s
queue.mem:
  events: {QUEUE}
  flush.min_events: {BATCH}
  flush.timeout: 0s
output.file:
  path: ${{path.data}}/output
  filename: tibeat
  rotate_every_kb: 10485760
  bulk_max_size: {BATCH}
"""


def generate_bundle(path) -> set:
    """Writes the bundle with the case's generator and returns the ids of its
    indicators, read back from the file rather than from tibeat."""
    subprocess.run([sys.executable, str(CASES / "B28" / "gen_bundle.py"), str(path), str(OBJECTS)],
                   check=True, timeout=120)
    with open(path, encoding="utf-8") as f:
        bundle = json.load(f)
    return {obj["id"] for obj in bundle["objects"] if obj["type"] == "indicator"}


class LineCounter:
    """Counts the lines of the output files, reading only what was added
    since the last call, so that polling does not slow tibeat down."""

    def __init__(self, folder):
        self.folder = folder
        self.offsets = {}
        self.lines = 0

    def __call__(self) -> int:
        for path in self.folder.glob("tibeat*"):
            with open(path, "rb") as f:
                f.seek(self.offsets.get(path, 0))
                data = f.read()
            self.offsets[path] = self.offsets.get(path, 0) + len(data)
            self.lines += data.count(b"\n")
        return self.lines


def progress_lines(log_lines: list) -> list:
    return [line for line in log_lines if line.get("message") == PROGRESS]


def timestamp(line: dict) -> datetime.datetime:
    return datetime.datetime.fromisoformat(line["@timestamp"].replace("Z", "+00:00"))


def check_progress(lines: list, file_size: int) -> None:
    assert lines, f"no '{PROGRESS}' line in a read that lasted several seconds"
    for line in lines:
        assert line["objects"] > 0, line
        assert 0 < line["log.offset"] <= file_size, line
        assert line["objects_per_second"] > 0, line
    for before, after in zip(lines, lines[1:]):
        assert after["objects"] > before["objects"], (before, after)
        assert after["log.offset"] > before["log.offset"], (before, after)
        gap = (timestamp(after) - timestamp(before)).total_seconds()
        # progress_interval is 1s, and the clock is read every 256 objects.
        assert 0.9 <= gap < 10, f"{gap}s between two progress lines, expected about 1s"


def test_big_bundle_sigkill_then_resume(tibeat):
    feed = tibeat.workdir / "big.json"
    ids = generate_bundle(feed)
    assert len(ids) == OBJECTS, f"the generator wrote {len(ids)} indicators, expected {OBJECTS}"
    file_size = feed.stat().st_size
    tibeat.write_config(config(feed))

    written = LineCounter(tibeat.data / "output")
    proc = tibeat.start()
    try:
        wait_for(lambda: written() >= OBJECTS // 2, 120, "half of the documents")
    finally:
        kill(proc)
    first_logs = tibeat.log_lines()
    first = written()
    assert first < OBJECTS, "the first run finished before it was killed"

    second = tibeat.run_once(timeout=120)

    assert second.returncode == 0, second.stderr[-3000:]
    docs = tibeat.documents()
    by_stix_id = collections.Counter(d["stix"]["id"] for d in docs)
    missing = ids - set(by_stix_id)
    assert not missing, f"{len(missing)} indicators never arrived, e.g. {sorted(missing)[:3]}"
    extra = set(by_stix_id) - ids
    assert not extra, f"{len(extra)} documents for objects not in the bundle, e.g. {sorted(extra)[:3]}"
    repeated = sum(n - 1 for n in by_stix_id.values())
    print(f"first run wrote {first} documents before SIGKILL, {repeated} objects arrived twice")
    assert repeated <= MAX_REPEATED, f"{repeated} objects arrived twice; the first run wrote {first}"

    ids_by_object = collections.defaultdict(set)
    for d in docs:
        ids_by_object[d["stix"]["id"]].add(d["@metadata"]["_id"])
    changed = [i for i, doc_ids in ids_by_object.items() if len(doc_ids) > 1]
    assert not changed, f"{len(changed)} repeated objects got another _id, e.g. {changed[:3]}"

    # The second run starts at the stored offset: it reads only the objects
    # the first run had not acknowledged, and writes each of them once.
    second_logs = tibeat.log_lines()[len(first_logs):]
    summaries = [line for line in second_logs if line.get("message") == "run summary"]
    assert len(summaries) == 1, second.stderr[-3000:]
    second_docs = len(docs) - first
    assert summaries[0]["objects_read"] == second_docs, summaries[0]
    assert summaries[0]["objects_read"] < OBJECTS, summaries[0]

    check_progress(progress_lines(first_logs), file_size)
    check_progress(progress_lines(second_logs), file_size)
