"""Problems found by hand in configuration checks: `tibeat test config`
and the setting named in an error."""

import json
import subprocess

import pytest

from conftest import REPO, binary, file_output_config

INVALID_INPUTS = {
    "logfile without paths": """
  - type: logfile
    id: no-paths
""",
    "unknown input type": """
  - type: nosuch
    id: unknown-type
""",
    "cel program that does not compile": """
  - type: cel
    id: bad-program
    resource.url: http://127.0.0.1:9/
    program: 'state.x +'
""",
    "logfile with an invalid duration": """
  - type: logfile
    id: bad-duration
    paths: ["/nonexistent/*"]
    scan_frequency: often
""",
}


@pytest.mark.parametrize("inputs", INVALID_INPUTS.values(), ids=INVALID_INPUTS.keys())
def test_test_config_rejects_what_run_rejects(tibeat, inputs):
    tibeat.write_config(file_output_config(inputs))

    run = tibeat.run_once(timeout=60)
    check = subprocess.run(
        [str(binary()), "test", "config", "-c", str(tibeat.config_path),
         "--path.home", str(REPO), "--path.data", str(tibeat.data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
    )

    assert run.returncode != 0
    output = check.stdout.decode(errors="replace")
    assert check.returncode != 0, f"tibeat test config printed: {output.strip()}"
    assert "Config OK" not in output


def test_cel_missing_url_names_resource_url(tibeat):
    tibeat.write_config(file_output_config("""
  - type: cel
    id: no-url
    program: 'state'
"""))

    proc = tibeat.run_once(timeout=60)

    assert proc.returncode != 0
    exiting = [line for line in proc.stderr.splitlines() if line.startswith("Exiting")]
    assert len(exiting) == 1, proc.stderr[-2000:]
    # The message names tibeat.inputs.0.url, a setting the cel input does
    # not have.
    assert "resource.url" in exiting[0]


def test_misspelt_setting_warns_and_runs(tibeat):
    sample = sorted((REPO / "_meta/sample/unit42-playbooks").glob("*.json"))[0]
    tibeat.write_config(file_output_config(f"""
  - type: logfile
    id: misspelt
    paths: ["{sample}"]
    scan_frecuency: 1s
    stix:
      feed.nam: Unit 42
"""))

    proc = tibeat.run_once(timeout=120)

    assert proc.returncode == 0, proc.stderr[-2000:]
    warnings = [line["message"] for line in tibeat.log_lines()
                if line.get("log.level") == "warn" and "unknown settings" in line.get("message", "")]
    assert len(warnings) == 1, warnings
    assert 'tibeat.inputs[0] (id "misspelt", type logfile)' in warnings[0]
    assert ("scan_frecuency (did you mean scan_frequency?), "
            "stix.feed.nam (did you mean stix.feed.name?)") in warnings[0]
    with open(sample, encoding="utf-8") as f:
        ids = {o["id"] for o in json.load(f)["objects"]}
    assert {d["stix"]["id"] for d in tibeat.documents()} == ids
