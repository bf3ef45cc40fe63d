"""if_ipsec(4): the route-based IPsec tunnel interface (sys/net/if_ipsec.c).

An ``ipsecN`` interface owns four security policies (IPv4/IPv6 x in/out) that
it registers with the key engine when a tunnel is set [S4]. Packets routed into
it are counted, tapped (DLT_NULL) and handed to IPsec with its outbound policy
[S5]; tunnel-mode ESP arriving for its reqid and endpoints is attributed to it
[S9.4]. The interface itself does no crypto.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
import re
from typing import TYPE_CHECKING, Final, Literal

from ..netipsec.enums import Direction, Level, Mode
from ..netipsec.errnos import KernelError
from ..netipsec.policy import IpsecRequest, SecurityPolicy
from ..packet.ipversion import IPV4, IpVersion
from .drops import DropReason
from .ifnet import IFF_MONITOR, IFF_MULTICAST, IFF_POINTOPOINT, IFF_RUNNING, IFF_UP, Ifnet
from .tags import PacketTags

if TYPE_CHECKING:
    from .host import Host

__all__ = ["IpsecIf", "IpsecSoftcs", "IfIpsecError", "create_ipsec", "init_reqid", "IPSEC_MTU", "IPSEC_MTU_MIN",
           "IPSEC_MTU_MAX"]

IPSEC_MTU, IPSEC_MTU_MIN, IPSEC_MTU_MAX = 1400, 1280, 8192  # [S1.1]
IPSEC_REQID_TRYCNT: Final = 64  # [S2.2]
_NAME = re.compile(r"ipsec(\d+)$")
_ANY4, _ANY6 = IPv4Network("0.0.0.0/0"), IPv6Network("::/0")


class IfIpsecError(KernelError):
    """An ioctl the interface refuses; ``errno_name`` is what ifconfig reports."""


def init_reqid(newreqid: Callable[[], int], taken: Callable[[int], bool]) -> int:
    """``ipsec_init_reqid``'s choice [S2.2]: the first ``key_newreqid`` value not ``taken`` by
    another if_ipsec interface, in at most IPSEC_REQID_TRYCNT - 1 draws; EEXIST if all are.

    Pure: the interface passes its host's key engine counter and its neighbours' reqids;
    the scenario's ``tunnels:`` expansion passes its own counter to know the reqids ahead.
    """
    for _ in range(IPSEC_REQID_TRYCNT - 1):
        reqid = newreqid()
        if not taken(reqid):
            return reqid
    raise IfIpsecError("EEXIST", "File exists")


class IpsecIf(Ifnet):
    kind = "ipsec"
    default_mtu = IPSEC_MTU
    mtu_range = (IPSEC_MTU_MIN, IPSEC_MTU_MAX)  # ipsec_ioctl SIOCSIFMTU [S3.9]

    def __init__(self, host: "Host", name: str, index: int):
        # ipsec_clone_create [S1.3]: POINTOPOINT|MULTICAST, no reqid, no tunnel, no policies.
        super().__init__(host, name, index, IFF_POINTOPOINT | IFF_MULTICAST)
        self._reqid = 0
        # The last (SA, inbound policy) found to match: SA endpoints never change and a new
        # tunnel brings new policy objects, so the address comparison is done once per pair.
        self._owned: tuple = (None, None)
        self.family = 0  # outer family of the tunnel; 0 when none is set
        self.src: IPv4Address | IPv6Address | None = None
        self.dst: IPv4Address | IPv6Address | None = None
        self.tunnel_fib = 0  # sc->fibnum: the FIB the ESP packets are routed in
        self.policies: list[SecurityPolicy] = []  # sp[0..3]: v4 in, v4 out, v6 in, v6 out [S1.4]
        if host.ipsec_softcs is None:
            host.ipsec_softcs = IpsecSoftcs(host)
        self._softcs = host.ipsec_softcs

    # -- reqid [S2] ---------------------------------------------------------------------

    @property
    def reqid(self) -> int:
        return self._reqid

    @reqid.setter
    def reqid(self, reqid: int) -> None:
        """Keep the host's reqid index (FreeBSD's ipsec_idhtbl hash) in step with the softc."""
        by_reqid = self.host.ipsec.ipsec_ifs
        if self._reqid:
            holders = by_reqid[self._reqid]
            holders.remove(self)
            if not holders:
                del by_reqid[self._reqid]
        self._reqid = reqid
        if reqid:
            by_reqid.setdefault(reqid, []).append(self)

    def _reqid_in_use(self, reqid: int) -> bool:
        """ipsec_check_reqid: does another ipsec interface of the host have this reqid? [S2.2]"""
        return any(i is not self for i in self.host.ipsec.ipsec_ifs.get(reqid, ()))

    def _init_reqid(self) -> None:
        """ipsec_init_reqid: a reqid from the key engine's counter, unless one is set [S2.2]."""
        if not self.reqid:
            self.reqid = init_reqid(self.host.keydb.newreqid, self._reqid_in_use)

    def set_reqid(self, reqid: int) -> None:
        """ipsec_set_reqid (ioctl IPSECSREQID, a uint32_t) [S2.3]."""
        reqid &= 0xFFFFFFFF
        if reqid and reqid == self.reqid:
            return
        if reqid:
            if self._reqid_in_use(reqid):
                raise IfIpsecError("EEXIST", "File exists")
            self.reqid = reqid
        else:
            self._init_reqid()
        if self.family:
            self._set_tunnel(self.src, self.dst)  # new policies, new spids [S2.3] [S3.4]

    # -- tunnel [S3] [S4] ----------------------------------------------------------------

    def set_tunnel(self, src: IPv4Address | IPv6Address, dst: IPv4Address | IPv6Address) -> None:
        """SIOCSIFPHYADDR / _IN6, validated in FreeBSD's order [S3.1], then ipsec_set_addresses [S3.2]."""
        if src.version != dst.version:
            raise IfIpsecError("EINVAL", "Invalid argument")
        if src.is_unspecified or dst.is_unspecified:
            raise IfIpsecError("EADDRNOTAVAIL", "Can't assign requested address")
        if (self.family and self.src == src and self.dst == dst and self.policies
                and self.policies[0].requests[0].reqid == self.reqid):
            return
        self._init_reqid()
        self._set_tunnel(src, dst)

    def _set_tunnel(self, src, dst) -> None:
        """ipsec_set_tunnel [S3.4]: new policies registered first, then the old ones go."""
        now = self.host.clock.now
        policies = self._new_policies(src, dst, now)
        self.host.keydb.register_ifnet(policies, now=now)
        self._unregister()
        self.policies = policies
        if self.src is not None:
            self._softcs.unhash_src(self, self.src)
        self.src, self.dst, self.family = src, dst, src.version
        self._softcs.hash_src(self, src)
        self.set_running()

    def _new_policies(self, local, remote, now: float) -> list[SecurityPolicy]:
        """ipsec_newpolicies [S4.1]: 0.0.0.0/0 and ::/0, esp/tunnel/…/unique:reqid, priority = ifindex."""
        policies = []
        for selector in (_ANY4, _ANY6):
            for direction in (Direction.IN, Direction.OUT):
                src, dst = (remote, local) if direction is Direction.IN else (local, remote)
                request = IpsecRequest("esp", Mode.TUNNEL, src, dst, Level.UNIQUE, self.reqid)
                policies.append(SecurityPolicy(src=selector, dst=selector, direction=direction, policy="ipsec",
                                               requests=(request,), priority=self.index, scope="ifnet",
                                               ifname=self.name, created=now))
        return policies

    def _unregister(self) -> None:
        if self.policies:
            self.host.keydb.unregister_ifnet(self.policies)
            self.policies = []

    def delete_tunnel(self) -> None:
        """SIOCDIFPHYADDR (``-tunnel``) [S3.7]: policies gone, RUNNING cleared, reqid kept."""
        self._set_running(False)
        if self.family:
            if self.src is not None:
                self._softcs.unhash_src(self, self.src)
            self._unregister()
            self.family = 0
            self.src = self.dst = None

    def set_running(self) -> None:
        """ipsec_set_running [S3.5] [S3.6]: RUNNING exactly when the outer source is local."""
        self._set_running(bool(self.family and self.src is not None and self.host.is_local(self.src)))

    def _set_running(self, running: bool) -> None:
        was = self.operational
        self.flags = self.flags | IFF_RUNNING if running else self.flags & ~IFF_RUNNING
        if self.operational != was:
            self.host.link_state_changed(self)

    def set_tunnel_fib(self, fib: int) -> None:
        if not 0 <= fib < len(self.host.fibs):  # [S3.9] fib >= rt_numfibs
            raise IfIpsecError("EINVAL", "Invalid argument")
        self.tunnel_fib = fib

    def destroy(self) -> None:
        """ipsec_clone_destroy [S1.5]: the tunnel goes, the reqid is freed, the interface detaches."""
        self.delete_tunnel()
        self.reqid = 0
        self.host.remove_interface(self)

    def policy_for(self, family: IpVersion, direction: str) -> SecurityPolicy | None:
        if not self.policies:
            return None
        return self.policies[(0 if family == IPV4 else 2) + (1 if direction == "out" else 0)]

    # -- output [S5] -----------------------------------------------------------------------

    def output(self, pkt: bytes, family: IpVersion, tags: PacketTags | None = None) -> str | None:
        """ipsec_transmit [S5.2]."""
        host = self.host
        data = self.data
        flags = self.flags
        if not flags & IFF_RUNNING or flags & IFF_MONITOR or not flags & IFF_UP or not self.family:
            data.oerrors += 1
            host.drop(DropReason.NETDOWN, pkt, self)
            return "ENETDOWN"
        version = pkt[0] >> 4 if pkt else 0
        if version not in (4, 6):
            data.oerrors += 1
            host.drop(DropReason.AFNOSUPPORT, pkt, self)
            return "EAFNOSUPPORT"
        if tags is not None and tags.out_done:  # PACKET_TAG_IPSEC_OUT_DONE: already encapsulated [S5.2] [S5.3]
            data.oerrors += 1
            host.drop(DropReason.IPSEC_LOOP, pkt, self)
            return "ENETDOWN"
        policy = self.policies[1 if version == 4 else 3]  # policy_for(version, "out"), inline
        if self.bpf is not None:
            self.bpf(pkt, True)
        data.opackets += 1  # counted before any SA lookup [S5.2]
        data.obytes += len(pkt)
        _consumed, error = host.ipsec.process_packet(pkt, policy, fib=self.tunnel_fib, ifp=self)
        if error is not None:
            data.oerrors += 1
        return error

    # -- input [S9.4] ------------------------------------------------------------------------

    def attribute(self, sa, inner: bytes) -> "IpsecIf | None | Literal[False]":
        """Does this interface own the SA's packets? Counted and tapped here when it does."""
        if not self.family:
            return None
        policy = self.policies[0 if sa.src.version == 4 else 2]  # policy_for(family, "in"), inline
        owned_sa, owned_policy = self._owned
        if owned_sa is not sa or owned_policy is not policy:
            request = policy.requests[0]
            if request.reqid != sa.reqid or request.dst != sa.dst or request.src != sa.src:
                return None
            self._owned = (sa, policy)
        if not self.flags & IFF_RUNNING or not self.flags & IFF_UP:
            self.host.drop(DropReason.NETDOWN, inner, self)  # ours but down: dropped, no counter [S9.4]
            return False
        if self.bpf is not None:
            self.bpf(inner, False)
        self.data.ipackets += 1
        self.data.ibytes += len(inner)
        if self.flags & IFF_MONITOR:
            self.host.drop(DropReason.MONITOR, inner, self)
            return False
        return self


