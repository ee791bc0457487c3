"""The taxii input against medallion 3.0.0, the OASIS reference TAXII 2.1 server.

Each module run starts one medallion on 127.0.0.1 with two collections made
from the Amnesty samples. Tests that change the server's data or restart it
start their own. opentaxii is not covered, as taxii_servers.py explains.
"""

import collections
import urllib.parse

import pytest

from conftest import file_output_config, get, kill, wait_for

# The memory queue otherwise keeps events until it has thousands of them or
# seconds have passed, and the kill test needs them written page by page.
PROMPT_QUEUE = """
queue.mem:
  flush.min_events: 0
  flush.timeout: 0s
"""
from taxii_servers import Medallion, amnesty_collections

USER, PASSWORD = "tibeat-reader", "medallion-test-password"


@pytest.fixture(scope="module")
def medallion(tmp_path_factory):
    server = Medallion(tmp_path_factory.mktemp("medallion"), amnesty_collections(), {USER: PASSWORD})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_medallion(tmp_path):
    server = Medallion(tmp_path, amnesty_collections(), {USER: PASSWORD})
    server.start()
    yield server
    server.stop()


def taxii_input(url: str, extra: str = "", password: str = PASSWORD, limit: int = 50) -> str:
    return f"""
  - type: taxii
    id: medallion
    url: "{url}"
    initial_interval: 0s
    limit: {limit}
    interval: 1s
    auth.basic:
      user: {USER}
      password: "{password}"
{extra}"""


def fetched(tibeat) -> list:
    """The documents read from the server, without the copies of indicators
    published again for context that came after them. Such a copy has no
    url.original or, where the context processor numbers its revisions, a
    stix.ioc_context_revision above 0."""
    return [d for d in tibeat.documents()
            if get(d, "url.original") and not get(d, "stix.ioc_context_revision")]


def versions(docs: list) -> collections.Counter:
    return collections.Counter((get(d, "stix.id"), get(d, "stix.modified")) for d in docs)


def expected_versions(*cols) -> set:
    return {(o["id"], o["modified"]) for c in cols for o in c.objects}


def objects_requests(server: Medallion) -> list:
    return [urllib.parse.urlsplit(path) for method, path, _ in server.requests()
            if method == "GET" and path.split("?")[0].endswith("/objects/")]


def test_full_ingest_from_discovery(tibeat, medallion):
    tibeat.write_config(file_output_config(taxii_input(medallion.discovery_url)))

    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    got = versions(fetched(tibeat))
    assert set(got) == expected_versions(*medallion.collections)
    assert max(got.values()) == 1, "an object was published twice"
    sources = {get(d, "url.original") for d in fetched(tibeat)}
    assert sources == {medallion.objects_url(c) for c in medallion.collections}
    assert PASSWORD not in result.stderr
    logged = [line for line in tibeat.log_lines() if line.get("message") == "Found TAXII collection"]
    assert {line["taxii.collection.title"] for line in logged} == {c.title for c in medallion.collections}


def test_collection_by_title(tibeat, medallion):
    tibeat.write_config(file_output_config(taxii_input(
        medallion.discovery_url, "    collections: ['Wintego*']\n")))

    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    wintego = medallion.collections[1]
    assert set(versions(tibeat.documents())) == expected_versions(wintego)


def test_wrong_password_fails_the_run(tibeat, medallion):
    tibeat.write_config(file_output_config(taxii_input(medallion.discovery_url, password="not-the-password")))

    result = tibeat.run_once()

    assert result.returncode != 0
    assert "HTTP 401" in result.stderr
    assert medallion.discovery_url in result.stderr
    assert "rejected the credentials" in result.stderr
    assert "not-the-password" not in result.stderr


# The input stores a collection's position every 10 pages of a walk and at
# its end (checkpointPages in input/taxii/pipeline.go).
CHECKPOINT_PAGES = 10


def test_resume_after_sigkill(tibeat, medallion):
    cytrox = medallion.collections[0]
    limit = 20
    # Four requests per second make the walk of 35 pages of 20 objects last
    # about nine seconds, long enough to kill it in the middle.
    tibeat.write_config(file_output_config(taxii_input(
        medallion.objects_url(cytrox), "    rate_limit: {limit: 4, burst: 1}\n", limit=limit), PROMPT_QUEUE))

    # Pages end on ties of date_added except every third one (see
    # taxii_servers.Collection), so the position stored with page 10 is the
    # one of page 9, and the kill waits for page 15.
    proc = tibeat.start()
    try:
        wait_for(lambda: (tibeat.data / "output").exists() and len(fetched(tibeat)) >= 15 * limit, 60,
                 "the first pages")
    finally:
        kill(proc)
    first = len(fetched(tibeat))
    assert first < len(cytrox.objects), "the walk finished before it was killed"

    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    got = versions(fetched(tibeat))
    assert set(got) == expected_versions(cytrox), "an object is missing after the restart"
    repeated = sum(n - 1 for n in got.values())
    # What comes again is what was not acknowledged, or acknowledged after
    # the last stored position, before the kill: at most CHECKPOINT_PAGES
    # pages, plus pages in flight and pages held back because the next one
    # shares a date.
    assert repeated <= (CHECKPOINT_PAGES + 3) * limit, f"{repeated} repeats after a kill"
    resumed_from = [urllib.parse.parse_qs(q.query).get("added_after") for q in objects_requests(medallion)]
    assert [cytrox.dates[9 * limit - 1]] in resumed_from, "the run after the kill did not resume from page 9's position"


def test_second_run_asks_only_for_new_objects(tibeat, own_medallion):
    cytrox = own_medallion.collections[0]
    tibeat.write_config(file_output_config(taxii_input(own_medallion.objects_url(cytrox))))
    assert tibeat.run_once().returncode == 0
    first = len(fetched(tibeat))
    assert first == len(cytrox.objects)

    new = [dict(o, id=o["id"].split("--")[0] + "--00000000-0000-4000-8000-" + f"{i:012d}")
           for i, o in enumerate(cytrox.objects[:3])]
    own_medallion.add_objects(cytrox, new)
    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    # output.file rotates its file at start, so compare sets, not order.
    ids = collections.Counter(get(d, "stix.id") for d in fetched(tibeat))
    assert sum(ids.values()) == first + len(new)
    assert all(ids[o["id"]] == 1 for o in new)
    last = objects_requests(own_medallion)[-1]
    query = urllib.parse.parse_qs(last.query)
    assert query["added_after"] == [cytrox.dates[-1]], "the second run did not send the stored position"
    assert query["limit"] == ["50"]


def test_server_restart_between_runs(tibeat, own_medallion):
    wintego = own_medallion.collections[1]
    tibeat.write_config(file_output_config(taxii_input(own_medallion.discovery_url, "    collections: ['Wintego Helios']\n")))
    assert tibeat.run_once().returncode == 0
    first = len(fetched(tibeat))

    own_medallion.stop()
    own_medallion.start()
    result = tibeat.run_once()

    assert result.returncode == 0, result.stderr[-3000:]
    assert len(fetched(tibeat)) == first == len(wintego.objects)
    last = objects_requests(own_medallion)[-1]
    assert urllib.parse.parse_qs(last.query)["added_after"] == [wintego.dates[-1]]
