"""``kdebug_sadb``: a :class:`~.pfkey.PfkeyMessage` as ``setkey -x`` and ``-v`` print it. [S8.2] [S10.9]

FreeBSD's ``sys/netipsec/key_debug.c`` format, with the lengths the real message
would have (``struct sadb_*`` sizes, sockaddrs padded to 8 bytes).
"""

from __future__ import annotations

from ipaddress import IPv6Address

from ._pfkey_msg import (
    DIRS,
    EXT_TYPES,
    LEVELS,
    MODES,
    MSG_TYPES,
    POLICY_TYPES,
    PROTOS,
    SATYPES,
    SCOPES,
    STATES,
    PfkeyMessage,
)

__all__ = ["kdebug_sadb", "ipsec_hexdump", "message_length"]


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
