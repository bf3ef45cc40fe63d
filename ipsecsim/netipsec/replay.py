"""The anti-replay window and sequence counter of one SA, as FreeBSD's ``struct secreplay``.

[S7.4] [S7.5] [S6.6]. FreeBSD keeps one ``count`` per SA: ``esp_output`` increments
it before every packet sent (so the first packet carries 1), ``ipsec_updatereplay``
increments it per packet accepted when the window is on. The window is an RFC 6479
bitmap of 32-bit blocks (a power of two of them, one redundant), checked twice:
:meth:`ReplayWindow.check` before any crypto (``ipsec_chkreplay``) and
:meth:`ReplayWindow.update` only after the ICV verified (``ipsec_updatereplay``).

The logic follows FreeBSD's ESN-era ipsec.c (``th``/``tl``/``bl``, RFC 4303
Appendix A); it was read from memory of that code and from [S7.5], not from the
stored sources, which predate ESN: DERIVED, tested against [S7.5]'s statements.
"""

from __future__ import annotations

from typing import Final

from .errors import EspReplay, EspWrap

__all__ = ["ReplayWindow"]

_M32: Final = 0xFFFFFFFF


class ReplayWindow:
    """Sequence counter plus anti-replay bitmap. ``wsize`` is setkey's ``-r``, in bytes.

    ``wsize == 0`` (setkey's default) turns the check off: everything is accepted and
    ``count`` only counts packets sent. ``last`` is the highest 64-bit sequence number
    accepted; ``overflow`` counts non-ESN wraps seen (``replay->overflow``).
    """

    __slots__ = ("wsize", "window", "bitmap", "_mask", "last", "count", "overflow", "esn", "cyclic")

    def __init__(self, wsize: int = 0, *, esn: bool = False, cyclic: bool = True):
        if wsize < 0:
            raise ValueError("replay window size must be >= 0")
        self.wsize = wsize
        self.window = wsize * 8  # packets [S7.4]
        # key_setsaval sizes the bitmap to the next power of two of (bytes + 4):
        # the window plus one redundant 32-bit block (RFC 6479). UNCONFIRMED sizing;
        # any size >= window + 32 bits behaves identically.
        size = 1
        while size < wsize + 4:
            size <<= 1
        blocks = size // 4 if wsize else 0
        self.bitmap = [0] * blocks
        self._mask = blocks - 1
        self.last = 0
        self.count = 0
        self.overflow = 0
        self.esn = esn
        self.cyclic = cyclic

    def _seen(self, seq: int) -> bool:
        return bool(self.bitmap[(seq >> 5) & self._mask] >> (seq & 31) & 1)

    def _mark(self, seq: int) -> None:
        self.bitmap[(seq >> 5) & self._mask] |= 1 << (seq & 31)

    def _advance(self, seq64: int) -> None:
        """Clear the blocks between the old top of window and ``seq64``'s block (RFC 6479)."""
        cur = self.last >> 5
        diff = min((seq64 >> 5) - cur, len(self.bitmap))
        bitmap, mask = self.bitmap, self._mask
        for i in range(1, diff + 1):
            bitmap[(cur + i) & mask] = 0

    def _wrapped(self) -> None:
        """The high half would wrap on a non-ESN SA: drop unless the SA is cyclic. [S7.5]"""
        self.overflow += 1
        if not self.cyclic:
            raise EspWrap("sequence number wrapped on an SA without cyclic sequence numbers")

    def check(self, seq: int) -> int:
        """``ipsec_chkreplay``: cheap check before crypto; returns the inferred high 32 bits.

        Raises :class:`EspReplay` (or :class:`EspWrap`) when the packet must be dropped.
        The high half is what ESN puts in the ICV/AAD (RFC 4303 Appendix A).
        """
        if self.wsize == 0:
            return 0
        last = self.last
        tl = last & _M32
        if tl < seq and tl >= self.window - 1:  # the common case: the next packet, in order
            return last >> 32
        if seq == 0 and last == 0:
            raise EspReplay("sequence number 0")
        window = self.window
        th = last >> 32
        bl = (tl - window + 1) & _M32  # bottom of window, low half
        if (tl >= window - 1 and seq >= bl) or (tl < window - 1 and seq < bl):
            if seq <= tl and self._seen(seq):
                raise EspReplay("duplicate")
            return th
        if tl == _M32 and not self.esn:
            self._wrapped()
        if tl < window - 1 and seq >= bl:  # inside the window, in the previous subspace
            if th == 0 or self._seen(seq):
                raise EspReplay("duplicate or before the first subspace")
            return th - 1
        seqh = (th + 1) & _M32  # beyond the top, in the next subspace
        if seqh == 0:
            self._wrapped()
        return seqh

    def update(self, seq: int) -> None:
        """``ipsec_updatereplay``: after the ICV verified, mark ``seq`` and move the window.

        A non-ESN packet older than the window passes :meth:`check` (it looks like
        the next subspace) and is refused here. [S7.5]
        """
        if self.wsize == 0:
            return
        last = self.last
        tl = last & _M32
        if tl < seq and tl >= self.window - 1:  # the common case, as in check()
            seq64 = last - tl + seq
            if seq64 >> 5 != last >> 5:
                self._advance(seq64)
            self.bitmap[(seq >> 5) & self._mask] |= 1 << (seq & 31)
            self.last = seq64
            self.count += 1
            return
        if seq == 0 and last == 0:
            raise EspReplay("sequence number 0")
        window = self.window
        th = last >> 32
        bl = (tl - window + 1) & _M32
        if (tl >= window - 1 and seq >= bl) or (tl < window - 1 and seq < bl):
            if seq <= tl:
                if self._seen(seq):
                    raise EspReplay("duplicate")
                self._mark(seq)
            else:
                seq64 = (th << 32) | seq
                self._advance(seq64)
                self._mark(seq)
                self.last = seq64
            self.count += 1
            return
        if not self.esn:
            raise EspReplay("older than the window")
        if tl < window - 1 and seq >= bl:
            if th == 0 or self._seen(seq):
                raise EspReplay("duplicate or before the first subspace")
            self._mark(seq)
            self.count += 1
            return
        seqh = th + 1
        if seqh > _M32:
            raise EspReplay("extended sequence number space exhausted")
        seq64 = (seqh << 32) | seq
        self._advance(seq64)
        self._mark(seq)
        self.last = seq64
        self.count += 1

    def __repr__(self) -> str:
        return f"ReplayWindow(wsize={self.wsize}, last={self.last}, count={self.count}, esn={self.esn})"
