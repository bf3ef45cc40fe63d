"""The text of ``swanctl --list-conns`` and ``--list-sas`` (strongSwan 5.9), from :mod:`.views`.

Each function returns the whole output, every line ending in a newline, and an
empty string when there is nothing to list (swanctl then prints nothing).
"""

from collections.abc import Iterable

from .config import SwanctlConfig
from .views import ChildSaView, ConnView, IkeSaView, conn_views

__all__ = ["list_conns", "format_conns", "list_sas", "load_all"]

_VERSIONS = {0: "IKEv1/2", 1: "IKEv1", 2: "IKEv2"}


def list_conns(config: SwanctlConfig) -> str:
    """``swanctl --list-conns`` for the connections charon loaded from ``config``."""
    return format_conns(conn_views(config))


def format_conns(conns: Iterable[ConnView]) -> str:
    """``swanctl --list-conns`` for these connection views."""
    out: list[str] = []
    for c in conns:
        # IKEv2 rekeys the IKE_SA in place; reauthentication is a separate, optional timer.
        head = f"{c.name}: {_VERSIONS.get(c.version, 'IKEv2')}, "
        head += "no reauthentication" if c.reauth_time == 0 else f"reauthentication every {c.reauth_time}s"
        if c.version != 1:
            head += ", no rekeying" if c.rekey_time == 0 else f", rekeying every {c.rekey_time}s"
        if c.dpd_delay:
            head += f", dpd delay {c.dpd_delay}s"
        out.append(head)
        out.extend(f"  local:  {a}" for a in c.local_addrs)
        out.extend(f"  remote: {a}" for a in c.remote_addrs)
        for side, auth, ident in (("local", c.local_auth, c.local_id), ("remote", c.remote_auth, c.remote_id)):
            out.append(f"  {side} {auth} authentication:")
            if ident is not None:
                out.append(f"    id: {ident}")
        for child in c.children:
            line = f"  {child.name}: {child.mode}, "
            line += "no rekeying" if child.rekey_time == 0 else f"rekeying every {child.rekey_time}s"
            if c.dpd_delay:
                line += f", dpd action is {child.dpd_action}"
            out.append(line)
            out.append(f"    local:  {' '.join(child.local_ts)}")
            out.append(f"    remote: {' '.join(child.remote_ts)}")
    return "".join(line + "\n" for line in out)


def list_sas(sas: Iterable[IkeSaView]) -> str:
    """``swanctl --list-sas`` for these IKE_SAs and their CHILD_SAs."""
    out: list[str] = []
    for sa in sas:
        i, r = ("*", "") if sa.initiator else ("", "*")
        out.append(f"{sa.name}: #{sa.unique_id}, {sa.state}, IKEv{sa.version}, "
                   f"{sa.spi_i:016x}_i{i} {sa.spi_r:016x}_r{r}")
        out.append(f"  local  '{sa.local_id}' @ {sa.local_host}[{sa.local_port}]")
        out.append(f"  remote '{sa.remote_id}' @ {sa.remote_host}[{sa.remote_port}]")
        if sa.proposal:
            out.append(f"  {sa.proposal}")
        if sa.established is not None:
            line = f"  established {sa.established}s ago"
            if sa.rekeying_in is not None:
                line += f", rekeying in {sa.rekeying_in}s"
            if sa.reauth_in is not None:
                line += f", reauth in {sa.reauth_in}s"
            if sa.expires_in is not None:
                line += f", expires in {sa.expires_in}s"
            out.append(line)
        for child in sa.children:
            out.extend(_child(child))
    return "".join(line + "\n" for line in out)


def _child(c: ChildSaView) -> list[str]:
    lines = [f"  {c.name}: #{c.unique_id}, reqid {c.reqid}, {c.state}, {c.mode}{'-in-UDP' if c.encap else ''}, "
             f"{c.protocol}:{c.proposal}"]
    timing = f"    installed {c.installed}s ago"
    if c.rekeying_in is not None:
        timing += f", rekeying in {c.rekeying_in}s"
    if c.expires_in is not None:
        timing += f", expires in {c.expires_in}s"
    lines.append(timing)
    for word, spi, nbytes, packets, used in (("in ", c.spi_in, c.bytes_in, c.packets_in, c.used_in),
                                              ("out", c.spi_out, c.bytes_out, c.packets_out, c.used_out)):
        line = f"    {word} {spi:08x}, {nbytes:6d} bytes, {packets:5d} packets"
        if used is not None:
            line += f", {used:5d}s ago"
        lines.append(line)
    lines.append(f"    local  {' '.join(c.local_ts)}")
    lines.append(f"    remote {' '.join(c.remote_ts)}")
    return lines


def load_all(config: SwanctlConfig) -> str:
    """What ``swanctl --load-all`` prints loading ``config`` into a charon that had nothing loaded.

    swanctl loads credentials, then authorities, then pools, then connections.
    """
    out = [f"loaded ike secret '{s.name}'" for s in config.secrets]
    out.append("no authorities found, 0 unloaded")
    out.append("no pools found, 0 unloaded")
    out.extend(f"loaded connection '{name}'" for name in config.connections)
    count = len(config.connections)
    if count:
        out.append(f"successfully loaded {count} connections, 0 unloaded")
    else:
        out.append("no connections found, 0 unloaded")
    return "".join(line + "\n" for line in out)
