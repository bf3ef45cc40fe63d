"""PF_KEY messages as listeners see them, the key engine's errors, and ``kdebug_sadb``.

The key engine does not build PF_KEY bytes; a :class:`PfkeyMessage` holds the
header values and the extensions in readable form, in the order the kernel
appends them (``fields`` is an ordered dict keyed by extension name). What a
``setkey -x`` prints for one is :func:`kdebug_sadb`, FreeBSD's
``sys/netipsec/key_debug.c`` format, with the lengths the real message would
have (``struct sadb_*`` sizes, sockaddrs padded to 8 bytes). [S4.2] [S8.2]

Extension names and their members:

* ``sa``: spi, replay (bytes, capped at 255), state, auth, encrypt (setkey
  names or None), auth_id, encrypt_id (SADB ids), flags;
* ``sa2``: mode, reqid, sequence; ``sa_replay``: replay (bits);
* ``lifetime_current`` / ``lifetime_hard`` / ``lifetime_soft``: allocations,
  bytes, addtime, usetime (times in ``time_second``, the simulated epoch);
* ``src`` / ``dst``: address, prefixlen, proto (255 = any), port;
* ``key_auth`` / ``key_encrypt``: bits, key (bytes);
* ``policy``: type, dir, id (the spid), scope, priority (the ifindex for ifnet
  policies), requests (tuple of :class:`~.policy.IpsecRequest`);
* ``proposal``: replay, combs (tuple of dicts with sadb_comb's member names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

__all__ = [
    "PfkeyMessage",
    "PfkeyError",
    "STRERROR",
    "MSG_TYPES",
    "SATYPES",
    "EXT_TYPES",
    "kdebug_sadb",
    "ipsec_hexdump",
]

# sys/net/pfkeyv2.h
MSG_TYPES = {
    "SADB_RESERVED": 0, "SADB_GETSPI": 1, "SADB_UPDATE": 2, "SADB_ADD": 3, "SADB_DELETE": 4,
    "SADB_GET": 5, "SADB_ACQUIRE": 6, "SADB_REGISTER": 7, "SADB_EXPIRE": 8, "SADB_FLUSH": 9,
    "SADB_DUMP": 10, "SADB_X_PROMISC": 11, "SADB_X_PCHANGE": 12, "SADB_X_SPDUPDATE": 13,
    "SADB_X_SPDADD": 14, "SADB_X_SPDDELETE": 15, "SADB_X_SPDGET": 16, "SADB_X_SPDACQUIRE": 17,
    "SADB_X_SPDDUMP": 18, "SADB_X_SPDFLUSH": 19, "SADB_X_SPDSETIDX": 20, "SADB_X_SPDEXPIRE": 21,
    "SADB_X_SPDDELETE2": 22,
}  # fmt: skip
SATYPES = {"unspec": 0, "ah": 2, "esp": 3, "ipcomp": 9, "tcp": 11}
EXT_TYPES = {
    "sa": (1, "SA"), "lifetime_current": (2, "LIFETIME_CURRENT"), "lifetime_hard": (3, "LIFETIME_HARD"),
    "lifetime_soft": (4, "LIFETIME_SOFT"), "src": (5, "ADDRESS_SRC"), "dst": (6, "ADDRESS_DST"),
    "key_auth": (8, "KEY_AUTH"), "key_encrypt": (9, "KEY_ENCRYPT"), "proposal": (13, "PROPOSAL"),
    "policy": (18, "POLICY"), "sa2": (19, "SA2"), "sa_replay": (26, "SA_REPLAY"),
}  # fmt: skip
MODES = {"any": 0, "transport": 1, "tunnel": 2}
LEVELS = {"default": 0, "use": 1, "require": 2, "unique": 3}
POLICY_TYPES = {"discard": 0, "none": 1, "ipsec": 2, "entrust": 3, "bypass": 4}
DIRS = {"any": 0, "in": 1, "out": 2}
SCOPES = {"any": 0, "global": 1, "ifnet": 2, "pcb": 4}
STATES = {"larval": 0, "mature": 1, "dying": 2, "dead": 3}
PROTOS = {"esp": 50, "ah": 51, "ipcomp": 108, "tcp": 6}

# strerror(3) in FreeBSD's words for the errnos the key engine returns.
STRERROR = {
    "EEXIST": "File exists",
    "ESRCH": "No such process",
    "EINVAL": "Invalid argument",
    "EACCES": "Permission denied",
    "ENOENT": "No such file or directory",
    "ENOBUFS": "No buffer space available",
    "EAGAIN": "Resource temporarily unavailable",
    "EPROTONOSUPPORT": "Protocol not supported",
    "EAFNOSUPPORT": "Address family not supported by protocol family",
}


class PfkeyError(Exception):
    """The errno a PF_KEY request got back (``key_senderror``); ``str()`` is strerror's text.

    ``detail`` says in plain words why (what ``ipseclog`` would have logged).
    """

    def __init__(self, errno_name: str, detail: str = ""):
        self.errno_name = errno_name
        self.detail = detail
        super().__init__(STRERROR.get(errno_name, errno_name))

    def __repr__(self) -> str:
        return f"PfkeyError({self.errno_name!r}, {self.detail!r})"


@dataclass(frozen=True, slots=True)
class PfkeyMessage:
    """One message the kernel sends up a PF_KEY socket (``sadb_msg`` plus extensions).

    ``type`` is the SADB name ("SADB_ACQUIRE"), ``satype`` "esp"/"ah"/"ipcomp"/
    "unspec", ``time`` the simulated time it was sent, ``reserved`` the
    ``sadb_msg_reserved`` (FreeBSD puts a reference count there). The
    properties read the usual members without digging into ``fields``.
    """

    type: str
    satype: str
    seq: int
    pid: int
    time: float
    fields: dict[str, Any] = field(default_factory=dict)
    reserved: int = 0

    def _get(self, ext: str, member: str) -> Any:
        value = self.fields.get(ext)
        return None if value is None else value.get(member)

    @property
    def src(self):
        """Source address (SA messages, ACQUIRE) or selector address (SPD messages)."""
        return self._get("src", "address")

    @property
    def dst(self):
        return self._get("dst", "address")

    @property
    def spi(self) -> int | None:
        return self._get("sa", "spi")

    @property
    def mode(self) -> str | None:
        return self._get("sa2", "mode")

    @property
    def reqid(self) -> int | None:
        return self._get("sa2", "reqid")

    @property
    def spid(self) -> int | None:
        return self._get("policy", "id")

    @property
    def expire(self) -> str | None:
        """"hard" or "soft" for an SADB_EXPIRE (which lifetime extension it carries)."""
        if self.type != "SADB_EXPIRE":
            return None
        return "hard" if "lifetime_hard" in self.fields else "soft"


# -- kdebug_sadb: setkey -x and -v ----------------------------------------------------------


def _align8(n: int) -> int:
    return (n + 7) & ~7


def _salen(address) -> int:
    return 28 if isinstance(address, IPv6Address) else 16


def _ext_bytes(name: str, value: dict) -> int:
    if name in ("sa", "sa2"):
        return 16
    if name.startswith("lifetime"):
        return 32
    if name == "sa_replay":
        return 8
    if name in ("src", "dst"):
        return 8 + _align8(_salen(value["address"]))
    if name.startswith("key"):
        return 8 + _align8(len(value["key"]))
    if name == "policy":
        return 16 + sum(_request_bytes(r) for r in value.get("requests", ()))
    if name == "proposal":
        return 8 + 72 * len(value["combs"])
    raise KeyError(name)


def _request_bytes(request) -> int:
    addrs = 0 if request.src is None else 2 * _salen(request.src)
    return _align8(8 + addrs)


def message_length(msg: PfkeyMessage) -> int:
    """``sadb_msg_len`` in bytes."""
    return 16 + sum(_ext_bytes(name, value) for name, value in msg.fields.items())


def ipsec_hexdump(data: bytes) -> str:
    """``ipsec_hexdump``: a space before each 4-byte group, a newline every 32 bytes. [S10.9]"""
    out = []
    for i, byte in enumerate(data):
        if i and i % 32 == 0:
            out.append("\n")
        if i % 4 == 0:
            out.append(" ")
        out.append(f"{byte:02x}")
    return "".join(out)


def _sockaddr(address) -> str:
    family = 28 if isinstance(address, IPv6Address) else 2
    return f"sockaddr{{ len={_salen(address)} family={family} addr={address} }}"


def kdebug_sadb(msg: PfkeyMessage) -> list[str]:
    """The lines ``kdebug_sadb()`` prints for ``msg`` (key_debug.c, userland build)."""
    code = MSG_TYPES.get(msg.type, 0)
    short = msg.type[5:] if msg.type.startswith("SADB_") else msg.type
    out = [
        f"sadb_msg{{ version=2 type={code}({short}) errno=0 satype={SATYPES.get(msg.satype, 0)}",
        f"  len={message_length(msg) // 8} reserved={msg.reserved} seq={msg.seq} pid={msg.pid}",
    ]
    for name, value in msg.fields.items():
        ext_code, ext_name = EXT_TYPES[name]
        out.append(f"sadb_ext{{ len={_ext_bytes(name, value) // 8} type={ext_code}({ext_name}) }}")
        out.extend(_EXT_PRINTERS[name.split("_")[0] if name.startswith(("lifetime", "key")) else name](value))
    return out


def _print_sa(v: dict) -> list[str]:
    return [
        f"sadb_sa{{ spi={v['spi']} replay={v['replay']} state={STATES[v['state']]}",
        f"  auth={v['auth_id']} encrypt={v['encrypt_id']} flags=0x{v['flags']:08x} }}",
    ]


def _print_sa2(v: dict) -> list[str]:
    return [f"sadb_x_sa2{{ mode={MODES[v['mode']]} reqid={v['reqid']}",
            f"  reserved1=0 reserved2=0 sequence={v['sequence'] & 0xFFFFFFFF} }}"]  # fmt: skip


def _print_lifetime(v: dict) -> list[str]:
    return [f"sadb_lifetime{{ alloc={v['allocations']}, bytes={v['bytes'] & 0xFFFFFFFF}",
            f"  addtime={v['addtime'] & 0xFFFFFFFF}, usetime={v['usetime'] & 0xFFFFFFFF} }}"]  # fmt: skip


def _print_address(v: dict) -> list[str]:
    return [f"sadb_address{{ proto={v['proto']} prefixlen={v['prefixlen']} reserved=0x0000 }}",
            _sockaddr(v["address"])]  # fmt: skip


def _print_key(v: dict) -> list[str]:
    lines = f"sadb_key{{ bits={v['bits']} reserved=0\n  key={ipsec_hexdump(v['key'])} }}".split("\n")
    return lines


def _print_replay(v: dict) -> list[str]:
    return [f"sadb_x_sa_replay{{ replay={v['replay']} }}"]


def _print_policy(v: dict) -> list[str]:
    scope = v.get("scope", "any")
    label = "ifindex" if scope == "ifnet" else "priority"
    out = [
        f"sadb_x_policy{{ type={POLICY_TYPES[v['type']]} dir={DIRS[v['dir']]} id={v['id']:x} "
        f"scope={SCOPES[scope]} {label}={v.get('priority', 0)} }}"
    ]
    if v["type"] == "ipsec":
        for r in v.get("requests", ()):
            out.append(
                f" {{ len={_request_bytes(r)} proto={PROTOS.get(r.proto, 0)} mode={MODES[r.mode]} "
                f"level={LEVELS[r.level]} reqid={r.reqid & 0xFFFF}"
            )
            if r.src is not None:
                out += [_sockaddr(r.src), _sockaddr(r.dst)]
            out.append(" }")
    return out


def _print_proposal(v: dict) -> list[str]:
    out = [f"sadb_prop{{ replay={v['replay']}"]
    for c in v["combs"]:
        out += [
            f"sadb_comb{{ auth={c['auth']} encrypt={c['encrypt']} flags=0x0000 reserved=0x00000000",
            f"  auth_minbits={c['auth_minbits']} auth_maxbits={c['auth_maxbits']} "
            f"encrypt_minbits={c['encrypt_minbits']} encrypt_maxbits={c['encrypt_maxbits']}",
            f"  soft_alloc={c['soft_allocations']} hard_alloc={c['hard_allocations']} "
            f"soft_bytes={c['soft_bytes']} hard_bytes={c['hard_bytes']}",
            # key_debug.c prints the time members under the allocation/byte labels again.
            f"  soft_alloc={c['soft_addtime']} hard_alloc={c['hard_addtime']} "
            f"soft_bytes={c['soft_usetime']} hard_bytes={c['hard_usetime']} }}",
        ]
    out.append("}")
    return out


_EXT_PRINTERS = {
    "sa": _print_sa, "sa2": _print_sa2, "lifetime": _print_lifetime, "src": _print_address,
    "dst": _print_address, "key": _print_key, "sa_replay": _print_replay, "policy": _print_policy,
    "proposal": _print_proposal,
}  # fmt: skip


# -- building messages (what key.c appends, in its order) ----------------------------------

# Encryption algorithms the kernel offers in an ACQUIRE proposal (key_getcomb_ealg), by
# SADB id: (min, max) key bytes of the enc_xform. AES-GMAC (21) is supported by the
# kernel though ipsecsim does not model it as an SA algorithm.
_ENC_XFORM_KEYS = {11: (0, 256), 12: (16, 32), 13: (16, 32), 15: (32, 32), 20: (16, 32), 21: (16, 32)}
# key_getcomb_ah: HMAC algorithms only, (id, key bytes); prepended, so the last comes first.
_AUTH_XFORM_KEYS = ((3, 20), (5, 32), (6, 48), (7, 64))


def supported_combs(esp_keymin: int, esp_auth: int = 0, ah_keymin: int = 128) -> tuple[dict, ...]:
    """``key_getcomb_ealg``: one comb per encryption algorithm whose max key >= esp_keymin. [S8.2]

    Lifetimes from ``key_getcomb_setlifetime`` with its quirk: soft addtime and
    hard usetime come out 0. With ``net.key.esp_auth`` each algorithm is offered
    with every HMAC of at least ``ah_keymin`` bits.
    """
    base = {"flags": 0, "soft_allocations": 1, "hard_allocations": 1, "soft_bytes": 0, "hard_bytes": 0,
            "soft_addtime": 0, "hard_addtime": 86400, "soft_usetime": 28800, "hard_usetime": 0}  # fmt: skip
    auths = [{"auth": 0, "auth_minbits": 0, "auth_maxbits": 0}]
    if esp_auth:
        auths = [{"auth": alg, "auth_minbits": n * 8, "auth_maxbits": n * 8}
                 for alg, n in reversed(_AUTH_XFORM_KEYS) if n * 8 >= ah_keymin]  # fmt: skip
    combs = []
    for alg, (low, high) in sorted(_ENC_XFORM_KEYS.items()):
        if high * 8 < esp_keymin:
            continue
        enc = {"encrypt": alg, "encrypt_minbits": max(low * 8, esp_keymin), "encrypt_maxbits": high * 8}
        combs += [base | auth | enc for auth in auths]
    return tuple(combs)


def address_fields(src, dst, *, src_prefix=None, dst_prefix=None, proto=255, sport=0, dport=0) -> dict:
    """ADDRESS_SRC and ADDRESS_DST (``key_setsadbaddr``; FULLMASK is the address length)."""
    return {
        "src": {"address": src, "prefixlen": src.max_prefixlen if src_prefix is None else src_prefix,
                "proto": proto, "port": sport},
        "dst": {"address": dst, "prefixlen": dst.max_prefixlen if dst_prefix is None else dst_prefix,
                "proto": proto, "port": dport},
    }  # fmt: skip


def _sa_ext(sa, state: str) -> dict:
    auth = sa.auth
    return {
        "spi": sa.spi, "replay": min(sa.replay.wsize, 255), "state": state,
        "auth": auth.name if auth is not None else None, "encrypt": sa.enc.name,
        "auth_id": auth.sadb_id if auth is not None else 0, "encrypt_id": sa.enc.sadb_id, "flags": sa.flags,
    }  # fmt: skip


def _lifetime(limit) -> dict:
    return {"allocations": limit.allocations, "bytes": limit.bytes, "addtime": limit.addtime,
            "usetime": limit.usetime}  # fmt: skip


def sa_fields(sav) -> dict:
    """The SADB_ADD/UPDATE reply: the request's SA, SA2, addresses, lifetimes (``key_getmsgbuf_x1``).

    setkey sends state 0 (larval) and no sequence in SA2; keys are never echoed.
    """
    sa = sav.sa
    out = {"sa": _sa_ext(sa, "larval"), "sa2": {"mode": sa.mode, "reqid": sa.reqid, "sequence": 0}}
    out |= address_fields(sa.src, sa.dst)
    if sa.lifetime_hard is not None:
        out["lifetime_hard"] = _lifetime(sa.lifetime_hard)
        out["lifetime_soft"] = _lifetime(sa.lifetime_soft)
    return out


def _current(sav, time_second) -> dict:
    current = sav.sa.current
    first = current.firstused
    return {"allocations": current.allocations, "bytes": current.bytes, "addtime": sav.created,
            "usetime": 0 if first is None else time_second(first)}  # fmt: skip


def _sa_head(sav, state: str) -> dict:
    sa, index = sav.sa, sav.sah.index
    out = {"sa": _sa_ext(sa, state), "sa2": {"mode": index.mode, "reqid": index.reqid, "sequence": sa.replay.count}}
    if sa.replay.wsize > 255:
        out["sa_replay"] = {"replay": sa.replay.wsize << 3}
    return out


def dump_fields(sav, time_second) -> dict:
    """One SADB_DUMP/SADB_GET record (``key_setdumpsa``'s dumporder). [S10.9]"""
    sa, index = sav.sa, sav.sah.index
    out = _sa_head(sav, sav.state)
    if sa.lifetime_hard is not None:
        out["lifetime_hard"] = _lifetime(sa.lifetime_hard)
        out["lifetime_soft"] = _lifetime(sa.lifetime_soft)
    out["lifetime_current"] = _current(sav, time_second)
    out |= address_fields(index.src, index.dst)
    if sa.auth is not None and sa.auth_key:
        out["key_auth"] = {"bits": len(sa.auth_key) * 8, "key": sa.auth_key}
    out["key_encrypt"] = {"bits": len(sa.enc_key) * 8, "key": sa.enc_key}
    return out


def expire_fields(sav, which: str, time_second) -> dict:
    """SADB_EXPIRE: SA, SA2, CURRENT and the HARD or SOFT lifetime that expired, addresses. [S7.6]"""
    sa, index = sav.sa, sav.sah.index
    out = _sa_head(sav, "dead" if which == "hard" else "dying")
    out["lifetime_current"] = _current(sav, time_second)
    limit = sa.lifetime_hard if which == "hard" else sa.lifetime_soft
    out[f"lifetime_{which}"] = _lifetime(limit)
    out |= address_fields(index.src, index.dst)
    return out


def acquire_fields(index, policy, combs: tuple[dict, ...]) -> dict:
    """SADB_ACQUIRE: outer addresses, X_POLICY (no requests), SA2 when reqid != 0, PROPOSAL. [S8.2]

    With a TCP or UDP policy selector the policy's ports (and prefixes) go into
    the addresses, as ``key_acquire`` does.
    """
    proto, sport, dport, sprefix, dprefix = 255, 0, 0, None, None
    if policy is not None and policy.ul_proto in (6, 17):
        proto = policy.ul_proto
        if policy.sport:
            sport, sprefix = policy.sport, policy.src.prefixlen
        if policy.dport:
            dport, dprefix = policy.dport, policy.dst.prefixlen
    out = address_fields(index.src, index.dst, src_prefix=sprefix, dst_prefix=dprefix, proto=proto,
                         sport=sport, dport=dport)  # fmt: skip
    if policy is not None:
        out["policy"] = {"type": policy.policy, "dir": policy.direction, "id": policy.spid, "scope": "any",
                         "priority": policy.priority}  # fmt: skip
    if index.reqid:
        out["sa2"] = {"mode": index.mode, "reqid": index.reqid, "sequence": 0}
    out["proposal"] = {"replay": 32, "combs": combs}
    return out


def policy_fields(policy, *, request: bool = False) -> dict:
    """An SP as ``key_setdumpsp`` sends it (addresses, then X_POLICY), or as the SPDADD/
    SPDDELETE reply echoes the request (X_POLICY first). [S4.2] [S7.10]"""
    xpl = {"policy": {"type": policy.policy, "dir": policy.direction, "id": policy.spid,
                      "scope": policy.scope if not request else "any", "priority": policy.priority,
                      "requests": policy.requests if policy.policy == "ipsec" else ()}}  # fmt: skip
    addrs = address_fields(policy.src.network_address, policy.dst.network_address,
                           src_prefix=policy.src.prefixlen, dst_prefix=policy.dst.prefixlen,
                           proto=policy.ul_proto, sport=policy.sport, dport=policy.dport)  # fmt: skip
    return xpl | addrs if request else addrs | xpl
