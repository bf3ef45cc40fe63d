"""What the teaching labs need: answers checked with clear feedback, and terminal-like output.

A lab's exercise ends with a checking cell::

    answer = None  # your answer: the length of the ESP packet on em0, in bytes
    check("Exercise 1", answer, expected=esp_length, hint="20 (outer IP) + 8 (SPI, seq) + IV + ...")

The expected value is computed from the simulation in the cell before, never typed in, so
the check holds for whatever seed or scenario the student runs. :func:`check` prints one
line (and returns whether the answer holds); it never raises, so a notebook runs top to
bottom before anyone has answered.

The labs also look at packets: :class:`PacketCapture` is what ``sim.capture("A", "em0")``
returns (the packets crossing an interface, kept in memory), :func:`esp_fields` names the
parts of an ESP packet (SPI, sequence number, IV, ciphertext, ICV; RFC 4303 section 2) and
:func:`decrypt` opens one with an SA's keys, as the receiving kernel would, without touching
the kernel's SA (its replay window and counters stay as they are).
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
import random
import shutil
import subprocess
import tempfile
from typing import Any, Iterable, NamedTuple

from .netipsec import SecurityAssociation
from .packet.iphdr import locate_payload
from .trace.pcap import LINKTYPE_NULL, LINKTYPE_RAW, PcapWriter
from .trace.summary import packet_summary
from .trace.wireshark import DECRYPT_PREFS, EspSaRow, tshark_uat_options

__all__ = ["CapturedPacket", "EspFields", "PacketCapture", "ShellOutput", "check", "decrypt", "esp_fields",
           "tshark"]

TSHARK_TIMEOUT = 60.0  # seconds; a lab's captures are a few packets


class ShellOutput(str):
    """What ``sim.host("A").sh(...)`` returns: a ``str`` that Jupyter and the Python prompt
    show as the terminal would, without quotes or ``\\n``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self).rstrip("\n")

    def _repr_html_(self) -> str:
        from html import escape

        return f'<pre style="margin:0">{escape(str(self))}</pre>'


def _matches(given: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, bool) or isinstance(given, bool):
        return isinstance(given, bool) and isinstance(expected, bool) and given == expected
    if isinstance(expected, (int, float)) and isinstance(given, (int, float)):
        if math.isnan(float(given)):
            return False
        return abs(float(given) - float(expected)) <= tolerance * max(1.0, abs(float(expected)))
    if isinstance(expected, str) and isinstance(given, str):
        return given.strip().lower() == expected.strip().lower()
    if isinstance(expected, (set, frozenset)):
        try:
            return set(given) == set(expected)
        except TypeError:
            return False
    return bool(given == expected)


def check(label: str, given: Any, expected: Any, *, hint: str = "", tolerance: float = 0.0) -> bool:
    """Compare a student's answer with the value the simulation gives, and say so in one line.

    ``tolerance`` is relative (0.05: within 5%) for numbers; strings compare without case
    or surrounding spaces; sets compare without order. ``None`` means "not answered yet".
    """
    if given is None or given is ...:
        print(f"{label}: not answered yet. Put your answer in the cell above and run both cells again.")
        return False
    if _matches(given, expected, tolerance):
        print(f"{label}: correct ({given!r}).")
        return True
    line = f"{label}: not quite. You answered {given!r}."
    if hint:
        line += f" Hint: {hint}"
    print(line)
    return False


class CapturedPacket(NamedTuple):
    """One packet a capture saw: the simulated time, the bytes as on the wire, the direction."""

    time: float
    data: bytes
    outbound: bool

    def __str__(self) -> str:
        return f"{self.time:.6f} {'>' if self.outbound else '<'} {packet_summary(self.data)}"


