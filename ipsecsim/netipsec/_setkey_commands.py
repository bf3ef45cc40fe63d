"""What setkey's grammar hands its actions: one record per kind of statement. [S10.4] [S10.5]"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ._policy_parser import ParsedPolicy
from .algorithms import SADB_X_EXT_CYCSEQ
from .enums import Mode
from .errors import SetkeyError
from .policy import SecurityPolicy
from .sa import Lifetime

__all__ = ["AddCommand", "TableCommand", "PolicyCommand"]


@dataclass(slots=True)
class AddCommand:
    """What one ``add`` statement asks for, as setkey's parser variables hold it. [S10.5]"""

    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    protocol: str | None  # "esp", "esp-old", "ah", "ah-old", "ipcomp", "tcp"; None if left out
    spi: int
    lineno: int
    mode: Mode = Mode.ANY
    reqid: int = 0
    replay: int = 0  # bytes, as typed (p_replay)
    ext: int = SADB_X_EXT_CYCSEQ  # p_ext: sadb_sa_flags
    enc: str | None = None
    enc_key: bytes | None = None
    auth: str | None = None
    auth_key: bytes | None = None
    comp: str | None = None
    lifetime_hard: int = 0
    lifetime_soft: int = 0
    warnings: list[str] = field(default_factory=list)
    kind: str = "add"  # also "get", "delete", "deleteall" (spi 0): the same parser variables
    offset: int = -1  # where the statement starts in setkey's input

    def sa_arguments(self) -> dict[str, Any]:
        """Keyword arguments for :class:`SecurityAssociation`; the kernel's refusals raise.

        Mirrors what ``key_add`` does with the message setkey sends: the SA
        extension carries the replay size (bytes up to 255, else the
        SADB_X_EXT_SA_REPLAY bit count), lifetimes are sent only when non-zero.
        """

        def einval(detail: str) -> SetkeyError:
            return SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", detail=detail)

        if self.protocol in ("ah", "ah-old", "ipcomp", "tcp", "esp-old"):
            raise SetkeyError(f"{self.protocol} SAs are not modelled, only esp", kind="unsupported")
        if self.protocol is None:
            raise einval("no security protocol given")
        if self.enc is None or self.enc_key is None:
            raise einval("ESP needs -E and an encryption key")
        if self.enc == "camellia-cbc":
            raise SetkeyError("camellia-cbc is not modelled", kind="unsupported")
        replay = self.replay
        if replay > 255:
            bits = (replay << 3) & 0xFFFFFFFF  # sadb_x_sa_replay_replay is 32 bits
            if bits > 0xFFFFFFFF - 32:
                raise einval("replay window too large")
            replay = (bits + 7) >> 3
        return {
            "src": self.src,
            "dst": self.dst,
            "spi": self.spi,
            "mode": self.mode,
            "reqid": self.reqid,
            "replay_window": replay,
            "flags": self.ext,
            "enc": self.enc,
            "enc_key": self.enc_key,
            "auth": self.auth,
            "auth_key": self.auth_key or b"",
            "lifetime_hard": Lifetime(addtime=self.lifetime_hard) if self.lifetime_hard else None,
            "lifetime_soft": Lifetime(addtime=self.lifetime_soft) if self.lifetime_soft else None,
        }


@dataclass(slots=True)
class TableCommand:
    """``flush [proto]``, ``dump [proto]``, ``spdflush``, ``spddump``."""

    kind: str
    protocol: str | None
    lineno: int
    warnings: list[str] = field(default_factory=list)
    offset: int = -1  # where the statement starts in setkey's input


@dataclass(slots=True)
class PolicyCommand:
    """``spdadd``/``spdupdate``/``spddelete``: selector and policy, as setkey sends them. [S10.4]

    ``src_prefix``/``dst_prefix`` None mean the full length; ports 0 mean any.
    """

    kind: str
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    src_prefix: int | None
    sport: int
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst_prefix: int | None
    dport: int
    ul_proto: int
    policy: ParsedPolicy
    lineno: int
    warnings: list[str] = field(default_factory=list)
    offset: int = -1  # where the statement starts in setkey's input

    def to_policy(self) -> SecurityPolicy:
        """The :class:`SecurityPolicy` the kernel makes of it; a prefix too long is EINVAL.

        FreeBSD does not check the prefix length; ipsecsim cannot represent a
        /33, so the kernel side refuses it (``Invalid argument``).
        """
        try:
            src = ipaddress.ip_network((self.src, self.src.max_prefixlen if self.src_prefix is None else self.src_prefix), strict=False)
            dst = ipaddress.ip_network((self.dst, self.dst.max_prefixlen if self.dst_prefix is None else self.dst_prefix), strict=False)
        except ValueError as e:
            raise SetkeyError("Invalid argument", kind="kernel", errno="EINVAL", lineno=self.lineno, detail=str(e)) from None
        return SecurityPolicy(src, dst, self.sport, self.dport, self.ul_proto & 0xFF, self.policy.direction,
                              self.policy.policy, self.policy.requests)  # fmt: skip
