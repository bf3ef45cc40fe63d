"""The key engine's named values: SA state, IPsec mode, request level, policy direction.

Each is a :class:`enum.StrEnum` whose values are the words setkey reads and prints
(``state=mature``, ``esp/tunnel/A-B/require``, ``in ipsec``), so a member compares
equal to that word and formats as it: code and output written with the words keep
working while callers move to the members. The numbers PF_KEY carries for them are
``_pfkey_msg``'s tables (``STATES``, ``MODES``, ``LEVELS``, ``DIRS``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SaState", "Mode", "Level", "Direction"]


class SaState(StrEnum):
    """``SADB_SASTATE_*``: where an SA is in its life (:mod:`.sastate` moves it). [S7.6] [S7.7]"""

    LARVAL = "larval"  # SPI reserved (GETSPI), keys not yet given; never used for traffic
    MATURE = "mature"
    DYING = "dying"  # soft lifetime passed: still used, the IKE daemon was told
    DEAD = "dead"  # no longer in the SAD


class Mode(StrEnum):
    """``IPSEC_MODE_*`` of an SA or a request; ``any`` only on SAs (matches either). [S7.1] [S10.7]"""

    ANY = "any"
    TRANSPORT = "transport"
    TUNNEL = "tunnel"


class Level(StrEnum):
    """``IPSEC_LEVEL_*`` of a request: what a missing SA means (``ipsec_get_reqlevel``). [S4.5] [S10.7]"""

    DEFAULT = "default"  # the *_deflev sysctl decides
    USE = "use"  # send in clear without an SA
    REQUIRE = "require"  # drop without an SA
    UNIQUE = "unique"  # require, with an SA of this policy's own reqid


class Direction(StrEnum):
    """``IPSEC_DIR_INBOUND`` / ``IPSEC_DIR_OUTBOUND`` of a policy. [S7.11]"""

    IN = "in"
    OUT = "out"
