"""Check an audit bundle offline, with nothing but Python's standard library.

    python -m replay.bundle_check incident-bundle.zip
    (or, with no install at all: unzip the bundle's `bundle_check.py` and run
     `python3 bundle_check.py incident-bundle.zip`)

It checks every file against MANIFEST.sha256, then recomputes each event's SHA-256 hash from
events.ndjson and the link of each to the one before. Exit 0 when all holds, 1 otherwise.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile

GENESIS_HASH = "0" * 64


def canonical(value: object) -> bytes:
    # Byte for byte what the ledger hashes (orjson with sorted keys): no spaces, UTF-8 kept.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(topic: str, state: dict[str, object]) -> str:
    body = {k: v for k, v in state.items() if k != "hash"}
    return hashlib.sha256(canonical({"topic": topic, "event": body})).hexdigest()


def check(path: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        manifest = bundle.read("MANIFEST.sha256").decode().splitlines()
        listed = set()
        for line in manifest:
            digest, _, name = line.partition("  ")
            listed.add(name)
            if name not in names:
                problems.append(f"{name}: listed in the manifest but missing")
            elif hashlib.sha256(bundle.read(name)).hexdigest() != digest:
                problems.append(f"{name}: does not match its manifest sum")
        for name in sorted(names - listed - {"MANIFEST.sha256"}):
            problems.append(f"{name}: not in the manifest")
        previous = GENESIS_HASH
        lines = bundle.read("events.ndjson").decode().splitlines()
        for version, line in enumerate(lines, start=1):
            record = json.loads(line)
            state = record["state"]
            if state.get("originator_version") != version:
                found = state.get("originator_version")
                problems.append(f"event {version}: stored as version {found}")
            if state.get("prev_hash") != previous:
                problems.append(f"event {version}: does not link to the event before")
            if event_hash(record["topic"], state) != state.get("hash"):
                problems.append(f"event {version}: hash does not match its content")
            previous = str(state.get("hash"))
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m replay.bundle_check BUNDLE.zip", file=sys.stderr)
        return 2
    problems = check(argv[1])
    for problem in problems:
        print(f"FAIL {problem}")
    print("bundle verified" if not problems else f"{len(problems)} problem(s) found")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
