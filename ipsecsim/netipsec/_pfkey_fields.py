"""Building PF_KEY messages: the extensions ``key.c`` appends, in its order. [S4.2] [S7.6] [S8.2] [S10.9]

Extension names and members are listed in :mod:`.pfkey`.
"""

from __future__ import annotations

from .enums import SaState

__all__ = [
    "supported_combs", "address_fields", "sa_fields", "dump_fields", "expire_fields",
    "acquire_fields", "policy_fields",
]

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
    out = {"sa": _sa_ext(sa, SaState.LARVAL), "sa2": {"mode": sa.mode, "reqid": sa.reqid, "sequence": 0}}
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
    out = _sa_head(sav, SaState.DEAD if which == "hard" else SaState.DYING)
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
