"""One simulated FreeBSD host: interfaces, routing, IPv4/IPv6, ICMP, UDP, sysctls. Sans-IO."""

from ..netipsec.errnos import KernelError, strerror
from .clock import Clock, ManualClock
from .host import Host, HostError
from .ifnet import AF_INET, AF_INET6, EtherIf, IfData, Ifnet, LoopbackIf, format_flags
from .route import Fib, Route, RouteError, format_route_flags
from .sockets import ERRNO_TEXT, SendError
from .sysctl import Knob, Sysctl, SysctlError

__all__ = [
    "Clock", "ManualClock", "Host", "HostError", "Ifnet", "EtherIf", "LoopbackIf", "IfData",
    "AF_INET", "AF_INET6", "format_flags", "Fib", "Route", "RouteError", "format_route_flags",
    "SendError", "ERRNO_TEXT", "Sysctl", "SysctlError", "Knob", "KernelError", "strerror",
]
