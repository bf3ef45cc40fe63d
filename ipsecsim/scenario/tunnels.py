"""The ``tunnels:`` shorthand: one entry per if_ipsec(4) tunnel, expanded into the lines an
administrator types on both of its hosts.

    tunnels:
      - a: {host: A, outer: 192.168.0.3, inner: 172.16.0.3/16, reqid: 100}
        b: {host: B, outer: 192.168.0.5, inner: 172.16.0.5/16, reqid: 200}
        encryption: rijndael-cbc
        keys: {a_to_b: "VerySecureKey!!1", b_to_a: "VerySecureKey!!2"}
        spi: {a_to_b: 10000, b_to_a: 10001}

is, on host A, the example of the if_ipsec(4) manual page [S12.3]::

    ifconfig ipsec0 create reqid 100
    ifconfig ipsec0 inet tunnel 192.168.0.3 192.168.0.5
    ifconfig ipsec0 inet 172.16.0.3/16 172.16.0.5
    setkey -c <<EOF
    add 192.168.0.3 192.168.0.5 esp 10000 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!1";
    add 192.168.0.5 192.168.0.3 esp 10001 -m tunnel -u 100 -E rijndael-cbc "VerySecureKey!!2";
    EOF

and, on host B, its mirror image with B's reqid. Nothing here touches a kernel: the builder
runs these lines in the host's shell before the host's own ``run:`` block, so they succeed or
fail exactly as typed ones would, at the file position of the tunnel value they come from.

This module holds the schema of an entry, key derivation (``key_seed``), the reqids the
kernel will pick (by running the kernel's own choice, ``init_reqid`` over a ``key_newreqid``
counter), and the expansion. How entries fit the rest of the scenario (hosts exist,
key lengths, unique SPIs, reqids and interface names per host) is checked in ``checks.py``.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, NamedTuple

from pydantic import PlainSerializer, model_validator

from ..kernel.if_ipsec import IfIpsecError, init_reqid
from ..netipsec.algorithms import AUTH_ALGORITHMS, ENC_ALGORITHMS, AuthAlgorithm, EncAlgorithm, auth_algorithm, enc_algorithm
from ..netipsec.reqid import AUTO_REQID_FIRST, ReqidCounter
from .fields import HostName, Int, Script, Text, _address, _checked
from .node import Node
from .units import UnitError, describe
from .yamlmarks import MarkedMap

if TYPE_CHECKING:
    from .models import Scenario

__all__ = [
    "AUTO_REQID_FIRST", "DEFAULT_ENCRYPTION", "DIRECTIONS", "HostScript", "SaKey", "Tunnel", "TunnelEnd",
    "TunnelKeys", "TunnelSpis", "cipher_key_bits", "default_spis", "derive_key", "enc_key_sizes", "explain", "expand",
    "host_scripts", "join_scripts", "kernel_reqids",
]  # fmt: skip

DEFAULT_ENCRYPTION = "aes-gcm-16"
SIDES = ("a", "b")
DIRECTIONS = ("a_to_b", "b_to_a")
FIRST_SPI = 0x1000  # tunnels[i] gets 0x1000 + 2i (a_to_b) and 0x1000 + 2i + 1 (b_to_a) by default
MAX_REPLAY = (2**32 - 32) // 8  # setkey -r: larger is "too large" [S10.5]
IF_MAXUNIT = 0x7FFF  # sys/net/if_clone.h

# setkey knows these names but FreeBSD's kernel has no such transform: setkey says "Not supported"
_SETKEY_ONLY = {"des-cbc", "3des-cbc", "blowfish-cbc", "cast128-cbc", "des-deriv", "des-32iv", "simple",
                "camellia-cbc", "hmac-md5", "keyed-md5", "keyed-sha1", "hmac-ripemd160", "aes-xcbc-mac", "tcp-md5"}
ENC_NAMES = ("rijndael-cbc", *ENC_ALGORITHMS)
AUTH_NAMES = tuple(AUTH_ALGORITHMS)

# --- field types -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaKey:
    """An SA key: its bytes, and whether it was written as ``0x`` hex (else it is text)."""

    data: bytes
    hex: bool = False

    @property
    def setkey(self) -> str:
        """The key as a setkey argument: ``"text"`` when that is safe, else ``0x`` hex. [S10.6]

        Text goes in quotes when it is printable ASCII without ``"`` (setkey cannot quote it)
        and without ``\\``, ``$`` or a backquote (sh would expand them in an ``<<EOF`` body).
        """
        if not self.data:
            return '""'
        if not self.hex and all(0x20 <= c < 0x7F and c not in b'"\\$`' for c in self.data):
            return f'"{self.data.decode("ascii")}"'
        return "0x" + self.data.hex()

    def __str__(self) -> str:
        """As written in the scenario (how ``model_dump`` shows it)."""
        return "0x" + self.data.hex() if self.hex else self.data.decode("utf-8", "surrogatepass")


_HEX = re.compile(r"0[xX]([0-9A-Fa-f]+)")
_IPSEC_NAME = re.compile(r"ipsec(0|[1-9][0-9]*)")


def _key(value: object) -> SaKey:
    if isinstance(value, SaKey):
        return value
    if isinstance(value, str):
        hexdigits = _HEX.fullmatch(value.strip())
        if hexdigits is None:
            return SaKey(value.encode("utf-8", "surrogatepass"))
        if len(hexdigits[1]) % 2:
            raise UnitError(f"{describe(value)} has an odd number of hex digits; write two digits per byte")
        return SaKey(bytes.fromhex(hexdigits[1]), hex=True)
    if isinstance(value, int) and not isinstance(value, bool):
        raise UnitError(f"{describe(value)} is a number; write a text key in quotes (\"{value}\") or hex bytes (0x...)")
    raise UnitError(f"{describe(value)} is not a key; write text in quotes or hex bytes (0x...)")


def _one_of(value: object, names: Iterable[str], what: str) -> str:
    names = list(names)
    if not isinstance(value, str) or not value.strip():
        raise UnitError(f"{describe(value)} is not an {what} name; write one of: {', '.join(names)}")
    if value in names:
        return value
    if value in _SETKEY_ONLY:
        raise UnitError(f"'{value}' is not in FreeBSD's kernel (setkey says Not supported); write one of: {', '.join(names)}")
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; write one of: {', '.join(names)}"
    raise UnitError(f"'{value}' is not an {what} algorithm{hint}")


def _encryption(value: object) -> str:
    if value is None:  # `encryption: null` is YAML's empty value, not the algorithm
        raise UnitError('an empty value; for ESP without encryption write encryption: "null" (in quotes)')
    return _one_of(value, ENC_NAMES, "encryption")


def _inner(value: object) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, ...]:
    if isinstance(value, tuple):
        return value
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 2:
        raise UnitError("write one inner address (172.16.0.3/16), or a list of one IPv4 and one IPv6 address")
    out: list[ipaddress.IPv4Interface | ipaddress.IPv6Interface] = []
    for item in items:
        if not isinstance(item, str) or "/" not in item:
            try:
                ipaddress.ip_address(item.strip() if isinstance(item, str) else "")
            except ValueError:
                raise UnitError(f"{describe(item)} is not ADDRESS/PREFIXLEN; write it like 172.16.0.3/16 or 2001:db8::3/64") from None
            text = str(item).strip()
            raise UnitError(f"{describe(item)} has no prefix length; write it like {text}/{24 if '.' in text else 64}")
        try:
            address = ipaddress.ip_interface(item.strip())
        except ValueError:
            raise UnitError(f"{describe(item)} is not ADDRESS/PREFIXLEN; write it like 172.16.0.3/16 or 2001:db8::3/64") from None
        if address.ip.is_unspecified or address.ip.is_multicast or address.ip.is_loopback:
            raise UnitError(f"{describe(item)} is not a unicast address an interface can have")
        if any(a.version == address.version for a in out):
            raise UnitError(f"two IPv{address.version} addresses; an end has at most one IPv4 and one IPv6 inner address")
        out.append(address)
    return tuple(out)


def _outer(value: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = _address(value)
    if address.is_unspecified or address.is_multicast:
        raise UnitError(f"{describe(value)} cannot be a tunnel endpoint (ifconfig: SIOCSIFPHYADDR: Can't assign requested address)")
    return address


def _ipsec_name(value: object) -> str:
    if isinstance(value, str) and (m := _IPSEC_NAME.fullmatch(value)) and int(m[1]) <= IF_MAXUNIT:
        return value
    raise UnitError(f"{describe(value)} is not an if_ipsec interface name; write ipsec and a unit number, e.g. ipsec0")


def _inner_dump(inner: tuple) -> object:
    return str(inner[0]) if len(inner) == 1 else [str(a) for a in inner]


Key = Annotated[SaKey, _checked(_key), PlainSerializer(str)]
EncName = Annotated[str, _checked(_encryption)]
AuthName = Annotated[str, _checked(lambda v: _one_of(v, AUTH_NAMES, "authentication"))]
Inner = Annotated[tuple, _checked(_inner), PlainSerializer(_inner_dump)]
Outer = Annotated[ipaddress.IPv4Address | ipaddress.IPv6Address, _checked(_outer)]
IpsecName = Annotated[str, _checked(_ipsec_name)]
U32 = Annotated[int, Int(0, 2**32 - 1)]

# --- the models --------------------------------------------------------------------------------


class TunnelEnd(Node):
    """One end: its host, outer (tunnel) address, inner address(es) on ``interface``, reqid."""

    host: HostName
    outer: Outer
    inner: Inner  # one or two (an IPv4 and an IPv6) ADDRESS/PREFIXLEN
    reqid: U32 | None = None  # None: the kernel picks one when the tunnel is set [S2.4]
    interface: IpsecName = ""  # "" until loaded: then the host's next free ipsecN


class TunnelKeys(Node):
    """One key per direction: ``a_to_b`` protects what a sends to b."""

    a_to_b: Key
    b_to_a: Key

    @model_validator(mode="before")
    @classmethod
    def _hex_as_written(cls, data: object) -> object:
        """Unquoted ``0x00ff...`` is a YAML integer: take its text, leading zeros and all."""
        if isinstance(data, MarkedMap):
            for key, value in list(data.items()):
                span = data.value_spans.get(key)
                if type(value) is int and span is not None and _HEX.fullmatch(span.text.strip()):
                    data = data.replaced(key, span.text.strip())
        return data

    def __getitem__(self, direction: str) -> SaKey:
        return getattr(self, direction)


class TunnelSpis(Node):
    """The SPI of each direction's SA."""

    a_to_b: U32
    b_to_a: U32

    def __getitem__(self, direction: str) -> int:
        return getattr(self, direction)