class PacketCapture:
    """The packets crossing one interface since the capture started, in memory (``tcpdump -i``).

    ``sim.capture("A", "em0")`` starts one; ``packets`` lists what was seen, in order, both
    directions (``outbound`` tells them apart; ``sent`` and ``received`` filter). Printing
    a capture prints one tcpdump-like line a packet. ``stop()`` ends it. It watches the
    interface through its BPF tap, as tcpdump does: the packets themselves are not touched.
    """

    def __init__(self, host: str, interface: str, *, raw_ip: bool = True):
        self.host = host
        self.interface = interface
        self.packets: list[CapturedPacket] = []
        self.running = True
        # As ``--pcap`` writes them: raw IP for a cabled interface, DLT_NULL for ipsecN and lo0
        # (FreeBSD's bpfattach(ifp, DLT_NULL, 4) in if_ipsec.c).
        self.linktype = LINKTYPE_RAW if raw_ip else LINKTYPE_NULL

    def _see(self, now: float, pkt: bytes, outbound: bool) -> None:
        if self.running:
            self.packets.append(CapturedPacket(now, bytes(pkt), outbound))

    def stop(self) -> None:
        self.running = False

    def clear(self) -> None:
        """Forget the packets seen so far (the capture goes on)."""
        self.packets.clear()

    def save(self, path: str | Path) -> Path:
        """Write the packets to a pcap file (Wireshark, tshark, tcpdump -r read it); returns its path."""
        path = Path(path)
        with PcapWriter(path, self.linktype) as writer:
            for packet in self.packets:
                writer.write(packet.time, packet.data)
        return path

    @property
    def sent(self) -> list[CapturedPacket]:
        return [p for p in self.packets if p.outbound]

    @property
    def received(self) -> list[CapturedPacket]:
        return [p for p in self.packets if not p.outbound]

    def __len__(self) -> int:
        return len(self.packets)

    def __iter__(self):
        return iter(self.packets)

    def __getitem__(self, index: int) -> CapturedPacket:
        return self.packets[index]

    def __str__(self) -> str:
        head = f"{self.host}:{self.interface}: {len(self.packets)} packet{'' if len(self.packets) == 1 else 's'}"
        return "\n".join([head] + [str(p) for p in self.packets])

    def __repr__(self) -> str:
        return str(self)


_FIELD_NAMES = {"outer": "outer IP header", "spi": "SPI", "seq": "sequence number", "iv": "IV",
                "ciphertext": "ciphertext", "icv": "ICV"}


@dataclass(frozen=True)
class EspFields:
    """An ESP packet cut at the boundaries RFC 4303 section 2 draws (tunnel mode, one SA's sizes).

    ``ciphertext`` is the encrypted payload: the inner packet, the padding, the pad length
    and the next header, all encrypted (ESP puts the trailer under the encryption).
    ``icv`` is empty without authentication (the if_ipsec(4) example's SAs have none).
    """

    outer: bytes
    spi: int
    seq: int
    iv: bytes
    ciphertext: bytes
    icv: bytes

    def parts(self) -> list[tuple[str, bytes]]:
        """``(name, bytes)`` in wire order."""
        return [("outer", self.outer), ("spi", self.spi.to_bytes(4, "big")), ("seq", self.seq.to_bytes(4, "big")),
                ("iv", self.iv), ("ciphertext", self.ciphertext), ("icv", self.icv)]

    def __str__(self) -> str:
        """One line a field: offset, length, name, the first bytes in hex (and the value of SPI and seq)."""
        lines, offset = [], 0
        for name, data in self.parts():
            shown = data[:16].hex(" ") + (" ..." if len(data) > 16 else "")
            value = f"  = {int.from_bytes(data, 'big')}" if name in ("spi", "seq") else ""
            lines.append(f"{offset:4d}  {len(data):4d} bytes  {_FIELD_NAMES[name]:<16} {shown}{value}")
            offset += len(data)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def esp_fields(packet: bytes, sa: SecurityAssociation) -> EspFields:
    """Cut ``packet`` (an outer IP packet carrying ESP) into its fields, with ``sa``'s IV and ICV sizes.

    Raises ``ValueError`` saying why when the bytes are not an ESP packet long enough for them.
    """
    try:
        _version, skip, proto, length = locate_payload(packet)
    except Exception as bad:  # MalformedPacket: its text names the problem
        raise ValueError(f"not an IP packet: {bad}") from None
    if proto != 50:
        raise ValueError(f"not an ESP packet: IP protocol {proto}, ESP is 50")
    packet = bytes(packet[:length])
    iv_end = skip + 8 + sa.enc.iv_len
    icv_len = sa.icv_len
    if len(packet) < iv_end + icv_len:
        raise ValueError(f"{len(packet)} bytes is too short for an ESP packet of this SA ({sa.enc.name})")
    return EspFields(outer=packet[:skip], spi=int.from_bytes(packet[skip:skip + 4], "big"),
                     seq=int.from_bytes(packet[skip + 4:skip + 8], "big"), iv=packet[skip + 8:iv_end],
                     ciphertext=packet[iv_end:len(packet) - icv_len], icv=packet[len(packet) - icv_len:])


