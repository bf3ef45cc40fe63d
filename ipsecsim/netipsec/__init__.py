"""The IPsec core, sans-IO, mirroring FreeBSD's sys/netipsec: ESP, anti-replay, SAs.

``SecurityAssociation`` is usable alone, as scapy's is (DESIGN.md)::

    sa = SecurityAssociation.from_setkey(
        'add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";')
    outer = sa.encapsulate(inner)   # the whole outer IP packet
    inner = sa.decapsulate(outer)   # or an EspDrop subclass naming FreeBSD's counter

The key engine (:class:`KeyDB`: SAD, SPD, ACQUIRE, lifetimes; ``key.c``) holds a
host's SAs and policies (:class:`SecurityPolicy`) and tells PF_KEY listeners
(:class:`PfkeyMessage`) what happens. :class:`SaState`, :class:`Mode`, :class:`Level`
and :class:`Direction` name its values (string enums: equal to setkey's words).
"""

from .algorithms import (
    AUTH_ALGORITHMS,
    ENC_ALGORITHMS,
    SADB_X_EXT_CYCSEQ,
    SADB_X_EXT_PMASK,
    SADB_X_EXT_PRAND,
    SADB_X_EXT_PSEQ,
    SADB_X_EXT_PZERO,
    SADB_X_SAFLAGS_ESN,
    AuthAlgorithm,
    EncAlgorithm,
)
from .errors import (
    EspBadauth,
    EspBadenc,
    EspBadilen,
    EspDrop,
    EspDummy,
    EspHdrops,
    EspNopf,
    EspNotdb,
    EspNoxform,
    EspPdrops,
    EspQfull,
    EspReplay,
    EspToobig,
    EspWrap,
    SetkeyError,
)
from .enums import Direction, Level, Mode, SaState
from .esp import peek_spi
from .keydb import BOOT_EPOCH, IpsecStat, KeyDB, SaInfo
from .outer import ip_id_counter, OuterHeaderConfig, RandomIpId
from .pfkey import PfkeyError, PfkeyMessage
from .policy import IpsecRequest, SaIndex, SecurityPolicy
from .replay import ReplayWindow
from .sa import Lifetime, LifetimeCurrent, ReqId, SecurityAssociation, Spi
from .stats import EspStat

__all__ = [
    "SecurityAssociation",
    "Spi",
    "ReqId",
    "KeyDB",
    "IpsecStat",
    "SaInfo",
    "BOOT_EPOCH",
    "SecurityPolicy",
    "IpsecRequest",
    "SaIndex",
    "SaState",
    "Mode",
    "Level",
    "Direction",
    "PfkeyMessage",
    "PfkeyError",
    "Lifetime",
    "LifetimeCurrent",
    "OuterHeaderConfig",
    "ip_id_counter",
    "RandomIpId",
    "ReplayWindow",
    "EspStat",
    "peek_spi",
    "EncAlgorithm",
    "AuthAlgorithm",
    "ENC_ALGORITHMS",
    "AUTH_ALGORITHMS",
    "SADB_X_EXT_CYCSEQ",
    "SADB_X_EXT_PSEQ",
    "SADB_X_EXT_PRAND",
    "SADB_X_EXT_PZERO",
    "SADB_X_EXT_PMASK",
    "SADB_X_SAFLAGS_ESN",
    "EspDrop",
    "EspHdrops",
    "EspNopf",
    "EspNotdb",
    "EspNoxform",
    "EspBadilen",
    "EspWrap",
    "EspBadenc",
    "EspBadauth",
    "EspReplay",
    "EspToobig",
    "EspPdrops",
    "EspQfull",
    "EspDummy",
    "SetkeyError",
]
