"""The offline checker's stdlib JSON encodes every event value exactly as the ledger hashes it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.base import DomainEvent, canonical_bytes
from domain.incident import Incident
from replay import bundle_check

text = st.text(st.characters(exclude_categories=["Cs"]))  # orjson stores only valid UTF-8
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=30,
)


@given(json_values)
def test_the_stdlib_encoding_matches_orjson_byte_for_byte_for_every_non_float_value(
    value: Any,
) -> None:
    assert bundle_check.canonical(value) == canonical_bytes(value)


def test_awkward_strings_encode_alike() -> None:
    value = {"é": '\x00\x1f\x7f\u2028\n\t"\\/', "a": "😀", "\uffff": [True, None, -1]}

    assert bundle_check.canonical(value) == canonical_bytes(value)


def test_no_event_carries_a_float_which_the_two_encoders_would_write_differently() -> None:
    events = [
        v for v in vars(Incident).values() if isinstance(v, type) and issubclass(v, DomainEvent)
    ]

    assert len(events) > 20
    assert bundle_check.canonical(1e-5) != canonical_bytes(1e-5)  # why floats are kept out
    for event in events:
        assert '"number"' not in json.dumps(event.model_json_schema()), event.__name__


def test_the_checker_refuses_a_float_rather_than_blame_the_hash() -> None:
    state = {"originator_id": "x", "originator_version": 1, "prev_hash": "0" * 64, "n": 1e-5}
    line = json.dumps({"position": 1, "topic": "t", "state": state}).encode()

    assert bundle_check.check_chain(line) == [
        "event 1: holds a float, which this check cannot encode"
    ]
