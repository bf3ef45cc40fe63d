"""The key engine's clock and sysctl knobs: what every part of it reads.

Sans-IO: time comes in as ``now`` (simulated seconds) with each request, and the
clock keeps the last one for the requests that carry none (a dump, a lookup).
Times the kernel would keep in ``time_second`` are whole seconds of a simulated
epoch, ``epoch + int(now)`` (default 2026-01-01 00:00:00 UTC at boot), so lifetime
checks compare whole seconds with ``>`` as FreeBSD does. [S7.6]
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["BOOT_EPOCH", "KNOBS", "KeyClock", "KeyKnobs"]

BOOT_EPOCH = 1767225600  # 2026-01-01 00:00:00 UTC: the simulated clock's time_second at now == 0

# (name, default, description, minimum, maximum): the kernel registers these. [S7.12]
KNOBS: tuple[tuple[str, int, str, int | None, int | None], ...] = (
    ("net.key.debug", 0, "", None, None),
    ("net.key.spi_trycnt", 1000, "", 0, None),
    ("net.key.spi_minval", 0x100, "", 0, 0xFFFFFFFF),
    ("net.key.spi_maxval", 0x0FFFFFFF, "", 0, 0xFFFFFFFF),
    ("net.key.int_random", 60, "", None, None),
    ("net.key.larval_lifetime", 30, "", 0, None),
    ("net.key.blockacq_count", 10, "", None, None),
    ("net.key.blockacq_lifetime", 20, "", None, None),
    ("net.key.esp_auth", 0, "", None, None),
    ("net.key.esp_keymin", 256, "", None, None),
    ("net.key.ah_keymin", 128, "", None, None),
    ("net.key.preferred_oldsa", 1, "", None, None),
    ("net.key.spdcache.maxentries", 0, "Maximum number of entries in the SPD cache (power of 2, 0 to disable)", 0, None),
    ("net.key.spdcache.threshold", 32, "Number of SPs that make the SPD cache active", 0, None),
)  # fmt: skip
_DEFAULTS = {name: default for name, default, *_ in KNOBS}


class KeyClock:
    """The last ``now`` the key engine was told, and ``time_second``."""

    __slots__ = ("epoch", "now")

    def __init__(self, epoch: int = BOOT_EPOCH):
        self.epoch = epoch
        self.now = 0.0

    def time_second(self, now: float) -> int:
        """The kernel's ``time_second`` at simulated time ``now``."""
        return self.epoch + int(now)

    def at(self, now: float | None) -> int:
        """Move to ``now`` (None: stay) and return ``time_second`` there."""
        if now is not None:
            self.now = now
        return self.epoch + int(self.now)


class SysctlTree(Protocol):
    """What the key engine needs of its host's sysctl tree (the kernel's ``Sysctl``)."""

    def get(self, name: str, default: Any = None) -> Any: ...

    def __setitem__(self, name: str, value: int) -> object: ...


class KeyKnobs:
    """The ``net.key.*`` sysctls, read on every use as key.c reads its ``V_`` variables."""

    __slots__ = ("sysctl",)

    def __init__(self, sysctl: SysctlTree):
        self.sysctl = sysctl

    def __call__(self, name: str) -> int:
        value = self.sysctl.get(name)
        return _DEFAULTS.get(name, 0) if value is None else value