class Tunnel(Node):
    """An if_ipsec(4) tunnel between two hosts, with its two manually keyed ESP SAs."""

    name: Text = ""  # "" until loaded: then "A-B" ("A-B-2"... if taken)
    a: TunnelEnd | None = None  # required; checks.py says so with a tunnel-shaped example
    b: TunnelEnd | None = None
    encryption: EncName = DEFAULT_ENCRYPTION  # a setkey -E name, written into the lines as is
    authentication: AuthName | None = None  # setkey -A; none with an AEAD cipher
    keys: TunnelKeys | None = None  # encryption keys; or key_seed
    auth_keys: TunnelKeys | None = None  # with keys and authentication
    key_seed: Annotated[int, Int(0, 2**64 - 1)] | None = None  # derive every key from this
    key_bits: Annotated[int, Int(1, 4096)] | None = None  # derived cipher key size; default the smallest
    spi: TunnelSpis | None = None  # None until loaded: then default_spis(index)
    replay: Annotated[int, Int(0, MAX_REPLAY)] | None = None  # setkey -r, bytes (window = 8x packets)

    def end(self, side: str) -> TunnelEnd:
        return self.a if side == "a" else self.b  # type: ignore[return-value]

    @property
    def enc(self) -> EncAlgorithm:
        return enc_algorithm(self.encryption)

    @property
    def auth(self) -> AuthAlgorithm | None:
        return None if self.authentication is None else auth_algorithm(self.authentication)

    def sa_keys(self, direction: str) -> tuple[SaKey, SaKey | None]:
        """(encryption key, authentication key or None) of the ``direction`` SA."""
        auth = self.auth
        if self.key_seed is None:
            enc_key = self.keys[direction] if self.keys else SaKey(b"")
            auth_key = self.auth_keys[direction] if self.auth_keys else None
            return enc_key, auth_key if auth is not None and auth.key_len else None
        enc = self.enc
        bits = self.key_bits if self.key_bits is not None else min(cipher_key_bits(enc))
        enc_key = SaKey(derive_key(self.key_seed, direction, enc.name, bits // 8 + enc.salt), hex=True)
        if auth is None or not auth.key_len:
            return enc_key, None
        return enc_key, SaKey(derive_key(self.key_seed, direction, auth.name, auth.key_len), hex=True)


# --- keys, SPIs, reqids --------------------------------------------------------------------------


def cipher_key_bits(alg: EncAlgorithm) -> tuple[int, ...]:
    """The cipher key sizes in bits (salt excluded) FreeBSD accepts for ``alg``. [S6.9] [S10.6]"""
    sizes = alg.kernel_keys if alg.kernel_keys is not None else range(alg.key_min, alg.key_max + 1)
    return tuple(8 * n for n in sizes)


def enc_key_sizes(alg: EncAlgorithm) -> tuple[int, ...]:
    """The key lengths in bytes, salt included, a setkey ``-E`` key may have for ``alg``."""
    return tuple(bits // 8 + alg.salt for bits in cipher_key_bits(alg))


def derive_key(seed: int, direction: str, algorithm: str, length: int) -> bytes:
    """``length`` key bytes for ``key_seed: seed``: SHAKE-256 of a label, so always the same.

    The label ``"ipsecsim key_seed SEED DIRECTION ALGORITHM LENGTH"`` names the direction and
    the algorithm (its table name: ``rijndael-cbc`` and ``aes-cbc`` derive the same key), so
    the two SAs and the cipher and HMAC keys differ. No RNG: the same seed, the same keys.
    """
    label = f"ipsecsim key_seed {seed} {direction} {algorithm} {length}".encode()
    return hashlib.shake_256(label).digest(length)


def default_spis(index: int) -> tuple[int, int]:
    """(a_to_b, b_to_a) SPIs of ``tunnels[index]`` when none are written."""
    return FIRST_SPI + 2 * index, FIRST_SPI + 2 * index + 1


class ReqidClash(NamedTuple):
    """An explicit reqid an earlier interface on the host already has (ifconfig: File exists),
    or, with no ``owner``, an end the kernel finds no free reqid for (reqid 0 then)."""

    tunnel: int  # its index in the list kernel_reqids was given
    side: str
    reqid: int
    owner: tuple[int, str] | None  # (tunnel index, side) that has it
    automatic: bool  # whether the owner got it from the kernel


def kernel_reqids(tunnels: list[Tunnel]) -> tuple[dict[tuple[int, str], int], list[ReqidClash]]:
    """The reqid of every tunnel end's interface, and the explicit ones that clash.

    Tunnels are set up in file order on fresh hosts (before any ``run:`` line), so the kernel
    gives an end without ``reqid`` the host's next ``key_newreqid`` value (16385, 16386, ...)
    that no earlier if_ipsec interface of the host has: ``ipsec_init_reqid`` [S2.1] [S2.2].
    This runs the kernel's own choice (:func:`~ipsecsim.kernel.if_ipsec.init_reqid`) over a
    fresh counter per host, as each host's key engine will.
    """
    reqids: dict[tuple[int, str], int] = {}
    clashes: list[ReqidClash] = []
    counters: dict[str, ReqidCounter] = {}
    owners: dict[str, dict[int, tuple[tuple[int, str], bool]]] = {}
    for i, tunnel in enumerate(tunnels):
        for side in SIDES:
            end = tunnel.end(side)
            if end is None:
                continue
            used = owners.setdefault(end.host, {})
            if end.reqid:
                if end.reqid in used:
                    owner, automatic = used[end.reqid]
                    clashes.append(ReqidClash(i, side, end.reqid, owner, automatic))
                used.setdefault(end.reqid, ((i, side), False))
                reqids[(i, side)] = end.reqid
                continue
            try:
                n = init_reqid(counters.setdefault(end.host, ReqidCounter()), used.__contains__)
            except IfIpsecError:
                clashes.append(ReqidClash(i, side, 0, None, True))
                reqids[(i, side)] = 0
                continue
            used[n] = ((i, side), True)
            reqids[(i, side)] = n
    return reqids, clashes


# --- the expansion ------------------------------------------------------------------------------


def expand(tunnel: Tunnel, index: int, side: str, reqid: int) -> list[tuple[str, tuple[int, int]]]:
    """The lines for ``side``'s host, each with the (line, col) of the value it comes from.

    ``reqid`` is the interface's (:func:`kernel_reqids`); the SAs carry it as ``-u``, since
    an if_ipsec policy only uses SAs of its reqid [S7.1].
    """
    end, peer = tunnel.end(side), tunnel.end("b" if side == "a" else "a")
    ifname = end.interface
    family = "inet" if end.outer.version == 4 else "inet6"
    lines = [
        (f"ifconfig {ifname} create" + (f" reqid {end.reqid}" if end.reqid else ""), end.pos_of("reqid")),
        (f"ifconfig {ifname} {family} tunnel {end.outer} {peer.outer}", end.pos_of("outer")),
    ]
    for inner in end.inner:
        dest = next((p.ip for p in peer.inner if p.version == inner.version), None)
        lines.append((_address_line(ifname, inner, dest), end.pos_of("inner")))
    here = tunnel.pos
    a_to_b, b_to_a = default_spis(index)
    spis = tunnel.spi or TunnelSpis.model_construct(a_to_b=a_to_b, b_to_a=b_to_a)
    lines.append(("setkey -c <<EOF", here))
    for direction in DIRECTIONS:
        lines.append((_add_line(tunnel, direction, spis[direction], reqid), here))
    lines.append(("EOF", here))
    return lines


def _address_line(ifname: str, inner, dest) -> str:
    """``inet A/len B`` as in [S12.3]. IPv6 with a destination needs prefixlen 128
    (``in6_update_ifa``: EINVAL otherwise), so a shorter IPv6 prefix is set without one."""
    if inner.version == 4:
        return f"ifconfig {ifname} inet {inner.with_prefixlen}" + (f" {dest}" if dest is not None else "")
    if inner.network.prefixlen == 128 and dest is not None:
        return f"ifconfig {ifname} inet6 {inner.ip} {dest} prefixlen 128"
    return f"ifconfig {ifname} inet6 {inner.with_prefixlen}"


def _add_line(tunnel: Tunnel, direction: str, spi: int, reqid: int) -> str:
    a, b = tunnel.end("a"), tunnel.end("b")
    src, dst = (a.outer, b.outer) if direction == "a_to_b" else (b.outer, a.outer)
    enc_key, auth_key = tunnel.sa_keys(direction)
    words = ["add", str(src), str(dst), "esp", str(spi), "-m", "tunnel", "-u", str(reqid)]
    if tunnel.replay is not None:
        words += ["-r", str(tunnel.replay)]
    words += ["-E", tunnel.encryption, enc_key.setkey]
    if tunnel.authentication is not None:
        words += ["-A", tunnel.authentication] + ([auth_key.setkey] if auth_key is not None else [])
    return " ".join(words) + ";"


class HostScript(NamedTuple):
    """One script a host runs at time 0, and where in the file it was written."""

    path: str  # "tunnels[0].a" or "hosts.A.run"
    title: str  # "tunnels[0].a (A-B)", for --explain
    where: str  # "FILE:LINE:COL" of the tunnel end or of the run: block's first line
    script: Script


def host_scripts(scn: Scenario) -> dict[str, list[HostScript]]:
    """Per host of a loaded scenario, what it runs at time 0, in order: the lines of each of
    its tunnel ends (one script each, in file order), then its own ``run:`` block."""
    reqids, _ = kernel_reqids(scn.tunnels)
    out: dict[str, list[HostScript]] = {name: [] for name in scn.hosts}
    for i, tunnel in enumerate(scn.tunnels):
        for side in SIDES:
            end = tunnel.end(side)
            lines = expand(tunnel, i, side, reqids[(i, side)])
            script = Script("\n".join(text for text, _ in lines), tunnel.file, tuple(pos for _, pos in lines))
            path = f"tunnels[{i}].{side}"
            out.setdefault(end.host, []).append(HostScript(path, f"{path} ({tunnel.name})", end.where(), script))
    for name, spec in scn.hosts.items():
        if spec.run is not None:
            path = f"hosts.{name}.run"
            out[name].append(HostScript(path, path, spec.run.where(0) if spec.run.lines else "", spec.run))
    return out


def join_scripts(scripts: Iterable[Script]) -> Script:
    """Scripts one after another as one script, every line keeping its position."""
    scripts = list(scripts)
    lines: list[tuple[int, int]] = []
    for s in scripts:
        count = len(s.text.split("\n"))
        lines += list(s.lines[:count]) + [s.position(count)] * (count - len(s.lines))
    file = scripts[0].file if scripts else "<string>"
    return Script("\n".join(s.text for s in scripts), file, tuple(lines))


def explain(scn: Scenario) -> str:
    """What each host runs at time 0, exactly as it will run, under ``#`` comment headers
    naming where each part was written (``ipsecsim check --explain``)."""
    blocks = []
    for host, parts in host_scripts(scn).items():
        lines = [f"# host {host}"]
        for part in parts:
            lines.append(f"# {part.title}" + (f" at {part.where}" if part.where else ""))
            lines.append(part.script.text.removesuffix("\n"))
        if not parts:
            lines.append("# (nothing to run)")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
