"""The network as it stood at the end of a run, as plain data for ``Result.topology``.

Taken from the hosts and links themselves, so a saved run can draw its topology (and its
if_ipsec tunnels over the cables) without the scenario file or the network object.
"""

from __future__ import annotations

from typing import Any

__all__ = ["snapshot"]


def snapshot(network, duration: float) -> dict[str, Any]:
    """``{"hosts": ..., "links": ..., "tunnels": ...}``; docs/results.md, section topology."""
    hosts: dict[str, Any] = {}
    ipsec = []
    for host in network.hosts.values():
        interfaces = {}
        for ifp in host.interfaces.values():
            tunnel = None
            if ifp.kind == "ipsec" and getattr(ifp, "src", None) is not None:
                tunnel = [str(ifp.src), str(ifp.dst)]
                ipsec.append((f"{host.name}:{ifp.name}", tunnel))
            addresses = [str(a.interface) for a in ifp.addrs4] + [str(a.interface) for a in ifp.addrs6]
            interfaces[ifp.name] = {"kind": ifp.kind, "addresses": addresses, "up": ifp.is_up,
                                    "mtu": ifp.mtu, "tunnel": tunnel}
        hosts[host.name] = {"interfaces": interfaces}
    links = []
    for link in network.links.values():
        params = link.params
        sent = max(link.a.data.obytes, link.b.data.obytes)
        utilisation = sent * 8 / duration / params.bandwidth if duration > 0 and params.bandwidth else 0.0
        links.append({"name": link.name, "a": f"{link.a.host.name}:{link.a.name}",
                      "b": f"{link.b.host.name}:{link.b.name}", "bandwidth": params.bandwidth,
                      "delay": params.delay, "up": link.up, "utilisation": utilisation})
    tunnels = []
    for name, (src, dst) in ipsec:
        # The peer is the if_ipsec interface whose tunnel is this one mirrored.
        peer = next((other for other, ends in ipsec if ends == [dst, src] and other != name), None)
        tunnels.append({"a": name, "b": peer, "src": src, "dst": dst})
    return {"hosts": hosts, "links": links, "tunnels": tunnels}
