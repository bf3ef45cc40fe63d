"""``struct espstat`` (sys/netipsec/esp_var.h) as a slotted dataclass, one per SA and per host."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .errors import EspDrop

__all__ = ["EspStat"]


@dataclass(slots=True)
class EspStat:
    """ESP counters with FreeBSD's field names, so ``netstat -s -p esp`` can print them.

    ``esps_hist`` is FreeBSD's per-algorithm histogram, kept sparse: SADB encryption
    algorithm id -> operations (one per packet encrypted or decrypted).
    """

    esps_hdrops: int = 0  # packet shorter than header shows
    esps_nopf: int = 0  # protocol family not supported
    esps_notdb: int = 0  # no SA for the SPI
    esps_badkcr: int = 0
    esps_qfull: int = 0
    esps_noxform: int = 0
    esps_badilen: int = 0
    esps_wrap: int = 0  # replay counter wrapped around
    esps_badenc: int = 0  # bad encryption detected
    esps_badauth: int = 0  # only valid for transforms with auth
    esps_replay: int = 0  # possible packet replay detected
    esps_input: int = 0  # input ESP packets
    esps_output: int = 0  # output ESP packets
    esps_invalid: int = 0  # trying to use an invalid TDB
    esps_ibytes: int = 0  # input bytes
    esps_obytes: int = 0  # output bytes
    esps_toobig: int = 0  # packet got larger than IP_MAXPACKET
    esps_pdrops: int = 0  # packet blocked due to policy
    esps_crypto: int = 0  # crypto processing failure
    esps_tunnel: int = 0  # tunnel sanity check failure
    esps_hist: dict[int, int] = field(default_factory=dict)

    def inc(self, counter: str, n: int = 1) -> None:
        """Add ``n`` to the counter named ``counter`` (a field name)."""
        setattr(self, counter, getattr(self, counter) + n)

    def count_drop(self, drop: EspDrop) -> None:
        """Bump the counters a drop names (none for a silent drop such as next header 59)."""
        if drop.counter is not None:
            self.inc(drop.counter)
        for name in drop.also:
            self.inc(name)

    def add(self, other: EspStat) -> None:
        """Add every counter of ``other`` into this one (host totals from per-SA sets)."""
        for f in fields(self):
            if f.name == "esps_hist":
                for alg, n in other.esps_hist.items():
                    self.esps_hist[alg] = self.esps_hist.get(alg, 0) + n
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        """Non-zero scalar counters, for reports and tests."""
        return {f.name: v for f in fields(self) if f.name != "esps_hist" and (v := getattr(self, f.name))}
