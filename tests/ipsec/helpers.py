"""Benches for the if_ipsec(4) scenario checks: two (or three) simulated FreeBSD hosts on a
link, configured with the lines an administrator types, and the probes a test reads.

The man page's example [S12.3] is the starting point::

    A em0 192.168.0.3/24 ---- em0 B 192.168.0.5/24
    A ipsec0 reqid 100, 172.16.0.3 --> 172.16.0.5     B ipsec0 reqid 200, mirrored
    SA 10000: 192.168.0.3 -> 192.168.0.5, SA 10001: 192.168.0.5 -> 192.168.0.3

:func:`manpage_host` writes one host's script (every part can be changed: SA extensions,
algorithms, no SAs at all), :func:`scenario_yaml` the scenario around the scripts, and
:class:`Bench` runs it and reads what a FreeBSD user reads: command output and exit
status, ``netstat`` counters, drops by reason, the PF_KEY messages a ``setkey -x`` or an
IKE daemon receives, and the packets ``tcpdump`` would show on an interface.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import ipsecsim

__all__ = [
    "A_OUT", "B_OUT", "A_IN", "B_IN", "KEY1", "KEY2", "GOLDEN", "MANPAGE_YAML", "Bench", "manpage_host",
    "scenario_yaml", "check_golden", "cbc", "indent",
]  # fmt: skip

A_OUT, B_OUT = "192.168.0.3", "192.168.0.5"  # outer (tunnel endpoint) addresses [S12.3]
A_IN, B_IN = "172.16.0.3", "172.16.0.5"  # inner addresses
KEY1, KEY2 = "VerySecureKey!!1", "VerySecureKey!!2"
SPI_AB, SPI_BA = 10000, 10001
GOLDEN = Path(__file__).resolve().parent.parent / "golden"
MANPAGE_YAML = Path(__file__).resolve().parents[2] / "scenarios" / "if_ipsec_host_a_b.yaml"


def cbc(key: str) -> str:
    """The man page's algorithm clause: AES-CBC, no authentication [S12.3]."""
    return f'-E rijndael-cbc "{key}"'


def indent(text: str, spaces: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * spaces)


def manpage_host(
    side: str,
    *,
    reqid: int | None = None,
    sa_ext: str | None = None,
    alg_ab: str = cbc(KEY1),
    alg_ba: str = cbc(KEY2),
    sas: bool = True,
    extra: str = "",
) -> str:
    """Host A's or B's script from if_ipsec(4)'s example [S12.3].

    ``reqid`` defaults to the man page's (A 100, B 200); ``sa_ext`` replaces the SA
    extensions ``-m tunnel -u REQID``; ``alg_ab``/``alg_ba`` the algorithm clauses of SA
    10000 (A to B) and 10001 (B to A); ``sas=False`` leaves the SAD empty; ``extra``
    lines run last.
    """
    reqid = reqid if reqid is not None else (100 if side == "A" else 200)
    me, peer, my_in, peer_in = (A_OUT, B_OUT, A_IN, B_IN) if side == "A" else (B_OUT, A_OUT, B_IN, A_IN)
    ext = f"-m tunnel -u {reqid}" if sa_ext is None else sa_ext
    lines = [
        f"ifconfig em0 inet {me}/24",
        f"ifconfig ipsec0 create reqid {reqid}",
        f"ifconfig ipsec0 inet tunnel {me} {peer}",
        f"ifconfig ipsec0 inet {my_in}/16 {peer_in}",
    ]
    if sas:
        lines += [
            "setkey -c <<EOF",
            f"add {A_OUT} {B_OUT} esp {SPI_AB} {ext} {alg_ab};".replace("  ", " "),
            f"add {B_OUT} {A_OUT} esp {SPI_BA} {ext} {alg_ba};".replace("  ", " "),
            "EOF",
        ]
    if extra:
        lines.append(textwrap.dedent(extra).strip("\n"))
    return "\n".join(lines) + "\n"


def scenario_yaml(
    hosts: dict[str, str],
    *,
    links: tuple[str, ...] = ("A:em0 B:em0",),
    duration: str = "5s",
    traffic: tuple[str, ...] = (),
    timeline: tuple[str, ...] = (),
    expect: tuple[str, ...] = (),
    name: str = "scenario check",
) -> str:
    """A scenario file: ``hosts`` maps a host to its ``run:`` script; each link is
    ``"A:em0 B:em0"``; traffic, timeline and expect entries are YAML flow mappings."""
    out = [f"name: {name}", f"duration: {duration}", "seed: 1", "links:"]
    for link in links:
        a, b = link.split()
        out.append(f"  - {{a: {a}, b: {b}, bandwidth: 100Mbit/s, delay: 1ms}}")
    out.append("hosts:")
    for host, script in hosts.items():
        out += [f"  {host}:", "    run: |", indent(script, 6)]
    for key, entries in (("traffic", traffic), ("timeline", timeline), ("expect", expect)):
        if entries:
            out.append(f"{key}:")
            out += [f"  - {entry}" for entry in entries]
    return "\n".join(out) + "\n"


