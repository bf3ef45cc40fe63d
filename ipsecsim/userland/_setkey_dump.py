"""setkey's output: libipsec's ``pfkey_sadump``/``pfkey_spdump``, ``shortdump``. [S10.9] [S10.10] [S10.12]

Formats verified against libipsec/pfkey_dump.c, ipsec_dump_policy.c and
sbin/setkey/setkey.c; times are ``time_t`` values of the simulated clock.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..netipsec import PfkeyError, SecurityAssociation
from ..netipsec.pfkey import ipsec_hexdump
from ..netipsec.policy import IPSEC_MANUAL_REQID_MAX, IPSEC_ULPROTO_ANY
from ..netipsec.setkey_syntax import PROTOCOL_NAMES

__all__ = ["format_sa", "format_policy", "format_short", "render_sad", "render_spd", "ctime4"]

# pfkey_dump.c str_alg_enc / str_alg_auth by SADB id; chacha20-poly1305 as [S10.9] has it.
_ENC_NAMES = {0: "none", 11: "null", 12: "aes-cbc", 13: "aes-ctr", 15: "chacha20-poly1305", 20: "aes-gcm-16"}
_AUTH_NAMES = {0: "none", 3: "hmac-sha1", 251: "null", 252: "tcp-md5", 5: "hmac-sha2-256", 6: "hmac-sha2-384",
               7: "hmac-sha2-512", 9: "aes-xcbc-mac"}  # fmt: skip
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def ctime4(t: int) -> str:
    """``str_time``: ``ctime(&t) + 4``, 20 characters (``Jan  1 00:00:00 2026``); 20 spaces for 0."""
    if t == 0:
        return " " * 20
    d = datetime.fromtimestamp(t, timezone.utc)
    return f"{_MONTHS[d.month - 1]} {d.day:2d} {d.hour:02d}:{d.minute:02d}:{d.second:02d} {d.year}"


def format_sa(sa: SecurityAssociation, info, *, seq: int, pid: int, now: int) -> list[str]:
    """``pfkey_sadump``: one SA as ``setkey -D`` prints it, line by line. [S10.9]

    ``info`` is the key engine's :class:`~ipsecsim.netipsec.SaInfo`; ``now`` is
    setkey's ``time(0)``. Mode and reqid are the SA head's.
    """
    index = info.index
    lines = [f"{index.src} {index.dst}",
             f"\t{index.proto} mode={index.mode} spi={sa.spi}(0x{sa.spi:08x}) "
             f"reqid={index.reqid}(0x{index.reqid:08x})"]  # fmt: skip
    if index.proto == "esp":
        enc = _ENC_NAMES.get(sa.enc.sadb_id, str(sa.enc.sadb_id))
        lines += f"\tE: {enc} {ipsec_hexdump(sa.enc_key)}".split("\n")
    if sa.auth is not None and sa.auth_key:
        auth = _AUTH_NAMES.get(sa.auth.sadb_id, str(sa.auth.sadb_id))
        lines += f"\tA: {auth} {ipsec_hexdump(sa.auth_key)}".split("\n")
    lines.append(f"\tseq=0x{sa.replay.count & 0xFFFFFFFF:08x} replay={sa.replay.wsize} "
                 f"flags=0x{sa.flags:08x} state={info.state} ")  # fmt: skip
    hard, soft, cur = sa.lifetime_hard, sa.lifetime_soft, sa.current
    diff = 0 if info.created == 0 else now - info.created
    lines += [
        f"\tcreated: {ctime4(info.created)}\tcurrent: {ctime4(now)}",
        f"\tdiff: {diff}(s)\thard: {hard.addtime if hard else 0}(s)\tsoft: {soft.addtime if soft else 0}(s)",
        f"\tlast: {ctime4(info.firstused)}\thard: {hard.usetime if hard else 0}(s)\t"
        f"soft: {soft.usetime if soft else 0}(s)",
        f"\tcurrent: {cur.bytes}(bytes)\thard: {hard.bytes if hard else 0}(bytes)\t"
        f"soft: {soft.bytes if soft else 0}(bytes)",
        f"\tallocated: {cur.allocations}\thard: {hard.allocations if hard else 0}\t"
        f"soft: {soft.allocations if soft else 0}",
        f"\tsadb_seq={seq} pid={pid} refcnt=1",
    ]
    return lines


def _prefport(prefix: int, full: int, port: int, ul_proto: int) -> str:
    """``str_prefport``: ``/len`` unless full, then ``[port]``/``[any]`` (nothing for icmp6)."""
    text = "" if prefix == full else f"/{prefix}"
    if ul_proto != 58:
        text += f"[{port}]" if port else "[any]"
    return text


def _upperspec(ul_proto: int, sport: int, dport: int) -> str:
    """``str_upperspec``: any, icmp6 [type,code], ip4, a protocol name or number."""
    if ul_proto == IPSEC_ULPROTO_ANY:
        return "any"
    if ul_proto == 58:
        return "icmp6" + ("" if not sport and not dport else f" {sport},{dport}")
    if ul_proto == 4:
        return "ip4"
    return PROTOCOL_NAMES.get(ul_proto, str(ul_proto))


def _request(request) -> str:
    """``ipsec_dump_ipsecrequest``; the reqid field is 16 bits wide [S2.5] [S10.10]."""
    addrs = f"{request.src}-{request.dst}" if request.src is not None else ""
    text = f"{request.proto}/{request.mode}/{addrs}/{request.level}"
    reqid = request.reqid & 0xFFFF
    if reqid:
        text += f"{'#' if reqid > IPSEC_MANUAL_REQID_MAX else ':'}{reqid}"
    return text


def format_policy(sp, *, seq: int, pid: int) -> list[str]:
    """``pfkey_spdump``: one policy as ``setkey -DP`` prints it. [S10.10]"""
    src = f"{sp.src.network_address}{_prefport(sp.src.prefixlen, sp.src.max_prefixlen, sp.sport, sp.ul_proto)}"
    dst = f"{sp.dst.network_address}{_prefport(sp.dst.prefixlen, sp.dst.max_prefixlen, sp.dport, sp.ul_proto)}"
    lines = [f"{src} {dst} {_upperspec(sp.ul_proto, sp.sport, sp.dport)}", f"\t{sp.direction} {sp.policy}"]
    if sp.policy == "ipsec":
        lines += [f"\t{_request(r)}" for r in sp.requests]
    tail = f"ifname={sp.ifname}" if sp.scope == "ifnet" and sp.ifname else ""
    lines += [f"\tspid={sp.spid} seq={seq} pid={pid} scope={sp.scope} {tail}", "\trefcnt=1"]
    return lines


def format_short(sa: SecurityAssociation, info, now: int) -> str:
    """``shortdump``: ``MMSS p s spi age/hard src -> dst``. [S10.12]"""
    states = {"larval": "L", "mature": "M", "dying": "D", "dead": "d"}
    line = f"{(now % 3600) // 60:02d}{now % 60:02d} {info.index.proto:<3} {states[info.state]:<1} {sa.spi:08x}"
    if sa.lifetime_hard is not None:
        age = 0 if info.created == 0 else now - info.created
        hard = sa.lifetime_hard.addtime
        line += (" big/" if age >= 1000 else f" {age:3d}/") + ("big" if hard >= 1000 else f"{hard:<3d}")
    else:
        line += " ???/???"
    return f"{line} {info.index.src} -> {info.index.dst}"


def render_sad(keydb, *, pid: int, now: float, proto: str | None = None) -> str:
    """``setkey -D``'s whole output (``No SAD entries.`` when empty)."""
    try:
        sas = keydb.dump(proto, pid=pid, now=now)
    except PfkeyError as e:
        return _errmsg(e, "SADB_DUMP") + ".\n"
    t = keydb.time_second(now)
    lines = []
    for seq, sa in zip(range(len(sas) - 1, -1, -1), sas):
        lines += format_sa(sa, keydb.sa_info(sa), seq=seq, pid=pid, now=t)
    return "".join(line + "\n" for line in lines)


def render_spd(keydb, *, pid: int, scope: str = "any", now: float | None = None) -> str:
    """``setkey -DP``'s whole output (``No SPD entries.`` when empty); ``now``: when it is asked."""
    try:
        policies = keydb.spddump(scope, pid=pid, now=now)
    except PfkeyError as e:
        return _errmsg(e, "SADB_X_SPDDUMP") + ".\n"
    lines = []
    for seq, sp in zip(range(len(policies) - 1, -1, -1), policies):
        lines += format_policy(sp, seq=seq, pid=pid)
    return "".join(line + "\n" for line in lines)


def _errmsg(error: PfkeyError, msg_type: str) -> str:
    """postproc(): strerror, except ENOENT which names what was missing. [S10.3]"""
    if error.errno_name == "ENOENT":
        return {"SADB_DUMP": "No SAD entries", "SADB_X_SPDDUMP": "No SPD entries"}.get(msg_type, "No entry")
    return str(error)
