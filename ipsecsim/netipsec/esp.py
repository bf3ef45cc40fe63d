"""RFC 4303 ESP output and input with FreeBSD's layout and checks (``esp_output``/``esp_input``).

These functions are :meth:`SecurityAssociation.encapsulate` and
:meth:`SecurityAssociation.decapsulate`: the per-packet path. It is written flat on
purpose (PERFORMANCE-NOTES): everything that depends only on the SA is computed
once in the SA (header sizes, trailer tables, checksum partial sums, bound crypto
methods), headers are one ``struct`` pack, and the common case (tunnel mode, an
outer IPv4 header without options) avoids the general parser. Layout [S6.4]::

    [outer IP][SPI 4][Seq 4][IV ivlen][payload][padding][pad length 1][next header 1][ICV]

The order of the input checks is FreeBSD's, because it decides which counter a
bad packet bumps [S9.1] [S9.2]: header length (hdrops), SA (notdb), alignment and
block multiple (badilen), early replay (replay), ICV (badauth), replay update
(replay), pad length (badilen), pad contents (badenc), next header 59 (silent).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .algorithms import SADB_X_EXT_PRAND
from .errors import EspBadenc, EspBadilen, EspDrop, EspDummy, EspHdrops, EspNopf, EspNotdb, EspToobig
from ..packet import internet_checksum
from .outer import IPPROTO_ESP, ecn_ingress, parse_ip

if TYPE_CHECKING:
    from .outer import OuterHeaderConfig
    from .sa import SecurityAssociation

__all__ = ["encapsulate", "decapsulate", "esp_input", "peek_spi", "IP_MAXPACKET", "SEQ_PAD"]

IP_MAXPACKET = 65535  # also IPV6_MAXPACKET [S6.5]
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41
IPPROTO_NONE = 59
SEQ_PAD = [bytes(range(1, n + 1)) for n in range(256)]  # self-describing padding 1, 2, 3, ... [S6.5]
_ESP_HDR = struct.Struct("!II")
# Outer header + SPI + sequence number; addresses as one field (source || destination).
_IP4_ESP = struct.Struct("!HHHHHH8sII")  # version/IHL/TOS, length, ID, flags, TTL/protocol, checksum
_IP6_ESP = struct.Struct("!IHBB32sII")
_IN4 = struct.Struct("!2xH5xB6x4sII")  # IPv4 (no options): total length, protocol, dst, SPI, seq


def peek_spi(packet: bytes) -> tuple[int, bytes]:
    """The (SPI, packed outer destination) of an incoming ESP packet, for the SA lookup. [S7.2]

    FreeBSD looks SAs up by SPI and destination only (``key_allocsa``). Raises
    :class:`EspHdrops` when the packet is not an IP packet carrying at least an
    8-byte ESP header (``ipsec_common_input``'s "packet too small"). [S9.1]
    """
    version, skip, protoff, length = parse_ip(packet)
    if packet[protoff] != IPPROTO_ESP:
        raise EspHdrops("not ESP")
    if length - skip < 8:
        raise EspHdrops("shorter than an ESP header")
    dst = bytes(packet[16:20] if version == 4 else packet[24:40])
    return _ESP_HDR.unpack_from(packet, skip)[0], dst


def trailer(sa: SecurityAssociation, rlen: int, nh: int) -> bytes:
    """Padding, pad length and next header for ``rlen`` payload bytes. [S6.5]

    ``blks = MAX(4, blocksize)``, the padding counts the two trailer bytes, and the
    pad is 1, 2, 3, ... (default, from the SA's table), zeros, or random bytes.
    """
    padlen = sa._padlens[rlen % sa._pad_block]
    style = sa._pad_style
    if style == 0:
        return SEQ_PAD[padlen] + bytes((padlen, nh))
    if style == SADB_X_EXT_PRAND:
        return sa.rng.randbytes(padlen) + bytes((padlen, nh))
    # PZERO, and PRAND|PZERO for which esp_output writes nothing at all: zeros here
    # (FreeBSD leaves whatever m_pad's buffer held; UNCONFIRMED).
    return bytes(padlen) + bytes((padlen, nh))


def encapsulate(
    sa: SecurityAssociation,
    inner: bytes,
    *,
    now: float = 0.0,
    outer: OuterHeaderConfig | None = None,
    mode: str | None = None,
) -> bytes:
    """Protect one IP packet and return the whole outer IP packet. [S6.1]-[S6.10]

    Tunnel mode wraps ``inner`` in a new outer header (addresses = the SA's, TTL /
    hop limit, DF, DSCP/ECN and IP ID from ``outer``, by default the SA's own
    config). Transport mode inserts ESP after ``inner``'s IP header (and IPv6
    extension headers), keeping that header apart from protocol, length and
    checksum. ``mode`` overrides the SA's mode ("tunnel" or "transport"); an SA of
    mode "any" tunnels, as if_ipsec's policies ask. ``now`` stamps first use.
    Raises :class:`EspNopf` (inner neither IPv4 nor IPv6, or of the other family
    in transport mode), :class:`EspHdrops` (inner shorter than its header) or
    :class:`EspToobig` (over 65535 bytes), after counting it on ``sa.stats``.
    """
    st = sa.stats
    try:
        if (mode or sa._encap_mode) != "tunnel":
            return _transport_output(sa, inner, now)
        # The SA's constants in one read (see SecurityAssociation._freeze).
        blks, trail4, trail41, overhead, family, csum_base, addrs, spi, iv_kind, seal, alg = sa._tx
        cfg = outer or sa.outer
        n = len(inner)
        version = inner[0] >> 4 if n else 0
        if version == 4 and n >= 20:
            nh, tos = 4, inner[1]  # next header IPPROTO_IPIP
            dfbit = cfg.dfbit  # ipsec_encap: 0 clear, 1 set, any other value copies the inner DF
            df = 0x4000 if dfbit == 1 or (dfbit and inner[6] & 0x40) else 0  # IP_DF
            body = inner + (trail4[n % blks] if trail4 else trailer(sa, n, nh))
        elif version == 6 and n >= 40:
            nh, tos = 41, ((inner[0] & 0x0F) << 4) | (inner[1] >> 4)  # IPPROTO_IPV6
            df = 0x4000 if cfg.dfbit else 0  # ipsec_encap: any non-zero dfbit sets DF over IPv6 inner
            body = inner + (trail41[n % blks] if trail41 else trailer(sa, n, nh))
        elif version in (4, 6):
            raise EspHdrops("inner packet shorter than its IP header")
        else:
            raise EspNopf(f"inner packet of IP version {version}")
        total = overhead + len(body)
        st.esps_output += 1
        if total > 65535:  # IP_MAXPACKET [S6.5]
            raise EspToobig(f"{total} bytes")
        st.esps_obytes += n
        replay = sa.replay
        count = replay.count + 1  # the first packet carries 1; no wrap check on output [S6.6]
        replay.count = count
        if family == 4:
            # ip_fillid [S6.1]: 0 for DF under RFC 6864, else random or the counter
            if df and cfg.rfc6864:
                ident = 0
            elif cfg.random_id and cfg.next_random_ip_id is not None:
                ident = cfg.next_random_ip_id()
            else:
                ident = cfg.next_ip_id()
            ecn = cfg.ecn
            otos = tos & 0xFC if ecn == 0 else ecn_ingress(ecn, tos)
            ttl = cfg.ttl
            # One's complement checksum: the 16-bit words' sum is taken mod 0xFFFF, and
            # -sum % 0xFFFF is its complement (never 0xFFFF: the sum is never 0).
            csum = -(csum_base + otos + total + ident + df + (ttl << 8)) % 0xFFFF
            head = _IP4_ESP.pack(0x4500 | otos, total, ident, df, (ttl << 8) | 50, csum, addrs, spi, count & 0xFFFFFFFF)
        else:
            ecn = cfg.ecn6
            tclass = tos & 0xFC if ecn == 0 else ecn_ingress(ecn, tos)  # [S6.2]
            head = _IP6_ESP.pack(0x60000000 | (tclass << 20), total - 40, 50, cfg.hop_limit, addrs, spi, count & 0xFFFFFFFF)
        if iv_kind == 1:  # explicit IV = per-SA counter from 0 [S6.7]
            c = sa.cntr
            sa.cntr = (c + 1) & 0xFFFFFFFFFFFFFFFF
            iv = c.to_bytes(8, "big")
        else:
            iv = _next_iv(sa)
        out = seal(head, count >> 32, iv, body)
        st.esps_hist[alg] += 1
        cur = sa.current  # key_sa_recordxfer in ipsec_process_done: the whole packet (DERIVED)
        cur.bytes += total
        cur.allocations += 1
        if cur.firstused is None:
            cur.firstused = now
        return out
    except EspDrop as drop:
        st.count_drop(drop)
        raise


def _next_iv(sa: SecurityAssociation) -> bytes:
    """The explicit IV: per-SA counter from 0 (CTR, GCM, ChaCha20) or random (CBC). [S6.7]"""
    kind = sa._iv_kind
    if kind == 1:
        c = sa.cntr
        sa.cntr = (c + 1) & 0xFFFFFFFFFFFFFFFF
        return c.to_bytes(8, "big")
    if kind == 2:
        return sa.rng.getrandbits(128).to_bytes(16, "big")
    return b""


def _transport_output(sa: SecurityAssociation, inner: bytes, now: float) -> bytes:
    """Transport mode: ESP goes between the packet's IP header (with extensions) and its payload."""
    version = inner[0] >> 4 if inner else 0
    if version != sa._family:
        raise EspNopf(f"transport mode IPv{version} packet on an IPv{sa._family} SA")
    _, skip, protoff, length = parse_ip(inner)
    nh = inner[protoff]
    rlen = length - skip
    body = inner[skip:length] + trailer(sa, rlen, nh)
    total = skip + sa._hlen + len(body) + sa._alen
    st = sa.stats
    st.esps_output += 1
    if total > IP_MAXPACKET:
        raise EspToobig(f"{total} bytes")
    st.esps_obytes += rlen
    replay = sa.replay
    count = replay.count + 1
    replay.count = count
    head = _rebuild_header(inner[:skip], protoff, IPPROTO_ESP, total) + _ESP_HDR.pack(sa.spi, count & 0xFFFFFFFF)
    out = sa._seal(head, count >> 32, _next_iv(sa), body)
    st.esps_hist[sa._alg_id] += 1
    sa.current.record(total, now)
    return out


def _rebuild_header(hdr: bytes, protoff: int, proto: int, total: int) -> bytes:
    """The IP header with a new protocol byte and length, IPv4 checksum recomputed."""
    h = bytearray(hdr)
    h[protoff] = proto
    if h[0] >> 4 == 4:
        h[2:4] = total.to_bytes(2, "big")
        h[10:12] = b"\x00\x00"
        h[10:12] = internet_checksum(h).to_bytes(2, "big")
    else:
        h[4:6] = (total - 40).to_bytes(2, "big")
    return bytes(h)


def decapsulate(sa: SecurityAssociation, packet: bytes, *, now: float = 0.0) -> bytes:
    """Check, decrypt and strip one ESP packet addressed to this SA; see :func:`esp_input`."""
    return esp_input(sa, packet, now=now)[0]


def esp_input(sa: SecurityAssociation, packet: bytes, *, now: float = 0.0) -> tuple[bytes, bool]:
    """Check, decrypt and strip one ESP packet addressed to this SA. [S9.1]-[S9.3]

    Returns ``(packet, tunnelled)``: ``tunnelled`` is True when the outer header
    was stripped (the kernel then hands the inner packet to IP input and, for a
    tunnel-mode SA, to if_ipsec's attribution [S9.3]).

    Returns the inner packet when the next header is IPv4/IPv6 and the SA mode is
    not transport (FreeBSD strips the outer header for tunnel *and* any); otherwise
    the IP header rebuilt around the payload (protocol, length, checksum fixed).
    Raises only :class:`EspDrop` subclasses, whatever the bytes, having counted
    them on ``sa.stats``; :class:`EspDummy` (next header 59) counts nothing.
    """
    st = sa.stats
    st.esps_input += 1
    try:
        n = len(packet)
        if n >= 28 and packet[0] == 0x45:  # IPv4 without options: the common case
            length, proto, dst, spi, seq = _IN4.unpack_from(packet)
            if proto != 50 or length > n or length < 28:
                raise EspHdrops("bad IPv4 length or not ESP")
            skip, protoff = 20, 9
        else:
            version, skip, protoff, length = parse_ip(packet)
            if packet[protoff] != IPPROTO_ESP:
                raise EspHdrops("not ESP")
            if length - skip < 8:
                raise EspHdrops("shorter than an ESP header")  # [S9.1]
            dst = packet[16:20] if version == 4 else packet[24:40]
            spi, seq = _ESP_HDR.unpack_from(packet, skip)
        if length < n:  # ip_input trims link padding beyond the IP length
            packet, n = packet[:length], length
        sa_spi, sa_dst, hlen, alen, blockmask, early_replay, open_, esn_aad, alg, check_pad, strip = sa._rx
        if spi != sa_spi or dst != sa_dst:
            raise EspNotdb(f"no SA for SPI {spi:#010x}")  # key_allocsa [S7.2]
        if skip & 3 or n & 3:
            raise EspBadilen("misaligned packet")
        plen = n - skip - hlen - alen
        if plen <= 0 or plen & blockmask:
            raise EspBadilen(f"payload of {plen} bytes")
        replay = sa.replay
        # The early check runs only with authentication and a window (ipsec_chkreplay). [S7.5]
        seqh = replay.check(seq) if early_replay else 0
        st.esps_ibytes += plen
        st.esps_hist[alg] += 1
        pt = open_(packet, skip, seqh, esn_aad)
        if replay.wsize:
            replay.update(seq)  # only after the ICV verified [S7.5]
        padlen = pt[-2]
        nh = pt[-1]
        if padlen + 2 > plen:
            raise EspBadilen(f"pad length {padlen}")
        if padlen and check_pad and pt[-3] != padlen:  # unless random padding [S9.2]
            raise EspBadenc("pad does not describe itself")
        if nh == 59:  # IPPROTO_NONE: RFC 4303 2.6, dropped silently [S9.2]
            raise EspDummy("next header 59 (dummy packet)")
        out = pt[: len(pt) - padlen - 2]
        tunnelled = (nh == 4 or nh == 41) and strip
        if tunnelled:  # IPIP / IPv6 and not transport mode [S9.3]
            if len(out) < (20 if nh == 4 else 40):
                raise EspHdrops("inner packet shorter than its header")
        else:
            out = _rebuild_header(packet[:skip], protoff, nh, skip + len(out)) + out
        cur = sa.current  # key_sa_recordxfer: the delivered length [S9.3]
        cur.bytes += len(out)
        cur.allocations += 1
        if cur.firstused is None:
            cur.firstused = now
        return out, tunnelled
    except EspDrop as drop:
        st.count_drop(drop)  # EspDummy names no counter: nothing is counted
        raise
