"""`python -m replay.bundle_check` (and the copy inside a bundle) runs from any folder and says
what it verified: the incident, its events, the files and the head hash."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ledger.application import Ledger
from tests.cli.conftest import Cims
from tests.cli.test_cli import overdue_investigation

pytestmark = pytest.mark.store


def test_the_offline_check_runs_from_any_folder_and_says_what_it_verified(
    cims: Cims, ledger: Ledger, tmp_path: Path
) -> None:
    story = overdue_investigation(ledger)
    elsewhere = tmp_path / "auditor" / "desk"
    elsewhere.mkdir(parents=True)
    exported = cims("replay", "export", story.incident_id.hex[:8], "-o", str(elsewhere / "b.zip"))
    assert exported.exit_code == 0, exported.output
    head = ledger.incident_events(story.incident_id)[-1].hash
    with zipfile.ZipFile(elsewhere / "b.zip") as bundle:
        (elsewhere / "bundle_check.py").write_bytes(bundle.read("bundle_check.py"))
        files = len(bundle.namelist()) - 1  # all but the manifest itself
        lines = bundle.read("events.ndjson").splitlines()
    first, last = json.loads(lines[0])["position"], json.loads(lines[-1])["position"]

    for command in (
        [sys.executable, "-m", "replay.bundle_check", "b.zip"],
        # the copy in the bundle, run with nothing but the standard library on the path
        [sys.executable, "-I", "bundle_check.py", "b.zip"],
    ):
        done = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        assert done.stdout.splitlines() == [
            f"incident  {story.incident_id}",
            f"events    7 (versions 1 to 7, log positions {first} to {last}), each hash recomputed",
            f"files     {files} match MANIFEST.sha256",
            f"head hash {head}",
            "bundle verified: b.zip",
        ]

    missing = subprocess.run(
        [sys.executable, "-m", "replay.bundle_check", "nope.zip"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1
    assert missing.stdout.splitlines()[0] == "FAIL cannot read nope.zip: No such file or directory"
