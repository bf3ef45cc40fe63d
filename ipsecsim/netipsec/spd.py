"""The SPD: global and ifnet policies, and policy lookup. [S4.2]-[S4.5] [S7.10] [S7.11]

Global policies sorted by priority, ifnet policies (if_ipsec) in a list of
their own that normal lookups and user deletes never touch [S4.2]-[S4.4].

Depends on the clock and knobs, the sysctl tree (``ipsec_get_reqlevel`` reads and
repairs the ``*_deflev`` defaults), the key socket it announces changes to, and the
reqid counter ``unique`` requests draw from. It knows nothing of the SAD.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from .enums import Direction, Level, Mode
from .keyclock import KeyClock, KeyKnobs, SysctlTree
from .keysock import KeySocket, SendTo
from .pfkey import PfkeyError, policy_fields
from .policy import IPSEC_MANUAL_REQID_MAX, IPSEC_MAXREQ, IpsecRequest, SecurityPolicy
from .reqid import ReqidCounter

__all__ = ["Spd"]

# The default levels ipsec_get_reqlevel checks, under net.inet.ipsec or net.inet6.ipsec6.
_DEFLEV_NAMES = ("esp_trans_deflev", "esp_net_deflev", "ah_trans_deflev", "ah_net_deflev")
_DIRECTIONS = (Direction.IN, Direction.OUT)
_LEVELS = tuple(Level)

Address = IPv4Address | IPv6Address


class Spd:
    """``key.c``'s SPD requests, ifnet registration, and policy lookup."""

    def __init__(self, clock: KeyClock, knobs: KeyKnobs, sysctl: SysctlTree, keysock: KeySocket,
                 newreqid: ReqidCounter):  # fmt: skip
        self._clock = clock
        self._knob = knobs
        self._sysctl = sysctl
        self._keysock = keysock
        self._newreqid = newreqid
        # keyed by Direction members; a caller's "in"/"out" finds them too (StrEnum)
        self._sptree: dict[str, list[SecurityPolicy]] = {d: [] for d in _DIRECTIONS}
        self._sptree_ifnet: dict[str, list[SecurityPolicy]] = {d: [] for d in _DIRECTIONS}
        self._byspid: dict[int, SecurityPolicy | None] = {}  # None: reserved while registering
        self._policy_id = 0

    def _getnewspid(self) -> int:
        """``key_getnewspid``: ++policy_id (wrapping to 1), skipping ids in use. [S4.2]"""
        for _ in range(max(self._knob("net.key.spi_trycnt"), 1)):
            self._policy_id = 1 if self._policy_id == 0xFFFFFFFF else self._policy_id + 1
            if self._policy_id not in self._byspid:
                return self._policy_id
        return 0

    def _msg2sp(self, policy: SecurityPolicy) -> tuple[IpsecRequest, ...]:
        """``key_msg2sp``'s checks on the requests; ``unique`` gets a reqid. [S2.6] [S10.7]"""
        if policy.policy != "ipsec":
            return ()
        if not policy.requests:
            raise PfkeyError("EINVAL", "policy requests required")
        if len(policy.requests) > IPSEC_MAXREQ:
            raise PfkeyError("EINVAL", "too many ipsecrequests")
        out = []
        for request in policy.requests:
            if request.proto not in ("esp", "ah", "ipcomp"):
                raise PfkeyError("EPROTONOSUPPORT", f"invalid proto type={request.proto}")
            if request.mode not in (Mode.TRANSPORT, Mode.TUNNEL):
                raise PfkeyError("EINVAL", f"invalid mode={request.mode}")
            if request.level not in _LEVELS:
                raise PfkeyError("EINVAL", f"invalid level={request.level}")
            mode, level = Mode(request.mode), Level(request.level)
            if (request.src is None) != (request.dst is None):
                raise PfkeyError("EINVAL", "invalid request address length")
            if request.src is None and mode is Mode.TUNNEL:
                raise PfkeyError("EINVAL", "missing request addresses")
            if request.src is not None and request.dst is not None and request.src.version != request.dst.version:
                raise PfkeyError("EINVAL", "address family doesn't match")
            reqid = 0
            if level is Level.UNIQUE:
                reqid = request.reqid if 0 < request.reqid <= IPSEC_MANUAL_REQID_MAX else self._newreqid()
            out.append(IpsecRequest(request.proto, mode, request.src, request.dst, level, reqid))
        return tuple(out)

    def spdadd(self, policy: SecurityPolicy, *, now: float, update: bool = False, pid: int = 0) -> SecurityPolicy:
        """``key_spdadd``: a global policy, inserted by priority with a new spid. [S7.11]

        Direction in/out and type discard/none/ipsec only (EINVAL); an identical
        selector is EEXIST unless ``update`` (SPDUPDATE replaces it). Returns the
        stored policy (``policy`` itself, its spid and reqids filled in).
        """
        self._clock.at(now)
        if policy.direction not in _DIRECTIONS:
            raise PfkeyError("EINVAL", "invalid SP direction")
        if policy.policy not in ("discard", "none", "ipsec"):
            raise PfkeyError("EINVAL", "invalid policy type")
        if policy.policy == "ipsec" and not policy.requests:
            raise PfkeyError("EINVAL", "policy requests required")
        if policy.src.version != policy.dst.version:
            raise PfkeyError("EINVAL", "invalid sockaddr")
        tree = self._sptree[policy.direction]
        old = next((sp for sp in tree if sp.same_selector(policy)), None)
        if old is not None and not update:
            raise PfkeyError("EEXIST", "a SP entry exists already")
        requests = self._msg2sp(policy)
        if old is not None:
            tree.remove(old)
            del self._byspid[old.spid]
        spid = self._getnewspid()
        if spid == 0:
            raise PfkeyError("ENOBUFS", "failed to allocate policy id")
        policy.direction = Direction(policy.direction)
        policy.requests, policy.spid, policy.scope, policy.ifname = requests, spid, "global", None
        policy.created = policy.lastused = float(now)
        position = next((i for i, sp in enumerate(tree) if policy.priority < sp.priority), len(tree))
        tree.insert(position, policy)
        self._byspid[spid] = policy
        kind = "SADB_X_SPDUPDATE" if update else "SADB_X_SPDADD"
        self._keysock.send(kind, "unspec", policy_fields(policy, request=True), pid=pid, to=SendTo.ALL)
        return policy

    def spddelete(self, policy: SecurityPolicy, *, pid: int = 0) -> None:
        """``key_spddelete``: by selector and direction, global policies only; EINVAL if none. [S4.4]"""
        if policy.direction not in _DIRECTIONS or policy.policy not in ("discard", "none", "ipsec"):
            raise PfkeyError("EINVAL", "invalid SP direction or type")
        if policy.src.version != policy.dst.version:
            raise PfkeyError("EINVAL", "invalid sockaddr")
        tree = self._sptree[policy.direction]
        found = next((sp for sp in tree if sp.same_selector(policy)), None)
        if found is None:
            raise PfkeyError("EINVAL", "no SP found")
        tree.remove(found)
        del self._byspid[found.spid]
        echo = SecurityPolicy(policy.src, policy.dst, policy.sport, policy.dport, policy.ul_proto,
                              policy.direction, policy.policy, policy.requests, policy.priority, spid=found.spid)  # fmt: skip
        self._keysock.send("SADB_X_SPDDELETE", "unspec", policy_fields(echo, request=True), pid=pid, to=SendTo.ALL)

    def spddelete2(self, spid: int, *, pid: int = 0) -> None:
        """``key_spddelete2``: by spid; EINVAL if unknown, EACCES for an ifnet policy. [S4.4]"""
        found = self._byspid.get(spid)
        if found is None:
            raise PfkeyError("EINVAL", f"no SP found for id {spid}")
        if found.scope == "ifnet":
            raise PfkeyError("EACCES", f"failed to delete SP with id {spid}")
        self._sptree[found.direction].remove(found)
        del self._byspid[spid]
        fields_ = {"policy": {"type": "discard", "dir": "any", "id": spid, "scope": "any", "priority": 0}}
        self._keysock.send("SADB_X_SPDDELETE2", "unspec", fields_, pid=pid, to=SendTo.ALL)

    def spdflush(self, *, pid: int = 0) -> None:
        """``key_spdflush``: every global policy; ifnet ones stay. [S4.4]"""
        for tree in self._sptree.values():
            for sp in tree:
                del self._byspid[sp.spid]
            tree.clear()
        self._keysock.send("SADB_X_SPDFLUSH", "unspec", {}, pid=pid, to=SendTo.ALL)

    def spddump(self, scope: str = "any", *, pid: int = 0, now: float | None = None) -> list[SecurityPolicy]:
        """``key_spddump``: per direction (in, out) global then ifnet, each in list order. [S7.10]

        ``scope`` "global" is setkey ``-g``, "ifnet" ``-t``. ENOENT when empty. The
        SADB_X_SPDDUMP messages are sent at ``now`` (default: the key engine's last time).
        """
        self._clock.at(now)
        out: list[SecurityPolicy] = []
        for direction in _DIRECTIONS:
            if scope in ("any", "global"):
                out += self._sptree[direction]
            if scope in ("any", "ifnet"):
                out += self._sptree_ifnet[direction]
        if not out:
            raise PfkeyError("ENOENT", "no SPD entries")
        if self._keysock.promiscuous():
            for seq, sp in zip(range(len(out) - 1, -1, -1), out):
                self._keysock.send("SADB_X_SPDDUMP", "unspec", policy_fields(sp), seq=seq, pid=pid, reserved=1, to=SendTo.ONE)
        return out

    def register_ifnet(self, policies: list[SecurityPolicy], *, now: float) -> None:
        """``key_register_ifnet``: spids for every policy first (EAGAIN if none), then the ifnet
        lists and one SADB_X_SPDADD broadcast each. [S4.2]"""
        self._clock.at(now)
        spids: list[int] = []
        for _ in policies:
            spid = self._getnewspid()
            if spid == 0:
                for taken in spids:
                    del self._byspid[taken]
                raise PfkeyError("EAGAIN", "failed to allocate policy id")
            spids.append(spid)
            self._byspid[spid] = None  # reserved while allocating
        for policy, spid in zip(policies, spids):
            policy.spid, policy.scope, policy.created = spid, "ifnet", float(now)
            policy.direction = Direction(policy.direction)
            self._sptree_ifnet[policy.direction].append(policy)
            self._byspid[spid] = policy
        for policy in policies:
            self._keysock.send("SADB_X_SPDADD", "unspec", policy_fields(policy), reserved=1, to=SendTo.ALL)

    def unregister_ifnet(self, policies: list[SecurityPolicy]) -> None:
        """``key_unregister_ifnet``: remove them and broadcast SADB_X_SPDDELETE each. [S4.2]"""
        for policy in policies:
            tree = self._sptree_ifnet[policy.direction]
            if any(sp is policy for sp in tree):
                tree.remove(policy)
                self._byspid.pop(policy.spid, None)
        for policy in policies:
            self._keysock.send("SADB_X_SPDDELETE", "unspec", policy_fields(policy), reserved=1, to=SendTo.ALL)

    def allocsp(self, direction: str, src: Address, dst: Address, ul_proto: int, sport: int, dport: int):
        """``key_allocsp``: the first global policy of ``direction`` matching, in priority order. [S4.3]"""
        for sp in self._sptree[direction]:
            if sp.matches(src, dst, ul_proto, sport, dport):
                sp.lastused = self._clock.now
                return sp
        return None

    def has_global_policies(self) -> bool:
        return bool(self._sptree[Direction.IN] or self._sptree[Direction.OUT])

    def level_of(self, policy: SecurityPolicy, request: IpsecRequest) -> Level:
        """``ipsec_get_reqlevel``: "use", "require" or "unique". [S4.5] [S10.8]

        ifnet policies are always "require". First, as FreeBSD does on every call for a
        global policy, each of the policy family's four ``*_deflev`` sysctls that is not
        1 (use), 2 (require) or 3 (unique) is rewritten to 2 (``IPSEC_CHECK_DEFAULT``
        assigns the variable itself). A "default" request then takes its sysctl. A
        default of 3 comes back as IPSEC_LEVEL_UNIQUE, which every caller compares with
        IPSEC_LEVEL_REQUIRE only (``ipsec4_allocsa``, ``ipsec_in_reject``): it acts as
        "use", and is returned as such.
        """
        if policy.scope == "ifnet":
            return Level.REQUIRE
        tree = "net.inet6.ipsec6" if policy.src.version == 6 else "net.inet.ipsec"
        sysctl = self._sysctl
        for name in _DEFLEV_NAMES:
            value = sysctl.get(f"{tree}.{name}")
            if value is not None and value not in (1, 2, 3):
                sysctl[f"{tree}.{name}"] = 2
        if request.level != Level.DEFAULT:
            return Level(request.level)
        if request.proto == "ipcomp":
            return Level.USE
        name = f"{'ah' if request.proto == 'ah' else 'esp'}_{'net' if request.mode == Mode.TUNNEL else 'trans'}_deflev"
        value = sysctl.get(f"{tree}.{name}")
        if value is None:
            value = sysctl.get(f"net.inet.ipsec.{name}", 1)
        return Level.REQUIRE if value == 2 else Level.USE