@dataclass
class Tapped:
    """One packet an interface's BPF tap saw: direction, time, bytes."""

    outbound: bool
    time: float
    pkt: bytes


class Bench:
    """A running scenario and the probes the checks read.

    ``pcap`` is ``--pcap DIR``; :meth:`close` finishes it (pcap files, ``esp_sa``).
    """

    def __init__(self, yaml_text: str, *, pcap: Path | None = None, seed: int | None = None):
        self.sim = ipsecsim.loads(yaml_text, "check.yaml", pcap=pcap, seed=seed)
        self.net = self.sim.network

    # -- commands ----------------------------------------------------------------------

    def kernel(self, host: str):
        return self.net.host(host)

    def sh(self, host: str, command: str) -> str:
        """What ``command`` printed (stdout and stderr), run now on ``host``."""
        return self.sim.host(host).sh(command)

    def status(self, host: str, command: str) -> tuple[int, str]:
        """``(exit status, output)`` of ``command`` run now on ``host``."""
        result = self.net.sh(host, command)
        return result.status, result.output

    def ping(self, host: str, args: str) -> list[str]:
        """Run ``ping ARGS`` at a prompt on ``host`` and wait until it ends; its lines."""
        shell = self.net.shells[host]
        before = len(shell.programs)
        self.net.sh(host, f"ping {args}")
        started = shell.programs[before:]
        while not all(program.done for program in started):
            self.run(self.net.now + 1.0)
        return [line for program in started for line in program.lines]

    def run(self, until: float):
        return self.sim.run(until)

    def result(self):
        return self.sim.result()

    def close(self) -> None:
        self.sim.close()

    # -- what a user reads ---------------------------------------------------------------

    def if_data(self, host: str, ifname: str):
        """The interface's ``if_data`` (ipackets, opackets, oerrors, ...), as ``netstat -I``."""
        return self.kernel(host).interface(ifname).data

    def drops(self, host: str) -> dict[str, int]:
        return dict(self.kernel(host).drops)

    def espstat(self, host: str):
        return self.kernel(host).espstat

    def ipsecstat(self, host: str):
        return self.kernel(host).keydb.stats

    def sa(self, host: str, spi: int):
        keydb = self.kernel(host).keydb
        return next(sa for sa in keydb.sas() if sa.spi == spi)

    def pfkey(self, host: str, *, registered: bool = True, promiscuous: bool = False) -> list:
        """Open a PF_KEY socket on ``host``; the returned list fills with what it receives.

        ``registered`` is an IKE daemon's SADB_REGISTER for ESP (it gets ACQUIRE and
        EXPIRE); broadcasts (SPDADD, SPDDELETE, ADD, ...) arrive once on any socket.
        ``promiscuous`` is ``setkey -x``'s SADB_X_PROMISC, which doubles broadcasts [S8.2].
        """
        got: list = []
        self.kernel(host).keydb.subscribe(got.append, satypes=("esp",) if registered else (),
                                          promiscuous=promiscuous)  # fmt: skip
        return got

    def tap(self, host: str, ifname: str) -> list[Tapped]:
        """Record what ``tcpdump -i IFNAME`` would show from now on (keeps a pcap tap working)."""
        ifp = self.kernel(host).interface(ifname)
        got: list[Tapped] = []
        previous = ifp.bpf
        clock = self.kernel(host).clock

        def tap(pkt: bytes, outbound: bool) -> None:
            got.append(Tapped(outbound, clock.now, bytes(pkt)))
            if previous is not None:
                previous(pkt, outbound)

        ifp.bpf = tap
        return got

    def inject(self, host: str, ifname: str, pkt: bytes) -> None:
        """A packet arrives on ``host``'s physical interface ``ifname`` from the wire."""
        self.kernel(host).interface(ifname).receive(bytes(pkt))

    def console(self, host: str) -> list[str]:
        return [line for _t, line in self.net.consoles[host].entries]


def check_golden(request, name: str, text: str) -> None:
    """Compare ``text`` with tests/golden/NAME exactly; ``pytest --update-golden`` rewrites it."""
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path}; run pytest --update-golden to create it"
    assert text == path.read_text(), f"output differs from {path} (pytest --update-golden rewrites it)"
