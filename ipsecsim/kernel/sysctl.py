"""sysctl(3) knobs of one host, with FreeBSD's names and defaults.

Only knobs whose effect the simulator models are listed; setting an unknown
name fails as FreeBSD's sysctl does (``unknown oid``). Other modules register
their own knobs (the key engine adds ``net.key.*``) with :meth:`Sysctl.register`.
"""

from dataclasses import dataclass
from typing import Callable

from ..netipsec.errnos import KernelError

__all__ = ["Sysctl", "SysctlError", "Knob", "DEFAULT_KNOBS"]


class SysctlError(KernelError):
    """A sysctl that cannot be read or set; ``errno_name`` as FreeBSD would report it.
    (The message comes first here: sysctl(8) prints it, the errno is mostly EINVAL.)"""

    def __init__(self, message: str, errno_name: str = "EINVAL"):
        super().__init__(errno_name, message)


@dataclass(frozen=True, slots=True)
class Knob:
    """One OID. ``same_as`` names another OID bound to the same kernel variable (FreeBSD
    declares some twice, under net.inet and net.inet6): setting one sets both."""

    name: str
    default: int | str
    description: str
    minimum: int | None = None
    maximum: int | None = None
    read_only: bool = False
    choices: tuple[int, ...] | None = None
    same_as: str | None = None


def _k(name, default, description, minimum=None, maximum=None, read_only=False, choices=None, same_as=None):
    return Knob(name, default, description, minimum, maximum, read_only, choices, same_as)


# net.inet.ipsec and net.inet6.ipsec6 as sys/netipsec/ipsec.c declares them (debug: key.c).
# All are plain SYSCTL_INTs, which take any integer, except def_policy, whose handler
# (sysctl_def_policy) accepts only 0 (discard) and 1 (none). The values' effects:
# dfbit and ecn in ipsec_encap/ip_ecn_ingress, the *_deflev in ipsec_get_reqlevel.
_IPSEC4 = "net.inet.ipsec."
_IPSEC6 = "net.inet6.ipsec6."
_IPSEC_KNOBS: tuple[Knob, ...] = (
    _k(_IPSEC4 + "def_policy", 1, "IPsec default policy.", 0, 1),
    _k(_IPSEC4 + "esp_trans_deflev", 1, "Default ESP transport mode level"),
    _k(_IPSEC4 + "esp_net_deflev", 1, "Default ESP tunnel mode level."),
    _k(_IPSEC4 + "ah_trans_deflev", 1, "AH transfer mode default level."),
    _k(_IPSEC4 + "ah_net_deflev", 1, "AH tunnel mode default level."),
    _k(_IPSEC4 + "ah_cleartos", 1, "If set, clear type-of-service field when doing AH computation."),
    _k(_IPSEC4 + "dfbit", 0, "Do not fragment bit on encap."),
    _k(_IPSEC4 + "min_pmtu", 576, "Lowest acceptable PMTU value", 0),
    _k(_IPSEC4 + "ecn", 0, "Explicit Congestion Notification handling."),
    _k(_IPSEC4 + "debug", 0, "Enable IPsec debugging output when set."),
    _k(_IPSEC4 + "crypto_support", 0x3000000, "Crypto driver selection."),  # CRYPTOCAP_F_HARDWARE|SOFTWARE
    _k(_IPSEC4 + "async_crypto", 0, "Use asynchronous mode to parallelize crypto jobs."),
    _k(_IPSEC4 + "check_policy_history", 0, "Use strict check of inbound packets to security policy compliance."),
    _k(_IPSEC4 + "natt_cksum_policy", 0, "Method to fix TCP/UDP checksum for transport mode IPsec after NAT."),
    _k(_IPSEC4 + "filtertunnel", 0, "If set, filter packets from an IPsec tunnel."),
    _k(_IPSEC6 + "def_policy", 1, "IPsec default policy.", 0, 1, same_as=_IPSEC4 + "def_policy"),
    _k(_IPSEC6 + "esp_trans_deflev", 1, "Default ESP transport mode level."),
    _k(_IPSEC6 + "esp_net_deflev", 1, "Default ESP tunnel mode level."),
    _k(_IPSEC6 + "ah_trans_deflev", 1, "AH transfer mode default level."),
    _k(_IPSEC6 + "ah_net_deflev", 1, "AH tunnel mode default level."),
    _k(_IPSEC6 + "ecn", 0, "Explicit Congestion Notification handling."),
    _k(_IPSEC6 + "debug", 0, "Enable IPsec debugging output when set.", same_as=_IPSEC4 + "debug"),
    _k(_IPSEC6 + "filtertunnel", 0, "If set, filter packets from an IPsec tunnel."),
)


