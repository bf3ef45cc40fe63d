"""RFC 4303 ESP output and input with FreeBSD's layout and checks (``esp_output``/``esp_input``).

The per-packet path. Everything that depends only on the SA lives in its
:class:`~._plan.EspPlan`, built once (``esp_init``); per packet these functions read
the plan by name, pack the outer header, ESP header and counter IV in one ``struct``
call, and make one crypto call (docs/performance.md, ESP core). Layout [S6.4]::

    [outer IP][SPI 4][Seq 4][IV ivlen][payload][padding][pad length 1][next header 1][ICV]

Input takes the offset of the ESP header that IP input already found, as FreeBSD's
``esp_input(m, sav, skip, protoff)`` does; :func:`decapsulate` is the stand-alone entry
that parses the outer header once, checks the SPI and destination, then does the same.
The order of the input checks is FreeBSD's, because it decides which counter a bad
packet bumps [S9.1] [S9.2]: header length (hdrops), SA (notdb), alignment and block
multiple (badilen), early replay (replay), ICV (badauth), replay update (replay), pad
length (badilen), pad contents (badenc), next header 59 (silent).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag

from ._plan import IV_COUNTER, IV_RANDOM, EspPlan, trailer
from .errors import EspBadauth, EspBadenc, EspBadilen, EspDrop, EspDummy, EspHdrops, EspNopf, EspNotdb, EspToobig
from ..packet import internet_checksum
from ..packet.errors import MalformedPacket
from ..packet.iphdr import destination, locate_payload, protocol_offset
from .outer import IPPROTO_ESP, ecn_ingress

if TYPE_CHECKING:
    from .outer import OuterHeaderConfig
    from .sa import SecurityAssociation

__all__ = ["esp_output", "esp_input", "encapsulate", "decapsulate", "peek_spi", "IP_MAXPACKET"]

IP_MAXPACKET: Final = 65535  # also IPV6_MAXPACKET [S6.5]
_M32: Final = 0xFFFFFFFF
_M64: Final = 0xFFFFFFFFFFFFFFFF
_ESP_HDR: Final = struct.Struct("!II")
_ESN_AAD: Final = struct.Struct("!III")  # SPI || seq high || seq low [RFC4106 5]
# Outer header + SPI + sequence number (+ the 8-byte counter IV); addresses as one field.
_IP4_ESP: Final = struct.Struct("!HHHHHH8sII")  # version/IHL/TOS, length, ID, flags, TTL/protocol, checksum
_IP4_ESP_IV: Final = struct.Struct("!HHHHHH8sIIQ")
_IP6_ESP: Final = struct.Struct("!IHBB32sII")
_IP6_ESP_IV: Final = struct.Struct("!IHBB32sIIQ")
_IN4: Final = struct.Struct("!2xH5xB6x4sII")  # IPv4 (no options): total length, protocol, dst, SPI, seq


def _locate_esp(packet: bytes) -> tuple[int, int]:
    """``(skip, length)`` of an ESP packet not yet through IP input: the outer header
    checked as ``ip_input``/``ip6_input`` do (by :func:`~ipsecsim.packet.iphdr.locate_payload`),
    then that it carries ESP and at least an 8-byte ESP header. Raises :class:`EspHdrops`:
    to the ESP code a header that does not parse is a header drop. [S9.1]
    """
    try:
        _, skip, proto, length = locate_payload(packet)
    except MalformedPacket as bad:
        raise EspHdrops(bad.reason) from None
    if proto != IPPROTO_ESP:
        raise EspHdrops("not ESP")
    if length - skip < 8:
        raise EspHdrops("shorter than an ESP header")
    return skip, length


def peek_spi(packet: bytes, skip: int | None = None) -> tuple[int, bytes]:
    """The (SPI, packed outer destination) of an incoming ESP packet, for the SA lookup. [S7.2]

    FreeBSD looks SAs up by SPI and destination only (``key_allocsa``). ``skip`` is the
    ESP header's offset when IP input already knows it (then nothing is parsed);
    without it the IP header is parsed. Raises :class:`EspHdrops` when the packet is
    not an IP packet carrying at least an 8-byte ESP header (``ipsec_common_input``'s
    "packet too small"). [S9.1]
    """
    if skip is None:
        skip = _locate_esp(packet)[0]
    elif len(packet) - skip < 8:
        raise EspHdrops("shorter than an ESP header")
    dst = bytes(destination(packet))
    return _ESP_HDR.unpack_from(packet, skip)[0], dst


def esp_output(
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
    p = sa.plan
    st = sa.stats
    try:
        if (mode or p.encap_mode) != "tunnel":
            return _transport_output(sa, p, inner, now)
        cfg = outer or sa.outer
        n = len(inner)
        version = inner[0] >> 4 if n else 0
        if version == 4 and n >= 20:
            nh, tos = 4, inner[1]  # next header IPPROTO_IPIP
            dfbit = cfg.dfbit  # ipsec_encap: 0 clear, 1 set, any other value copies the inner DF
            df = 0x4000 if dfbit == 1 or (dfbit and inner[6] & 0x40) else 0  # IP_DF
            trailers = p.trailers4
        elif version == 6 and n >= 40:
            nh, tos = 41, ((inner[0] & 0x0F) << 4) | (inner[1] >> 4)  # IPPROTO_IPV6
            df = 0x4000 if cfg.dfbit else 0  # ipsec_encap: any non-zero dfbit sets DF over IPv6 inner
            trailers = p.trailers41
        elif version in (4, 6):
            raise EspHdrops("inner packet shorter than its IP header")
        else:
            raise EspNopf(f"inner packet of IP version {version}")
        r = n % p.pad_block
        tail = trailers[r] if trailers is not None else trailer(p.padlens[r], nh, p.pad_style, sa.rng)
        total = p.overhead + n + len(tail)
        st.esps_output += 1
        if total > 65535:  # IP_MAXPACKET [S6.5]
            raise EspToobig(f"{total} bytes")
        st.esps_obytes += n
        replay = sa.replay
        count = replay.count + 1  # the first packet carries 1; no wrap check on output [S6.6]
        replay.count = count
        seq = count & _M32
        counter_iv = p.iv_kind == IV_COUNTER
        if counter_iv:  # explicit IV = per-SA counter from 0, packed with the headers [S6.7]
            c = sa.cntr
            sa.cntr = (c + 1) & _M64
        if p.family == 4:
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
            csum = -(p.csum_base + otos + total + ident + df + (ttl << 8)) % 0xFFFF
            if counter_iv:
                head = _IP4_ESP_IV.pack(0x4500 | otos, total, ident, df, (ttl << 8) | 50, csum, p.addrs, p.spi, seq, c)
            else:
                head = _IP4_ESP.pack(0x4500 | otos, total, ident, df, (ttl << 8) | 50, csum, p.addrs, p.spi, seq)
        else:
            ecn = cfg.ecn6
            vtf = 0x60000000 | ((tos & 0xFC if ecn == 0 else ecn_ingress(ecn, tos)) << 20)  # [S6.2]
            if counter_iv:
                head = _IP6_ESP_IV.pack(vtf, total - 40, 50, cfg.hop_limit, p.addrs, p.spi, seq, c)
            else:
                head = _IP6_ESP.pack(vtf, total - 40, 50, cfg.hop_limit, p.addrs, p.spi, seq)
        encrypt = p.aead_encrypt
        if encrypt is not None:  # AES-GCM, ChaCha20-Poly1305: nonce = salt || IV [S6.7]
            aad = head[-16:-8] if not p.esn else _ESN_AAD.pack(p.spi, count >> 32, seq)
            out = head + encrypt(p.salt + head[-8:], inner + tail, aad)
        elif counter_iv:  # AES-CTR
            out = p.seal(head[:-8], count >> 32, head[-8:], inner + tail)
        else:
            out = p.seal(head, count >> 32, _random_iv(sa, p), inner + tail)
        st.esps_hist[p.alg_id] += 1
        cur = sa.current  # key_sa_recordxfer in ipsec_process_done: the whole packet (DERIVED)
        cur.bytes += total
        cur.allocations += 1
        if cur.firstused is None:
            cur.firstused = now
        return out
    except EspDrop as drop:
        st.count_drop(drop)
        raise


encapsulate = esp_output


def _random_iv(sa: SecurityAssociation, p: EspPlan) -> bytes:
    """The explicit IV of CBC: random, from the SA's RNG; none for NULL. [S6.7]"""
    if p.iv_kind == IV_RANDOM:
        return sa.rng.getrandbits(128).to_bytes(16, "big")
    return b""


