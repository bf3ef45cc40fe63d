"""``key_newreqid``: the key engine's counter of automatic reqids. [S2.1]

One counter per host (per VNET): if_ipsec interfaces without a reqid and
``unique`` requests without a usable ``:N`` both draw from it. It counts
16385, 16386, ... up to 2^32 - 1, then 16384, 16385, ... (the wrap resets it to its
initial value and returns that); it does not check
whether a value is taken (``ipsec_init_reqid`` does that for interfaces).
The scenario's ``tunnels:`` expansion runs the same counter to know, before the
kernel runs, which reqids the interfaces will get.
"""

from __future__ import annotations

from .policy import IPSEC_MANUAL_REQID_MAX

__all__ = ["ReqidCounter", "AUTO_REQID_FIRST"]

AUTO_REQID_FIRST = IPSEC_MANUAL_REQID_MAX + 2  # 16385: auto_reqid starts at MAX + 1 and pre-increments


class ReqidCounter:
    """``key_newreqid``'s static ``auto_reqid``: call it for the next value."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = IPSEC_MANUAL_REQID_MAX + 1

    def __call__(self) -> int:
        self._last = IPSEC_MANUAL_REQID_MAX + 1 if self._last == 0xFFFFFFFF else self._last + 1
        return self._last