# Defaults as on a stock FreeBSD 14 host; [S7.12] for the IPsec ones.
DEFAULT_KNOBS: tuple[Knob, ...] = (
    _k("kern.hostname", "", "Hostname"),
    _k("net.fibs", 1, "Number of available FIBs", 1, 65536, read_only=True),
    _k("net.inet.ip.forwarding", 0, "Enable IP forwarding between interfaces", 0, 1),
    _k("net.inet.ip.ttl", 64, "Maximum TTL on IP packets", 1, 255),
    _k("net.inet.ip.rfc6864", 1, "Use constant IP ID for atomic datagrams", 0, 1),
    _k("net.inet.ip.random_id", 0, "Assign random ip_id values", 0, 1),
    _k("net.inet.ip.fragttl", 30, "IP fragment life time on reassembly queue (seconds)", 1, 3600),
    _k("net.inet.ip.maxfragsperpacket", 16, "Maximum number of IPv4 fragments allowed per packet", 0),
    _k("net.inet.icmp.icmplim", 200, "Maximum number of ICMP responses per second", 0),
    _k("net.inet.icmp.quotelen", 548, "Number of bytes from original packet to quote in ICMP reply", 0),
    _k("net.inet.udp.blackhole", 0, "Do not send port unreachables for refused connects", 0, 2),
    _k("net.inet6.ip6.forwarding", 0, "Enable forwarding of IPv6 packets between interfaces", 0, 1),
    _k("net.inet6.ip6.hlim", 64, "Default hop limit to use for outgoing IPv6 packets", 0, 255),
    _k("net.inet6.ip6.fragttl", 60, "IPv6 fragment life time on reassembly queue (seconds)", 1, 3600),
    _k("net.inet6.icmp6.errppslimit", 100, "Maximum number of ICMPv6 error messages per second", 0),
    _k("net.inet6.ip6.maxfragsperpacket", 64, "Maximum allowed number of fragments per packet", 0),
    *_IPSEC_KNOBS,
    _k("net.inet.esp.esp_enable", 1, "", 0, 1),  # xform_esp.c declares no description
    _k("net.inet.esp.ctr_compatibility", 1, "Align AES-CTR encrypted transmitted frames to blocksize", 0, 1),
)


class Sysctl:
    """The MIB of one host: a flat name -> value table with per-knob validation."""

    def __init__(self, knobs: tuple[Knob, ...] = DEFAULT_KNOBS):
        self._knobs: dict[str, Knob] = {}
        self._values: dict[str, int | str] = {}
        self._watchers: dict[str, list[Callable[[int | str], None]]] = {}
        # OIDs bound to one variable: each name maps to the whole group (itself included).
        self._shared: dict[str, tuple[str, ...]] = {}
        for knob in knobs:
            self.register(knob)

    def register(self, knob: Knob) -> None:
        self._knobs[knob.name] = knob
        self._values.setdefault(knob.name, knob.default)
        if knob.same_as is not None:
            group = tuple(dict.fromkeys(self._shared.get(knob.same_as, (knob.same_as,)) + (knob.name,)))
            for name in group:
                self._shared[name] = group
            self._values[knob.name] = self._values.get(knob.same_as, knob.default)

    def watch(self, name: str, callback: Callable[[int | str], None]) -> None:
        """Call ``callback(new_value)`` whenever ``name`` changes (for cached copies)."""
        self._watchers.setdefault(name, []).append(callback)

    def names(self, prefix: str = "") -> list[str]:
        """Knob names under ``prefix`` (a whole component, as ``sysctl net.inet`` does), sorted."""
        return sorted(n for n in self._knobs if not prefix or n == prefix or n.startswith(prefix + "."))

    def knob(self, name: str) -> Knob:
        try:
            return self._knobs[name]
        except KeyError:
            raise SysctlError(f"unknown oid '{name}'", "ENOENT") from None

    def __getitem__(self, name: str) -> int | str:
        self.knob(name)
        return self._values[name]

    def get(self, name: str, default=None):
        return self._values.get(name, default)

    def set(self, name: str, value: int | str) -> int | str:
        """Set a knob; returns the old value. Raises :class:`SysctlError` as FreeBSD would refuse it."""
        knob = self.knob(name)
        if knob.read_only:
            raise SysctlError(f"oid '{name}' is read only", "EPERM")
        if isinstance(knob.default, int):
            if isinstance(value, str):
                try:
                    value = int(value, 0)
                except ValueError:
                    raise SysctlError(f"invalid integer '{value}'", "EINVAL") from None
            if (knob.minimum is not None and value < knob.minimum) or (
                knob.maximum is not None and value > knob.maximum
            ) or (knob.choices is not None and value not in knob.choices):
                raise SysctlError(f"{name}={value}: Invalid argument", "EINVAL")
        old = self._values[name]
        # Reads stay one dict lookup (they run per packet): shared OIDs are written together.
        for member in self._shared.get(name, (name,)):
            self._values[member] = value
            for callback in self._watchers.get(member, ()):
                callback(value)
        return old

    __setitem__ = set
