"""The Internet checksum (RFC 1071) and its incremental update (RFC 1624)."""

__all__ = ["internet_checksum", "checksum_adjust16"]


def internet_checksum(data: bytes | bytearray | memoryview, initial: int = 0) -> int:
    """Return the 16-bit one's complement checksum of ``data``.

    ``initial`` is a partial sum of 16-bit words to start from (a pseudo-header's,
    for UDP). The one's complement sum of 16-bit words equals the whole buffer,
    read as one big-endian integer, modulo 0xFFFF (2^16 == 1 mod 0xFFFF), which
    CPython computes in C: 0.2 us for a header, 2.5 us for 1400 bytes. The only
    difference is that a non-zero sum divisible by 0xFFFF is 0xFFFF, not 0.
    """
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total = (int.from_bytes(data, "big") + initial) % 0xFFFF
    if total == 0 and (initial or any(data)):
        total = 0xFFFF
    return ~total & 0xFFFF


def checksum_adjust16(checksum: int, old_word: int, new_word: int) -> int:
    """Update ``checksum`` after one 16-bit word changed from ``old_word`` to ``new_word``.

    RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). Forwarding uses it for the TTL.
    """
    total = (~checksum & 0xFFFF) + (~old_word & 0xFFFF) + new_word
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
