"""Interface ioctls: what ifconfig(8) and daemons ask of an interface, answered with an errno
(sys/net/if.c ``ifioctl``/``ifhwioctl``, netinet/in.c ``in_control``, netinet6/in6.c
``in6_control``, net/if_ipsec.c ``ipsec_ioctl``, net/if_clone.c).

:func:`ifioctl` takes the interface by name, the request (named as FreeBSD's header names
it) and its argument, and returns None on success or the errno name. Nothing here prints:
the caller words the errno (``ifconfig: ioctl SIOCSIFMTU (set mtu): Invalid argument``).
:func:`if_clone_create` is SIOCIFCREATE2, which answers with the name it made.

Requests and their argument:

========================  ===================================================================
SIOCSIFFLAGS              the new ``if_flags``; IFF_UP is the bit the simulator acts on
SIOCSIFMTU                the MTU, checked against the driver's range (EINVAL outside it)
SIOCSIFFIB                the interface's FIB number (EINVAL past ``net.fibs``)
SIOCSIFDESCR              the description ("" clears it)
SIOCSIFINFO_IN6           the nd6 flags (ND6_IFF_*)
SIOCAIFADDR[_IN6]         ``(IPv4Interface | IPv6Interface, destination or None)``
SIOCDIFADDR[_IN6]         the address to remove; None for IPv4 is the interface's first one
SIOCIFDESTROY             None; EINVAL for an interface that was not cloned
IPSECSREQID               the reqid (if_ipsec only; EEXIST when another interface has it)
SIOCSIFPHYADDR[_IN6]      ``(src, dst)`` tunnel endpoints (if_ipsec only)
SIOCDIFPHYADDR            None: the tunnel goes (if_ipsec only)
SIOCSTUNFIB               the FIB the tunnel's packets are routed in (if_ipsec only)
========================  ===================================================================

A request an interface's driver does not handle answers EINVAL, as ``ipsec_ioctl`` and
``ether_ioctl`` do for one they do not know; an unknown interface is ENXIO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..netipsec.errnos import KernelError
from .ifnet import IFF_UP, Ifnet
from .if_ipsec import IpsecIf, create_ipsec

if TYPE_CHECKING:
    from .host import Host

__all__ = [
    "ifioctl", "if_clone_create", "SIOCSIFFLAGS", "SIOCSIFMTU", "SIOCSIFFIB", "SIOCSIFDESCR", "SIOCSIFINFO_IN6",
    "SIOCAIFADDR", "SIOCAIFADDR_IN6", "SIOCDIFADDR", "SIOCDIFADDR_IN6", "SIOCIFDESTROY", "IPSECSREQID",
    "SIOCSIFPHYADDR", "SIOCSIFPHYADDR_IN6", "SIOCDIFPHYADDR", "SIOCSTUNFIB",
]

SIOCSIFFLAGS = "SIOCSIFFLAGS"
SIOCSIFMTU = "SIOCSIFMTU"
SIOCSIFFIB = "SIOCSIFFIB"
SIOCSIFDESCR = "SIOCSIFDESCR"
SIOCSIFINFO_IN6 = "SIOCSIFINFO_IN6"
SIOCAIFADDR = "SIOCAIFADDR"
SIOCAIFADDR_IN6 = "SIOCAIFADDR_IN6"
SIOCDIFADDR = "SIOCDIFADDR"
SIOCDIFADDR_IN6 = "SIOCDIFADDR_IN6"
SIOCIFDESTROY = "SIOCIFDESTROY"
IPSECSREQID = "IPSECSREQID"
SIOCSIFPHYADDR = "SIOCSIFPHYADDR"
SIOCSIFPHYADDR_IN6 = "SIOCSIFPHYADDR_IN6"
SIOCDIFPHYADDR = "SIOCDIFPHYADDR"
SIOCSTUNFIB = "SIOCSTUNFIB"


def ifioctl(host: "Host", ifname: str, request: str, arg: Any = None) -> str | None:
    """Carry out one interface request; None on success, else the errno name."""
    ifp = host.interfaces.get(ifname)
    if ifp is None:
        return "ENXIO"
    handler = _REQUESTS.get(request)
    if handler is None:
        return "EINVAL"
    try:
        handler(host, ifp, arg)
    except KernelError as error:
        return error.errno_name
    return None


# SIOCIFCREATE2's cloners (if_clone_attach): the name prefix -> create(host, name or None).
_CLONERS: dict[str, Callable[["Host", str | None], Ifnet]] = {"ipsec": create_ipsec}


def if_clone_create(host: "Host", name: str) -> tuple[str | None, str | None]:
    """SIOCIFCREATE2: (None, the name made) or (errno, None). A name without a unit number
    (``ipsec``) takes the next free unit; a name no cloner owns is EINVAL."""
    prefix = name.rstrip("0123456789")
    create = _CLONERS.get(prefix)
    if create is None:
        return "EINVAL", None
    try:
        return None, create(host, None if name == prefix else name).name
    except KernelError as error:
        return error.errno_name, None


# -- the generic requests (ifioctl, ifhwioctl) -------------------------------------------------


def _setflags(host: "Host", ifp: Ifnet, flags: int) -> None:
    # if_up / if_down, then the driver's own SIOCSIFFLAGS (which re-reads its state even when
    # IFF_UP did not change: ipsec_ioctl recomputes RUNNING)
    ifp.set_up(bool(flags & IFF_UP))


def _setmtu(host: "Host", ifp: Ifnet, mtu: int) -> None:
    ifp.set_mtu(mtu)


def _setfib(host: "Host", ifp: Ifnet, fib: int) -> None:
    if not 0 <= fib < len(host.fibs):
        raise KernelError("EINVAL")
    ifp.fib = fib


def _setdescr(host: "Host", ifp: Ifnet, text: str) -> None:
    ifp.description = text


def _setnd6(host: "Host", ifp: Ifnet, flags: int) -> None:
    ifp.nd6_flags = flags


def _aifaddr(host: "Host", ifp: Ifnet, arg) -> None:
    interface, dest = arg
    host.add_address(ifp, interface, dest)


def _difaddr(host: "Host", ifp: Ifnet, address) -> None:
    """in_control SIOCDIFADDR: the named address, or with none the interface's first IPv4 one."""
    if address is None:
        if not ifp.addrs4:
            raise KernelError("EADDRNOTAVAIL")
        host.delete_address(ifp, ifp.addrs4[0].interface)
        return
    addrs = ifp.addrs4 if address.version == 4 else ifp.addrs6
    entry = next((a for a in addrs if a.address == address), None)
    if entry is None:
        raise KernelError("EADDRNOTAVAIL")
    host.delete_address(ifp, entry.interface)


