"""Classic libpcap files with nanosecond timestamps: a buffered writer and a reader.

The format is the one tcpdump and Wireshark call "nanosecond pcap": a 24-byte global
header whose magic is 0xa1b23c4d, then per packet a 16-byte record header (seconds,
nanoseconds, captured length, original length) and the bytes. Everything is written
little-endian, the byte order of the amd64 host FreeBSD would capture on; readers
detect the order from the magic.

Linktypes used by ipsecsim (DESIGN.md, ``--pcap``):

* ``LINKTYPE_RAW`` (101): the packet starts at the IP header; physical interfaces.
* ``LINKTYPE_NULL`` (0): BSD loopback encapsulation, a 4-byte address family in the
  capturing host's byte order before the IP header. FreeBSD's if_ipsec(4) taps BPF
  this way (``bpf_mtap2(ifp->if_bpf, &af, sizeof(af), m)``), so ``ipsec0`` captures use
  it with ``AF_INET`` = 2 and FreeBSD's ``AF_INET6`` = 28, little-endian.

Timestamps are simulated seconds as floats, turned into integer nanoseconds with
``round(t * 1e9)``: the same float always gives the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO

from ._output import TraceOutput

__all__ = [
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "AF_INET",
    "AF_INET6",
    "SNAPLEN",
    "PcapWriter",
    "PcapFormatError",
    "PcapCapture",
    "load_pcap",
    "read_pcap",
    "time_to_ns",
]

LINKTYPE_NULL = 0
LINKTYPE_RAW = 101
AF_INET = 2  # sys/socket.h, every BSD
AF_INET6 = 28  # FreeBSD's value (NetBSD/OpenBSD use 24, macOS 30, Linux 10)
SNAPLEN = 262144

MAGIC_NS = 0xA1B23C4D
MAGIC_US = 0xA1B2C3D4
_NS_PER_S = 1_000_000_000
_MAX_NS = (1 << 32) * _NS_PER_S - 1  # the seconds field is an unsigned 32-bit value

_GLOBAL_LE = struct.Struct("<IHHiIII")  # magic, major, minor, thiszone, sigfigs, snaplen, linktype
_RECORD_LE = struct.Struct("<IIII")  # ts_sec, ts_nsec, incl_len, orig_len
_GLOBAL_BE = struct.Struct(">IHHiIII")
_RECORD_BE = struct.Struct(">IIII")

_NULL_HEADER = {
    4: AF_INET.to_bytes(4, "little"),
    6: AF_INET6.to_bytes(4, "little"),
    AF_INET: AF_INET.to_bytes(4, "little"),
    AF_INET6: AF_INET6.to_bytes(4, "little"),
}

_BUFFER_SIZE = 1 << 20


def time_to_ns(time_s: float) -> int:
    """Simulated seconds -> integer nanoseconds, rounded to nearest (deterministic)."""
    ns = round(time_s * 1e9)
    if not 0 <= ns <= _MAX_NS:
        raise ValueError(f"pcap timestamp out of range: {time_s!r} s")
    return ns


class PcapWriter(TraceOutput):
    """Write one capture file. Buffered; flushed on ``close()`` and by ``with``.

    ``write(time_s, data)`` appends one packet. For ``LINKTYPE_NULL`` files the 4-byte
    family header is added for you: from ``family=`` (``4``/``6`` or ``AF_INET``/
    ``AF_INET6``) or, when omitted, from the IP version nibble of ``data`` (a packet
    that is neither IPv4 nor IPv6 gets ``AF_INET``). For other linktypes ``family``
    must be omitted and ``data`` is written as given.

    ``target`` is a path (the file is created and owned by the writer) or an open
    binary stream (written to, flushed on close, never closed).
    """

    __slots__ = ("linktype", "snaplen", "packets", "_null")

    def __init__(self, target: str | PathLike[str] | BinaryIO, linktype: int, *, snaplen: int = SNAPLEN):
        if not 0 <= linktype <= 0xFFFF:
            raise ValueError(f"bad linktype {linktype!r}")
        if not 0 < snaplen <= 0xFFFFFFFF:
            raise ValueError(f"bad snaplen {snaplen!r}")
        self.linktype = linktype
        self.snaplen = snaplen
        self.packets = 0
        self._null = linktype == LINKTYPE_NULL
        super().__init__(target, "wb", buffering=_BUFFER_SIZE)
        self._write(_GLOBAL_LE.pack(MAGIC_NS, 2, 4, 0, 0, snaplen, linktype))

    def write(self, time_s: float, data: bytes | bytearray | memoryview, family: int | None = None) -> None:
        """Append one packet captured at simulated time ``time_s`` (seconds)."""
        ns = round(time_s * 1e9)
        if not 0 <= ns <= _MAX_NS:
            raise ValueError(f"pcap timestamp out of range: {time_s!r} s")
        write = self._write
        if self._null:
            if family is None:
                family = 6 if data and data[0] >> 4 == 6 else 4
            try:
                header = _NULL_HEADER[family]
            except KeyError:
                raise ValueError(f"family must be 4, 6, AF_INET or AF_INET6, not {family!r}") from None
            orig = len(data) + 4
            incl = orig if orig <= self.snaplen else self.snaplen
            write(_RECORD_LE.pack(ns // _NS_PER_S, ns % _NS_PER_S, incl, orig))
            write(header)
            write(data if incl == orig else data[: incl - 4])
        else:
            if family is not None:
                raise ValueError("family= is only meaningful for LINKTYPE_NULL files")
            orig = len(data)
            if orig <= self.snaplen:
                write(_RECORD_LE.pack(ns // _NS_PER_S, ns % _NS_PER_S, orig, orig))
                write(data)
            else:
                write(_RECORD_LE.pack(ns // _NS_PER_S, ns % _NS_PER_S, self.snaplen, orig))
                write(data[: self.snaplen])
        self.packets += 1


class PcapFormatError(ValueError):
    """The bytes are not a classic pcap file, or the file is cut short."""


@dataclass(frozen=True, slots=True)
class PcapCapture:
    """A whole pcap file: header fields and ``(time_ns, data)`` records as stored."""

    linktype: int
    snaplen: int
    nanosecond: bool
    packets: list[tuple[int, bytes]]


def load_pcap(source: str | PathLike[str] | bytes) -> PcapCapture:
    """Read a classic pcap file (µs or ns, either byte order). ``source``: path or bytes.

    Record data is returned as stored: a ``LINKTYPE_NULL`` record keeps its 4-byte
    family header. Raises ``PcapFormatError`` on a bad magic or a truncated file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        blob = bytes(source)
    else:
        with open(source, "rb") as f:
            blob = f.read()
    if len(blob) < _GLOBAL_LE.size:
        raise PcapFormatError(f"not a pcap file: {len(blob)} bytes, shorter than the 24-byte header")
    magic_le = int.from_bytes(blob[:4], "little")
    magic_be = int.from_bytes(blob[:4], "big")
    if magic_le in (MAGIC_NS, MAGIC_US):
        glob, rec, magic = _GLOBAL_LE, _RECORD_LE, magic_le
    elif magic_be in (MAGIC_NS, MAGIC_US):
        glob, rec, magic = _GLOBAL_BE, _RECORD_BE, magic_be
    else:
        raise PcapFormatError(f"not a classic pcap file (magic 0x{magic_be:08x})")
    nanosecond = magic == MAGIC_NS
    _, _major, _minor, _zone, _sigfigs, snaplen, linktype = glob.unpack_from(blob, 0)
    scale = 1 if nanosecond else 1000
    packets: list[tuple[int, bytes]] = []
    off = glob.size
    end = len(blob)
    unpack_from = rec.unpack_from
    while off < end:
        if off + rec.size > end:
            raise PcapFormatError(f"record {len(packets) + 1}: header cut short at byte {off}")
        sec, frac, incl, _orig = unpack_from(blob, off)
        off += rec.size
        if off + incl > end:
            raise PcapFormatError(f"record {len(packets) + 1}: {incl} bytes announced, {end - off} left")
        packets.append((sec * _NS_PER_S + frac * scale, blob[off : off + incl]))
        off += incl
    return PcapCapture(linktype & 0xFFFF, snaplen, nanosecond, packets)


def read_pcap(source: str | PathLike[str] | bytes) -> list[tuple[float, bytes]]:
    """``[(time_s, data), ...]`` of a pcap file, as ``load_pcap`` stores them."""
    return [(ns / 1e9, data) for ns, data in load_pcap(source).packets]

