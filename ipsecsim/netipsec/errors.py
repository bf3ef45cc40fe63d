"""Typed errors of the ESP core: drops named after FreeBSD's counters, and setkey errors.

Two directions, as in h11 (STYLE.md section 1): :class:`EspDrop` is what the network
did to us (any bytes at all end in a packet or one of these), :class:`SetkeyError` is
what a user or a scenario asked for that FreeBSD would refuse.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "EspDrop",
    "EspHdrops",
    "EspNopf",
    "EspNotdb",
    "EspNoxform",
    "EspBadilen",
    "EspWrap",
    "EspBadenc",
    "EspBadauth",
    "EspReplay",
    "EspToobig",
    "EspPdrops",
    "EspQfull",
    "EspDummy",
    "SetkeyError",
]


class EspDrop(Exception):
    """A packet the ESP code dropped; ``counter`` is the ``struct espstat`` field it bumps.

    Cannot be raised itself: every drop has a name (DESIGN.md, behaviour rules).
    ``also`` lists counters FreeBSD bumps on the same path in addition to ``counter``.
    ``reason`` is a short human phrase for event logs; it never contains key material.
    """

    counter: ClassVar[str | None] = None
    also: ClassVar[tuple[str, ...]] = ()

    def __init__(self, reason: str = ""):
        if type(self) is EspDrop:
            raise TypeError("raise a subclass of EspDrop, which names the counter")
        super().__init__(reason or self.counter or "dropped")
        self.reason = reason or (self.counter or "dropped")


class EspHdrops(EspDrop):
    """Packet shorter than the headers it claims, or an outer IP header that does not parse. [S9.1]"""

    counter = "esps_hdrops"


class EspNopf(EspDrop):
    """Protocol family not supported: an inner packet that is neither IPv4 nor IPv6."""

    counter = "esps_nopf"


class EspNotdb(EspDrop):
    """No SA for this (SPI, destination). [S7.2] [S9.1]"""

    counter = "esps_notdb"


class EspNoxform(EspDrop):
    """The SA has no transform (kept for the kernel; the core never raises it). [S9.1]"""

    counter = "esps_noxform"


class EspBadilen(EspDrop):
    """Bad length: misaligned packet, payload not a block multiple, or pad length too big. [S9.2]"""

    counter = "esps_badilen"


class EspReplay(EspDrop):
    """Anti-replay check failed (duplicate, too old, or sequence number 0). [S7.5]"""

    counter = "esps_replay"


class EspWrap(EspReplay):
    """Non-ESN sequence space exhausted on an SA added with ``-f nocyclic-seq``. [S7.5]

    ``ipsec_chkreplay`` counts ``esps_wrap`` and returns failure, and ``esp_input``
    then counts ``esps_replay`` as for any failed check (DERIVED from ipsec.c and
    xform_esp.c read together), hence ``also``.
    """

    counter = "esps_wrap"
    also = ("esps_replay",)


class EspBadenc(EspDrop):
    """Decryption produced a pad that does not describe itself. [S9.2]"""

    counter = "esps_badenc"


class EspBadauth(EspDrop):
    """ICV (HMAC or AEAD tag) did not verify. [S9.2]"""

    counter = "esps_badauth"


class EspToobig(EspDrop):
    """The ESP packet would exceed 65535 bytes. [S6.5]"""

    counter = "esps_toobig"


class EspPdrops(EspDrop):
    """ESP disabled (``net.inet.esp.esp_enable=0``); for the kernel. [S9.1]"""

    counter = "esps_pdrops"


class EspQfull(EspDrop):
    """The netisr queue was full after decryption; for the kernel. [S9.3]"""

    counter = "esps_qfull"


class EspDummy(EspDrop):
    """Next header 59 (IPPROTO_NONE): a dummy packet, dropped silently. [S9.2] [RFC4303 2.6]

    FreeBSD counts nothing for it, so ``counter`` is ``None``; it is still an
    exception so that ``decapsulate`` keeps one return type (the packet) and the
    kernel can log "dummy packet" as the reason.
    """

    counter = None


class SetkeyError(ValueError):
    """What setkey(8) would print and refuse. [S10.3]

    ``message`` is setkey's own text ("Invalid key length", "Not supported",
    "syntax error", "Invalid argument"); ``output`` (and ``str()``) is the whole text
    setkey prints for it, when the line context is known:

    * ``kind="parse"``: ``line N: MESSAGE at [TOKEN]`` then ``parse failed, line N.``
      (yyerror, then parse()); ``message=None`` is a parser action that returns -1
      without yyerror, which prints only the second line;
    * ``kind="fatal"``: ``line N: MESSAGE at [TOKEN]`` alone (yyfatal exits at once);
    * ``kind="kernel"``: ``The result of line N: MESSAGE.`` (script mode), the
      kernel's answer to the PF_KEY message; ``errno`` names the error;
    * ``kind="unsupported"``: something FreeBSD accepts that ipsecsim does not model.

    ``detail`` explains kernel errors in plain words; it is not part of ``output``.
    ``offset`` is where in setkey's input the token (or statement) it names starts, when
    known: setkey itself prints only the line, the simulator also points at the column.
    """

    def __init__(
        self,
        message: str | None,
        *,
        kind: str = "parse",
        lineno: int | None = None,
        at: str | None = None,
        errno: str | None = None,
        detail: str = "",
        warnings: tuple[str, ...] = (),
        offset: int | None = None,
    ):
        self.message = message
        self.offset = offset  # where in setkey's input the statement or token it names starts
        self.kind = kind
        self.lineno = lineno
        self.at = at
        self.errno = errno
        self.detail = detail
        self.warnings = warnings
        super().__init__(self.output)

    @property
    def output(self) -> str:
        """The text setkey prints, without the trailing newline."""
        n = self.lineno
        if self.kind == "kernel":
            return f"The result of line {n}: {self.message}." if n is not None else f"{self.message}."
        if self.kind == "unsupported":
            return f"ipsecsim: {self.message}"
        lines = list(self.warnings)
        if self.message is not None:
            if n is None:
                lines.append(self.message)
            else:
                lines.append(f"line {n}: {self.message} at [{self.at if self.at is not None else ''}]")
        if self.kind == "parse" and n is not None:
            lines.append(f"parse failed, line {n}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.output

    def __repr__(self) -> str:
        extra = f", detail={self.detail!r}" if self.detail else ""
        return f"SetkeyError({self.output!r}, kind={self.kind!r}{extra})"
