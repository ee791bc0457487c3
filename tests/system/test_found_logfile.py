"""Problems found by hand in the logfile input: the --once summary and the
cost of many small files."""

import json
import signal
import socket
import threading
import time

from conftest import Tibeat, file_output_config, wait_for


def indicator(n: int) -> dict:
    return {
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n % 256}']", "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00.000Z",
    }


def logfile_input(input_id: str, folder) -> str:
    return f"""
  - type: logfile
    id: {input_id}
    paths: ["{folder}/*"]
"""


def test_once_summary_counts_read_errors(tibeat):
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    lines = [json.dumps(indicator(1)), "{not json", "5", json.dumps(indicator(2))]
    (folder / "feed.ndjson").write_text("\n".join(lines) + "\n")
    tibeat.write_config(file_output_config(logfile_input("counted", folder)))

    proc = tibeat.run_once()

    assert proc.returncode == 0
    summaries = [line for line in tibeat.log_lines() if line.get("message") == "run summary"]
    assert len(summaries) == 1, proc.stderr[-2000:]
    input_errors = summaries[0]["input_errors"]
    read_errors = sum(n for key, n in input_errors.items() if "read_errors" in key)
    # The two invalid lines are logged as warnings and counted in the
    # input's read_errors metric, but the summary shows no input errors.
    assert read_errors == 2, f"input_errors in the run summary: {input_errors}"


def timed_run(workdir, file_count: int) -> float:
    workdir.mkdir()
    folder = workdir / "feed"
    folder.mkdir()
    for i in range(file_count):
        (folder / f"f{i:05d}.json").write_text(json.dumps(indicator(i)))
    beat = Tibeat(workdir)
    beat.write_config(file_output_config(logfile_input("many", folder)))

    started = time.monotonic()
    proc = beat.run_once(timeout=600)
    elapsed = time.monotonic() - started

    assert proc.returncode == 0
    assert len(beat.documents()) == file_count
    return elapsed


def test_many_small_files_scale_linearly(tmp_path):
    small = timed_run(tmp_path / "small", 500)
    large = timed_run(tmp_path / "large", 2000)

    # Four times the files should take about four times as long. Every
    # acknowledgement rewrites one cursor that holds the state of every file
    # read so far, so the time grows with the square of the file count:
    # 2000 files took 20 to 30 times as long as 500 on a 2-core machine.
    assert large < 8 * small, f"500 files took {small:.1f}s, 2000 files took {large:.1f}s"


def stop_with_silent_output(tibeat, input_id: str, folder, settle: float) -> float:
    """Runs --once with a Logstash output whose server accepts the
    connection and never responds, sends SIGTERM settle seconds after it
    connects, and returns how long tibeat took to exit."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    tibeat.write_config(f"""
tibeat.inputs:
{logfile_input(input_id, folder)}
output.logstash:
  hosts: ["127.0.0.1:{server.getsockname()[1]}"]
  timeout: 300s
""")
    try:
        proc = tibeat.start("--once")
        wait_for(lambda: accepted, 30, "tibeat to connect to the output")
        time.sleep(settle)
        stopped = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        return time.monotonic() - stopped
    finally:
        server.close()


def test_stop_with_silent_output_loses_nothing(tibeat):
    # No event is ever acknowledged. libbeat reports the batches it drops
    # while closing as acknowledged, so without care the cursor would move
    # past them.
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    (folder / "feed.ndjson").write_text("".join(json.dumps(indicator(n)) + "\n" for n in range(50)))

    took = stop_with_silent_output(tibeat, "stalled", folder, settle=1)
    # The output's 300 s timeout would hold libbeat's close; tibeat waits
    # 5 s for it.
    assert took < 30

    summaries = [line for line in tibeat.log_lines() if line.get("message") == "run summary"]
    assert len(summaries) == 1, tibeat.stderr_path.read_text()[-2000:]
    assert summaries[0]["documents_published"] == 0
    assert summaries[0]["documents_unacknowledged"] == 50
    text = tibeat.stderr_path.read_text()
    assert "documents not acknowledged, sent again by the next run" in text
    assert "of which" not in text

    # The next run, with an output that works, sends every object.
    tibeat.write_config(file_output_config(logfile_input("stalled", folder)))
    proc = tibeat.run_once()
    assert proc.returncode == 0, proc.stderr[-2000:]
    ids = sorted(doc["stix"]["id"] for doc in tibeat.documents())
    assert ids == sorted(indicator(n)["id"] for n in range(50))


def test_context_copies_lost_at_a_stop_are_sent_next_run(tibeat):
    # The context learnt in the stopped run stays in the index. The next run
    # reads the relationships again and finds nothing new in them. So the
    # index itself must record which copies with context the output never
    # acknowledged, and the next run sends those.
    malware = {
        "type": "malware", "spec_version": "2.1", "id": "malware--00000000-0000-4000-8000-0000000000aa",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "Emotet", "is_family": True,
    }
    indicators = [indicator(n) for n in range(30)]
    relationships = [{
        "type": "relationship", "spec_version": "2.1",
        "id": f"relationship--00000000-0000-4000-8000-{n:012d}",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "relationship_type": "indicates", "source_ref": indicators[n]["id"], "target_ref": malware["id"],
    } for n in range(30)]
    folder = tibeat.workdir / "feed"
    folder.mkdir()
    (folder / "a-indicators.ndjson").write_text("".join(json.dumps(o) + "\n" for o in indicators))
    tibeat.write_config(file_output_config(logfile_input("context", folder)))
    assert tibeat.run_once().returncode == 0

    (folder / "b-context.ndjson").write_text("".join(json.dumps(o) + "\n" for o in [malware] + relationships))
    stop_with_silent_output(tibeat, "context", folder, settle=1.5)

    tibeat.write_config(file_output_config(logfile_input("context", folder)))
    assert tibeat.run_once().returncode == 0
    with_context = {doc["stix"]["id"] for doc in tibeat.documents()
                    if doc.get("threat", {}).get("software", {}).get("name") == ["Emotet"]}
    assert with_context == {i["id"] for i in indicators}