def _next_iv(sa: SecurityAssociation, p: EspPlan) -> bytes:
    """The explicit IV: per-SA counter from 0 (CTR, GCM, ChaCha20) or random (CBC). [S6.7]"""
    if p.iv_kind == IV_COUNTER:
        c = sa.cntr
        sa.cntr = (c + 1) & _M64
        return c.to_bytes(8, "big")
    return _random_iv(sa, p)


def _transport_output(sa: SecurityAssociation, p: EspPlan, inner: bytes, now: float) -> bytes:
    """Transport mode: ESP goes between the packet's IP header (with extensions) and its payload."""
    version = inner[0] >> 4 if inner else 0
    if version != p.family:
        raise EspNopf(f"transport mode IPv{version} packet on an IPv{p.family} SA")
    try:
        _, skip, nh, length = locate_payload(inner)
    except MalformedPacket as bad:
        raise EspHdrops(bad.reason) from None
    protoff = protocol_offset(inner, skip)
    rlen = length - skip
    body = inner[skip:length] + trailer(p.padlens[rlen % p.pad_block], nh, p.pad_style, sa.rng)
    total = skip + p.hlen + len(body) + p.icv_len
    st = sa.stats
    st.esps_output += 1
    if total > IP_MAXPACKET:
        raise EspToobig(f"{total} bytes")
    st.esps_obytes += rlen
    replay = sa.replay
    count = replay.count + 1
    replay.count = count
    head = _rebuild_header(inner[:skip], protoff, IPPROTO_ESP, total) + _ESP_HDR.pack(p.spi, count & _M32)
    out = p.seal(head, count >> 32, _next_iv(sa, p), body)
    st.esps_hist[p.alg_id] += 1
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
    """Check, decrypt and strip one ESP packet addressed to this SA; see :func:`esp_input`.

    The stand-alone entry: parses the outer header once (as ``ip_input`` would, link
    padding beyond the IP length trimmed), looks the SA up by SPI and destination
    (:class:`EspNotdb` when they are not this SA's [S7.2]), then runs :func:`esp_input`
    at the ESP header's offset. Raises only :class:`EspDrop` subclasses, counted.
    """
    try:
        n = len(packet)
        if n >= 28 and packet[0] == 0x45:  # IPv4 without options: the common case
            length, proto, dst, spi, _ = _IN4.unpack_from(packet)
            if proto != 50 or length > n or length < 28:
                raise EspHdrops("bad IPv4 length or not ESP")
            skip, protoff = 20, 9
        else:
            skip, length = _locate_esp(packet)
            protoff = protocol_offset(packet, skip)
            dst = destination(packet)
            spi = _ESP_HDR.unpack_from(packet, skip)[0]
        p = sa.plan
        if spi != p.spi or dst != p.dst:
            raise EspNotdb(f"no SA for SPI {spi:#010x}")  # key_allocsa [S7.2]
    except EspDrop as drop:
        st = sa.stats
        st.esps_input += 1
        st.count_drop(drop)
        raise
    if length < n:  # ip_input trims link padding beyond the IP length
        packet = packet[:length]
    return esp_input(sa, packet, skip, protoff, now=now)[0]


