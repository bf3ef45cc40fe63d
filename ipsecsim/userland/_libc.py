"""The little bits of libc the commands lean on, with libc's own semantics.

FreeBSD's tools parse numbers and addresses with ``strtol``, ``strtonum``,
``inet_aton`` and ``inet_network``; scenario authors type what those accept
(``0xffffff00``, ``10.2/16``, ``010`` as octal), so the simulator parses the
same way rather than with :mod:`ipaddress`, which is stricter.
"""

from ipaddress import IPv4Address, IPv6Address, ip_address

from ..netipsec.errnos import strerror
from ._core import Exit

__all__ = [
    "EX_USAGE", "EX_DATAERR", "EX_NOINPUT", "EX_NOHOST", "EX_UNAVAILABLE", "EX_SOFTWARE", "EX_OSERR",
    "getopt", "strerror", "strtol", "strtoul", "strtonum", "atoi", "inet_aton", "inet_network", "inet_lnaof",
    "parse_inet6", "HOSTS", "host_name", "routename",
]

# sysexits.h
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_NOHOST = 68
EX_UNAVAILABLE = 69
EX_SOFTWARE = 70
EX_OSERR = 71

def getopt(prog: str, optstring: str, args: list[str], usage: str,
           status: int = 1) -> tuple[list[tuple[str, str]], list[str]]:
    """getopt(3) as BSD programs loop over it: the (letter, argument) pairs in order, then the
    operands. Flags group (``-nq``); an option's argument is the rest of its word or the next
    word; ``--`` ends the options. A letter not in ``optstring`` or a missing argument is the
    program's usage(): ``prog: illegal option -- x`` and the usage text, exit ``status``."""
    takes = {optstring[i] for i in range(len(optstring) - 1) if optstring[i + 1] == ":"}
    opts: list[tuple[str, str]] = []
    i = 0
    while i < len(args) and args[i].startswith("-") and len(args[i]) > 1:
        if args[i] == "--":
            i += 1
            break
        word = args[i]
        for j in range(1, len(word)):
            ch = word[j]
            if ch not in optstring or ch == ":":
                message = f"{prog}: illegal option -- {ch}"
                raise Exit(status, f"{message}\n{usage}", diagnostic=message)
            if ch in takes:
                value = word[j + 1 :]
                if not value:
                    i += 1
                    if i >= len(args):
                        message = f"{prog}: option requires an argument -- {ch}"
                        raise Exit(status, f"{message}\n{usage}", diagnostic=message)
                    value = args[i]
                opts.append((ch, value))
                break
            opts.append((ch, ""))
        i += 1
    return opts, args[i:]


def _digits(text: str, base: int) -> int:
    """Length of the run of ``base`` digits at the start of ``text``."""
    n = 0
    for ch in text:
        if ch.isascii() and ch.isdigit():
            value = ord(ch) - 48
        elif ch.isascii() and ch.isalpha():
            value = ord(ch.lower()) - 87
        else:
            break
        if value >= base:
            break
        n += 1
    return n


def strtol(text: str, base: int = 0) -> tuple[int, str]:
    """C ``strtol``: the value and the unparsed rest (the whole text when nothing parsed)."""
    s = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if base in (0, 16) and s[:2].lower() == "0x" and _digits(s[2:], 16):
        base, s = 16, s[2:]
    elif base == 0:
        base = 8 if s[:1] == "0" else 10
    n = _digits(s, base)
    if n == 0:
        return 0, text
    return sign * int(s[:n], base), s[n:]


_ULONG_MAX = 2**64 - 1  # unsigned long on amd64


def strtoul(text: str, base: int = 0) -> tuple[int, str, str | None]:
    """C ``strtoul`` with a 64-bit ``unsigned long``: (value, unparsed rest, errno it set or None).

    No digits at all: 0, the whole text as the rest, and EINVAL (FreeBSD's libc sets it; an
    empty string is such a case, with an empty rest). Too large: ULONG_MAX and ERANGE. A
    leading ``-`` negates modulo 2**64, so ``-1`` is ULONG_MAX.
    """
    value, rest = strtol(text, base)
    if rest == text:
        return 0, rest, "EINVAL"
    if abs(value) > _ULONG_MAX:
        return _ULONG_MAX, rest, "ERANGE"
    return value % (_ULONG_MAX + 1), rest, None


def atoi(text: str) -> int:
    return strtol(text, 10)[0]


def strtonum(text: str, low: int, high: int) -> tuple[int, str | None]:
    """OpenBSD ``strtonum``: (value, None) or (0, "invalid" | "too small" | "too large")."""
    value, rest = strtol(text, 10)
    if not text or rest:
        return 0, "invalid"
    if value < low:
        return 0, "too small"
    if value > high:
        return 0, "too large"
    return value, None


def _parts(text: str) -> list[int] | None:
    """Dot-separated numbers, each in C notation (decimal, 0octal, 0xhex)."""
    if not text or not text[0].isdigit():
        return None
    parts = []
    for piece in text.split("."):
        if not piece:
            return None
        value, rest = strtol(piece, 0)
        if rest or piece[0] in "+- ":
            return None
        parts.append(value)
    return parts if len(parts) <= 4 else None


def inet_aton(text: str) -> IPv4Address | None:
    """``inet_aton(3)``: ``a.b.c.d``, ``a.b.c`` (c 16 bits), ``a.b`` (b 24 bits), ``a`` (32 bits)."""
    parts = _parts(text)
    if parts is None:
        return None
    *head, last = parts
    if any(p > 0xFF for p in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    value = last
    for i, p in enumerate(head):
        value |= p << (24 - 8 * i)
    return IPv4Address(value)


def inet_network(text: str) -> int | None:
    """``inet_network(3)``: up to four byte-sized parts, concatenated (``10.2`` is 0x0a02)."""
    parts = _parts(text)
    if parts is None or any(p > 0xFF for p in parts):
        return None
    value = 0
    for p in parts:
        value = value << 8 | p
    return None if value == 0xFFFFFFFF else value


def inet_lnaof(address: IPv4Address) -> int:
    """The classful host part (class A, B or C) of an address, as route(8) still uses it."""
    value = int(address)
    if value >> 31 == 0:
        return value & 0x00FFFFFF
    if value >> 30 == 0b10:
        return value & 0x0000FFFF
    return value & 0x000000FF


def parse_inet6(text: str) -> IPv6Address | None:
    """An IPv6 literal as numeric ``getaddrinfo`` accepts it; a ``%zone`` is accepted and dropped
    (the interface named on the command line already gives the scope)."""
    text = text.split("%", 1)[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    return address if address.version == 6 else None


# /etc/hosts of a fresh FreeBSD install (the part the simulator knows about).
HOSTS = {"localhost": (IPv4Address("127.0.0.1"), IPv6Address("::1"))}


def host_name(address) -> str:
    """Reverse lookup as getnameinfo() would answer it from /etc/hosts, else the number."""
    for name, addresses in HOSTS.items():
        if address in addresses:
            return name
    return str(address)


def routename(address, numeric: bool = False) -> str:
    """route(8)'s routename(): ``default`` for the unspecified address, /etc/hosts names, else numbers."""
    if not numeric:
        if address.is_unspecified:
            return "default"
        return host_name(address)
    return str(address)