class IpsecSoftcs:
    """A host's ipsec interfaces by outer source (V_ipsec_srchtbl); by reqid (V_ipsec_idhtbl)
    they are in ``host.ipsec.ipsec_ifs``, which the input path reads.

    ``by_src`` lets an address change recompute RUNNING for the interfaces whose outer source
    it is, and no others, as ipsec_srcaddr does [S3.6]; the cost of a change does not grow
    with the number of tunnels.
    """

    def __init__(self, host: "Host"):
        self.by_src: dict[bytes, list[IpsecIf]] = {}
        host.address_listeners.append(self.srcaddr)

    def hash_src(self, ifp: IpsecIf, src: IPv4Address | IPv6Address) -> None:
        self.by_src.setdefault(src.packed, []).append(ifp)

    def unhash_src(self, ifp: IpsecIf, src: IPv4Address | IPv6Address) -> None:
        bucket = self.by_src[src.packed]
        bucket.remove(ifp)
        if not bucket:
            del self.by_src[src.packed]

    def srcaddr(self, address: IPv4Address | IPv6Address) -> None:
        """ipsec_srcaddr: ``address`` was added or deleted; recompute RUNNING where it is the source [S3.6]."""
        for ifp in self.by_src.get(address.packed, ()):
            ifp.set_running()