def esp_input(
    sa: SecurityAssociation, packet: bytes, skip: int, protoff: int | None = None, *, now: float = 0.0
) -> tuple[bytes, bool]:
    """Check, decrypt and strip one ESP packet of this SA at offset ``skip``. [S9.1]-[S9.3]

    FreeBSD's ``esp_input(m, sav, skip, protoff)``: ``packet`` is the IP datagram as IP
    input hands it on (trimmed to the IP length), ``skip`` the ESP header's offset (the
    outer header's length, IPv6 extension headers included), ``protoff`` the offset of
    the byte that says ESP (9 for IPv4; found by walking the extension headers when
    ``None`` and needed). The SA is the one the caller found for the SPI and
    destination; nothing here re-parses the outer header.

    Returns ``(packet, tunnelled)``: the inner packet and True when the next header
    is IPv4/IPv6 and the SA mode is not transport (FreeBSD strips the outer header
    for tunnel *and* any [S9.3]); otherwise the IP header rebuilt around the payload
    (protocol, length, checksum fixed) and False.
    Raises only :class:`EspDrop` subclasses, whatever the bytes, having counted
    them on ``sa.stats``; :class:`EspDummy` (next header 59) counts nothing.
    """
    p = sa.plan
    st = sa.stats
    st.esps_input += 1
    try:
        n = len(packet)
        if n - skip < 8:
            raise EspHdrops("shorter than an ESP header")  # [S9.1]
        if skip & 3 or n & 3:
            raise EspBadilen("misaligned packet")
        plen = n - skip - p.hlen - p.icv_len
        if plen <= 0 or plen & p.blockmask:
            raise EspBadilen(f"payload of {plen} bytes")
        replay = sa.replay
        seq = 0
        if replay.wsize:
            seq = _ESP_HDR.unpack_from(packet, skip)[1]
        # The early check runs only with authentication and a window (ipsec_chkreplay). [S7.5]
        seqh = replay.check(seq) if p.early_replay else 0
        st.esps_ibytes += plen
        st.esps_hist[p.alg_id] += 1
        decrypt = p.aead_decrypt
        if decrypt is not None:  # AES-GCM, ChaCha20-Poly1305: verify and decrypt in one call
            iv = skip + 8
            if p.esn_aad:
                aad = _ESN_AAD.pack(p.spi, seqh, seq)
            else:
                aad = packet[skip:iv]
            try:
                pt = decrypt(p.salt + packet[iv : iv + 8], packet[iv + 8 :], aad)
            except InvalidTag:
                raise EspBadauth("AEAD tag mismatch") from None
        else:
            pt = p.open(packet, skip, seqh, p.esn_aad)
        if replay.wsize:
            replay.update(seq)  # only after the ICV verified [S7.5]
        end = len(pt) - 2
        padlen = pt[end]
        nh = pt[end + 1]
        if padlen + 2 > plen:
            raise EspBadilen(f"pad length {padlen}")
        if padlen and p.check_pad and pt[end - 1] != padlen:  # unless random padding [S9.2]
            raise EspBadenc("pad does not describe itself")
        if nh == 59:  # IPPROTO_NONE: RFC 4303 2.6, dropped silently [S9.2]
            raise EspDummy("next header 59 (dummy packet)")
        out = pt[: end - padlen]
        tunnelled = (nh == 4 or nh == 41) and p.strip
        if tunnelled:  # IPIP / IPv6 and not transport mode [S9.3]
            if len(out) < (20 if nh == 4 else 40):
                raise EspHdrops("inner packet shorter than its header")
        else:
            version = packet[0] >> 4
            if skip < (20 if version == 4 else 40) or version not in (4, 6):
                raise EspHdrops("no IP header in front of the ESP header")  # a caller's bad offset
            if protoff is None:
                protoff = protocol_offset(packet, skip)
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