def decrypt(packet: bytes, sa: SecurityAssociation) -> bytes:
    """The inner packet of an ESP ``packet``, opened with ``sa``'s algorithms and keys.

    As the receiving kernel's ``esp_input`` does it (the ICV checked first when the SA
    has one, then decryption, the padding checked and stripped), but on a copy of the
    SA: the kernel's SA, its anti-replay window and its counters are not touched, so
    decrypting a packet the host already received is no replay. A packet the SA
    refuses raises the :class:`~ipsecsim.netipsec.EspDrop` that names FreeBSD's counter
    (``EspBadauth``: ``esps_badauth``, ...).
    """
    copy = SecurityAssociation(src=sa.src, dst=sa.dst, spi=sa.spi, enc=sa.enc, enc_key=sa.enc_key, auth=sa.auth,
                               auth_key=sa.auth_key, mode=sa.mode, reqid=sa.reqid, flags=sa.flags,
                               rng=random.Random(0))  # no randomness is used to decrypt; none from the OS
    try:
        return copy.decapsulate(bytes(packet))
    finally:
        copy.zeroize()


def tshark(capture: PacketCapture, sas: Iterable[SecurityAssociation] = (), *options: str) -> ShellOutput:
    """What ``tshark`` prints for ``capture``'s packets, decrypting ESP with the keys of ``sas``.

    The packets go to a pcap file and the SAs' algorithms and keys to tshark's ESP SA table
    (Wireshark's ``esp_sa``; ``-o esp.enable_encryption_decode:TRUE`` and the ICV check
    on), in a temporary directory that tshark takes as its whole configuration, so no
    personal Wireshark setting changes the output. ``options`` are more tshark arguments
    (``"-V"`` for every field, ``"-x"`` for the bytes). Without tshark installed, the text
    says so (and how to install it) instead: a lab runs on anyway.
    """
    program = shutil.which("tshark")
    if program is None:
        return ShellOutput("tshark is not installed, so this step is skipped (on Debian or Ubuntu: "
                           "apt-get install tshark; on FreeBSD: pkg install wireshark-nox11).\n")
    rows = [EspSaRow(sa.src.version, str(sa.src), str(sa.dst), sa.spi, sa.enc.name, sa.enc_key,
                     sa.auth.name if sa.auth is not None else None, sa.auth_key) for sa in sas]
    with tempfile.TemporaryDirectory(prefix="ipsecsim-tshark-") as tmp:
        pcap = capture.save(Path(tmp) / f"{capture.host}-{capture.interface}.pcap")
        args = [program, "-n", "-r", str(pcap)]
        for pref in DECRYPT_PREFS:
            args += ["-o", pref]
        args += tshark_uat_options(rows) + list(options)
        env = {"PATH": "/usr/bin:/bin", "WIRESHARK_CONFIG_DIR": tmp, "HOME": tmp, "LC_ALL": "C"}
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=TSHARK_TIMEOUT, check=False)
    if done.returncode != 0:
        return ShellOutput(f"tshark failed (exit status {done.returncode}):\n{done.stderr}")
    return ShellOutput(done.stdout)