def ipsec_if_input(host: "Host"):
    """The hook ``IpsecStack`` calls for decrypted tunnel-mode packets (ipsec_if_input) [S9.4]."""

    by_reqid = host.ipsec.ipsec_ifs

    def attribute(sa, inner: bytes, family: IpVersion):
        for ifp in by_reqid.get(sa.reqid, ()):  # the softc by reqid hash, then its endpoints
            verdict = ifp.attribute(sa, inner)
            if verdict is not None:
                return verdict
        return None

    return attribute


def next_free_name(host: "Host") -> str:
    used = {int(m.group(1)) for name in host.interfaces if (m := _NAME.match(name))}
    unit = 0
    while unit in used:
        unit += 1
    return f"ipsec{unit}"


def create_ipsec(host: "Host", name: str | None = None) -> IpsecIf:
    """``ifconfig ipsec0 create`` / ``ifconfig ipsec create`` (the next free unit) [S1.3]."""
    name = name or next_free_name(host)
    if not _NAME.match(name):
        raise IfIpsecError("EINVAL", "Invalid argument")
    if name in host.interfaces:
        raise IfIpsecError("EEXIST", "File exists")
    if host.ipsec.if_input is None:
        host.ipsec.if_input = ipsec_if_input(host)
    ifp = IpsecIf(host, name, host.new_index())
    host.add_interface(ifp)
    return ifp
