"""Check an audit bundle offline, with nothing but Python's standard library.

    python -m replay.bundle_check incident-bundle.zip
    (or, with no install at all: unzip the bundle's `bundle_check.py` and run
     `python3 bundle_check.py incident-bundle.zip`)

It checks every file against MANIFEST.sha256, then recomputes each event's SHA-256 hash from
events.ndjson and the link of each to the one before, then re-hashes each document's bytes
(`documents/<sha256>`) against the SHA-256 and size its event recorded (a bundle made with only
the hashes says so in documents.json, and its documents are counted, not re-hashed), and prints
what it verified (files, events, documents, the incident, the head hash). Exit 0 when all
holds, 1 otherwise, 2 for a wrong call.
It runs from any folder: it reads only the file it is given.

The ledger hashes orjson's sorted-key encoding; `json.dumps(..., sort_keys=True,
separators=(",", ":"), ensure_ascii=False)` gives the same bytes for every value an event holds
(strings, including control and non-BMP characters, integers, booleans, null, lists, objects;
instants are already ISO strings), which tests/replay/test_bundle_check.py checks. Floats would
not always match (orjson writes 1e-5 as 0.00001, Python as 1e-05), so no event carries one, and
this checker refuses any that does rather than report a misleading hash failure.
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


def has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    return False


def event_hash(topic: str, state: dict[str, object]) -> str:
    body = {k: v for k, v in state.items() if k != "hash"}
    return hashlib.sha256(canonical({"topic": topic, "event": body})).hexdigest()


def check(path: str) -> list[str]:
    try:
        with zipfile.ZipFile(path) as bundle:
            events = bundle.read("events.ndjson")
            return check_manifest(bundle) + check_chain(events) + check_documents(bundle, events)
    except OSError as exc:
        return [f"cannot read {path}: {exc.strerror or exc}"]
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        # A bundle that is not even readable has been damaged (or is not a bundle at all).
        return [f"unreadable bundle: {exc!r}"]


def verified(path: str) -> list[str]:
    """What a bundle that passed `check` holds, in lines for its reader."""
    with zipfile.ZipFile(path) as bundle:
        files = len(bundle.namelist())
        lines = bundle.read("events.ndjson").decode().splitlines()
        named = documents_named(bundle.read("events.ndjson"))
        members = set(bundle.namelist())
    first, last = json.loads(lines[0]), json.loads(lines[-1])
    rehashed = sum(1 for d in named.values() if f"documents/{d['sha256']}" in members)
    documents = (
        [
            f"documents {len(named)} named by the events: {rehashed} re-hashed from their bytes,"
            f" {len(named) - rehashed} by hash only"
        ]
        if named
        else []
    )
    return [
        f"incident  {first['state'].get('originator_id')}",
        f"events    {len(lines)} (versions 1 to {len(lines)},"
        f" log positions {first['position']} to {last['position']}), each hash recomputed",
        *documents,
        f"files     {files - 1} match MANIFEST.sha256",
        f"head hash {last['state'].get('hash')}",
    ]


def check_manifest(bundle: zipfile.ZipFile) -> list[str]:
    problems = []
    names = set(bundle.namelist())
    listed = set()
    for line in bundle.read("MANIFEST.sha256").decode().splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        if name not in names:
            problems.append(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(bundle.read(name)).hexdigest() != digest:
            problems.append(f"{name}: does not match its manifest sum")
    for name in sorted(names - listed - {"MANIFEST.sha256"}):
        problems.append(f"{name}: not in the manifest")
    return problems


def check_chain(ndjson: bytes) -> list[str]:
    problems = []
    previous, position, incident = GENESIS_HASH, 0, None
    lines = ndjson.decode().splitlines()
    if not lines:
        return ["events.ndjson holds no events"]
    for version, line in enumerate(lines, start=1):
        record = json.loads(line)
        state = record["state"]
        incident = incident or state.get("originator_id")
        if state.get("originator_id") != incident:
            problems.append(f"event {version}: belongs to another incident")
        if state.get("originator_version") != version:
            found = state.get("originator_version")
            problems.append(f"event {version}: stored as version {found}")
        if not isinstance(record.get("position"), int) or record["position"] <= position:
            problems.append(
                f"event {version}: out of log order (position {record.get('position')})"
            )
        else:
            position = record["position"]
        if state.get("prev_hash") != previous:
            problems.append(f"event {version}: does not link to the event before")
        if has_float(state):
            problems.append(f"event {version}: holds a float, which this check cannot encode")
        elif event_hash(record["topic"], state) != state.get("hash"):
            problems.append(f"event {version}: hash does not match its content")
        previous = str(state.get("hash"))
    return problems


DOCUMENT_TOPIC_SUFFIX = ":Incident.DocumentAdded"


def documents_named(ndjson: bytes) -> dict[str, dict[str, object]]:
    """The documents the events added, by id: each with the SHA-256 and size its event holds."""
    named = {}
    for line in ndjson.decode().splitlines():
        record = json.loads(line)
        if str(record.get("topic", "")).endswith(DOCUMENT_TOPIC_SUFFIX):
            state = record["state"]
            named[str(state.get("document_id"))] = state
    return named


def check_documents(bundle: zipfile.ZipFile, ndjson: bytes) -> list[str]:
    """Each document an event names is listed in documents.json as its event says, and, where
    its bytes are in the bundle, they hash (SHA-256) to what the event recorded."""
    named = documents_named(ndjson)
    if not named:
        return []
    names = set(bundle.namelist())
    if "documents.json" not in names:
        return ["documents.json: missing, though the events name documents"]
    listed = {str(d.get("document_id")): d for d in json.loads(bundle.read("documents.json"))}
    problems = []
    for document_id, state in named.items():
        label = f"document {document_id} ({state.get('file_name')})"
        entry = listed.get(document_id)
        if entry is None:
            problems.append(f"{label}: not listed in documents.json")
            continue
        if (entry.get("sha256"), entry.get("size")) != (state.get("sha256"), state.get("size")):
            problems.append(f"{label}: documents.json disagrees with its event")
        member = f"documents/{state.get('sha256')}"
        if member not in names:
            if entry.get("bytes_included"):
                problems.append(f"{label}: its bytes are missing from the bundle")
            continue
        digest, size = hashlib.sha256(), 0
        with bundle.open(member) as data:
            while piece := data.read(1024 * 1024):
                digest.update(piece)
                size += len(piece)
        if (digest.hexdigest(), size) != (state.get("sha256"), state.get("size")):
            problems.append(f"{label}: its bytes do not match the SHA-256 its event recorded")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m replay.bundle_check BUNDLE.zip", file=sys.stderr)
        return 2
    problems = check(argv[1])
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        print(f"{len(problems)} problem(s) found in {argv[1]}")
        return 1
    for line in verified(argv[1]):
        print(line)
    print(f"bundle verified: {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
