"""The messages a front end shows at a refused field are in the policy's words (issue 21,
item 3): no field names, placeholders or markup a person would have to decode."""

from __future__ import annotations

import re

import pytest

from api.problems import FIELD_RULES
from domain.rules.catalogue import CATALOGUE

# A snake_case name, a backticked name, `{...}` or a glob: a developer's words, not a person's.
DEVELOPER = re.compile(r"\b[a-z]+_[a-z_]+\b|`|\{|\}|\*_|\bref\b")
# The refusals of the patterns page's own lookup form are shown as they are.
SHOWN_AT_FORMS = {
    **{rule_id: entry.message for rule_id, entry in CATALOGUE.items()},
    **{rule_id: said for rule_id, said in FIELD_RULES.items() if rule_id.startswith("patterns.")},
}


@pytest.mark.parametrize("rule_id", sorted(SHOWN_AT_FORMS))
def test_a_rule_message_is_in_words(rule_id: str) -> None:
    message = SHOWN_AT_FORMS[rule_id]
    assert not DEVELOPER.search(message), (rule_id, message)
