"""ipsecsim/netipsec/sastate.py: the SA state machine as a table; enums.py: the named values. [S7.6] [S7.7]"""

import pytest

from ipsecsim.netipsec.enums import Direction, Level, Mode, SaState
from ipsecsim.netipsec.sastate import TRANSITIONS, SaEvent, SaStateError, next_state

ALLOWED = [(state, event, after) for state, row in TRANSITIONS.items() for event, after in row.items()]


@pytest.mark.parametrize(("state", "event", "after"), ALLOWED, ids=lambda v: str(v))
def test_every_allowed_transition(state, event, after):
    assert next_state(state, event) is after


def test_the_table_is_key_c_s_state_machine():
    assert sorted((str(s), str(e), str(a)) for s, e, a in ALLOWED) == sorted([
        ("None", "add", "mature"),
        ("larval", "update", "mature"), ("larval", "larval expire", "dead"), ("larval", "delete", "dead"),
        ("mature", "update", "mature"), ("mature", "soft expire", "dying"), ("mature", "hard expire", "dead"),
        ("mature", "delete", "dead"),
        ("dying", "update", "mature"), ("dying", "hard expire", "dead"), ("dying", "delete", "dead"),
    ])


@pytest.mark.parametrize(("state", "event"), [
    (SaState.DEAD, SaEvent.DELETE),  # a dead SA is out of the SAD: nothing moves it
    (SaState.DYING, SaEvent.SOFT_EXPIRE),  # soft expiry happens once
    (SaState.LARVAL, SaEvent.SOFT_EXPIRE),  # larval SAs have no lifetimes running
    (SaState.MATURE, SaEvent.ADD),
    (None, SaEvent.UPDATE),  # key_update needs an SA in the SAD
])  # fmt: skip
def test_a_refused_transition_raises(state, event):
    with pytest.raises(SaStateError, match="can't handle event") as e:
        next_state(state, event)
    assert (e.value.state, e.value.event) == (state, event)


def test_enums_are_the_words_setkey_reads_and_prints():
    assert SaState.MATURE == "mature" and f"state={SaState.DYING}" == "state=dying"
    assert Mode("tunnel") is Mode.TUNNEL and [str(m) for m in Mode] == ["any", "transport", "tunnel"]
    assert [str(lv) for lv in Level] == ["default", "use", "require", "unique"]
    assert {"in": 1, "out": 2}[Direction.OUT] == 2  # hashes as the word: old tables keep working
    with pytest.raises(ValueError):
        Level("required")
