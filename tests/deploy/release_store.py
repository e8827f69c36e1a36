"""Writes the store fixture an upgrade test opens: what a deployment of a release holds on disk.

`python -m tests.deploy.release_store tests/data/release-0.1.0.db.gz` writes, with the code of the
checkout it runs in: the demo data set (`cims demo`), every read model followed to the head of the
log (`cims projections run --until-idle`, so their tables and digests are the release's) and a
ledger checkpoint (`cims replay checkpoint`, kept in the store and exported, signed with
`CHECKPOINT_KEY`, beside the fixture as `.checkpoint.json`). The store is copied by `cims backup`
and gzipped.

Run it once per release and commit the result: tests/deploy/test_upgrade.py opens every fixture
with the code of today, as a deployment upgraded to it would.
"""

from __future__ import annotations

import gzip
import shutil
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

# Development-grade keys: the fixture holds synthetic data only.
FEED_SECRET = "release-fixture-feed-secret-0123456789"
CHECKPOINT_KEY = "release-fixture-checkpoint-key-0123456789"


def run(url: str, *args: str) -> str:
    env = {"CIMS_DATABASE_URL": url, "CIMS_FEED_SECRET": FEED_SECRET}
    result = CliRunner().invoke(app, list(args), env={**env, "CIMS_CHECKPOINT_KEY": CHECKPOINT_KEY})
    if result.exit_code != 0:
        raise SystemExit(f"cims {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def write(target: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "cims.db"
        url = f"sqlite:///{db}"
        run(url, "demo")
        run(url, "projections", "run", "--until-idle")
        checkpoint = target.with_name(target.name.removesuffix(".db.gz") + ".checkpoint.json")
        run(url, "replay", "checkpoint", "--export", str(checkpoint))
        # The file alone lacks what is still in its write-ahead log: a backup is whole.
        copy = Path(folder) / "copy.db"
        run(url, "backup", str(copy))
        with copy.open("rb") as plain, gzip.GzipFile(target, "wb", mtime=0) as packed:
            shutil.copyfileobj(plain, packed)


if __name__ == "__main__":
    write(Path(sys.argv[1]))