def _difaddr_in6(host: "Host", ifp: Ifnet, address) -> None:
    if address is None:  # in6_control finds no address to remove
        raise KernelError("EADDRNOTAVAIL")
    _difaddr(host, ifp, address)


def _destroy(host: "Host", ifp: Ifnet, arg) -> None:
    if not isinstance(ifp, IpsecIf):  # only cloned interfaces can go (if_clone_destroy)
        raise KernelError("EINVAL")
    ifp.destroy()


# -- if_ipsec's own requests (ipsec_ioctl) ---------------------------------------------------


def _ipsec(ifp: Ifnet) -> IpsecIf:
    if not isinstance(ifp, IpsecIf):
        raise KernelError("EINVAL")
    return ifp


def _setreqid(host: "Host", ifp: Ifnet, reqid: int) -> None:
    _ipsec(ifp).set_reqid(reqid)


def _setphyaddr(host: "Host", ifp: Ifnet, arg) -> None:
    _ipsec(ifp).set_tunnel(*arg)


def _difphyaddr(host: "Host", ifp: Ifnet, arg) -> None:
    _ipsec(ifp).delete_tunnel()


def _settunfib(host: "Host", ifp: Ifnet, fib: int) -> None:
    _ipsec(ifp).set_tunnel_fib(fib)


_REQUESTS: dict[str, Callable[["Host", Ifnet, Any], None]] = {
    SIOCSIFFLAGS: _setflags, SIOCSIFMTU: _setmtu, SIOCSIFFIB: _setfib, SIOCSIFDESCR: _setdescr,
    SIOCSIFINFO_IN6: _setnd6, SIOCAIFADDR: _aifaddr, SIOCAIFADDR_IN6: _aifaddr, SIOCDIFADDR: _difaddr,
    SIOCDIFADDR_IN6: _difaddr_in6, SIOCIFDESTROY: _destroy, IPSECSREQID: _setreqid,
    SIOCSIFPHYADDR: _setphyaddr, SIOCSIFPHYADDR_IN6: _setphyaddr, SIOCDIFPHYADDR: _difphyaddr,
    SIOCSTUNFIB: _settunfib,
}
