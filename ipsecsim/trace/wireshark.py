"""Export ESP keys for Wireshark: the ``esp_sa`` UAT file and the tshark command.

Wireshark keeps its ESP SA table ("ESP SAs", preference ``esp.sa_table``) in a UAT
file named ``esp_sa`` in the personal configuration directory. One record per line,
eight double-quoted fields separated by commas, in this order (packet-ipsec.c,
``esp_uat_flds``)::

    "IPv4","192.168.0.3","192.168.0.5","0x00002710","AES-CBC [RFC3602]","0x5665...31","HMAC-SHA-1-96 [RFC2404]","0x4141...41"

protocol (``IPv4``/``IPv6``), source, destination, SPI, encryption algorithm (its
display string), encryption key, authentication algorithm (display string),
authentication key. Keys starting with ``0x`` are hex (we always write hex); the SPI is
read with ``strtoul(.., 0)``; ``#`` lines are comments. AES-GCM, AES-CTR and ChaCha20
keys include the 4-byte salt at the end, as in FreeBSD's setkey. AEAD rows must use
``NULL`` authentication.

Where tshark finds the file: ``$WIRESHARK_CONFIG_DIR/esp_sa`` when that variable is
set (it replaces the personal config dir), else ``$XDG_CONFIG_HOME/wireshark/esp_sa``
or ``~/.config/wireshark/esp_sa``; a profile (``-C NAME``) reads
``<config dir>/profiles/NAME/esp_sa``. Rows can also be given on the command line with
``-o 'uat:esp_sa:<record>'``. Decryption needs ``-o esp.enable_encryption_decode:TRUE``;
``-o esp.enable_authentication_check:TRUE`` also checks HMAC ICVs (``esp.icv_good``).

Verified with tshark 4.0.17. That version has no ChaCha20-Poly1305 (the string
``ChaCha20 with Poly1305 [RFC7634]`` came with later releases): it prints
``Error loading table 'ESP SAs': esp_sa:N: invalid value`` for such a row and keeps
the others, so ChaCha20 rows are written last, after a comment saying so.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Iterable, Literal

__all__ = [
    "EspSaRow",
    "ENCRYPTION_NAMES",
    "AUTHENTICATION_NAMES",
    "ESP_SA_FILENAME",
    "esp_sa_record",
    "format_esp_sa_uat",
    "write_esp_sa_uat",
    "tshark_uat_options",
    "tshark_decrypt_command",
    "IKEV2_TABLE_FILENAME",
    "format_ikev2_decryption_table",
    "write_ikev2_decryption_table",
]

ESP_SA_FILENAME = "esp_sa"

# FreeBSD setkey -E names -> Wireshark's ESP encryption display strings.
ENCRYPTION_NAMES: dict[str, str] = {
    "null": "NULL",
    "rijndael-cbc": "AES-CBC [RFC3602]",
    "aes-cbc": "AES-CBC [RFC3602]",
    "aes-ctr": "AES-CTR [RFC3686]",
    "aes-gcm-16": "AES-GCM with 16 octet ICV [RFC4106]",
    "chacha20-poly1305": "ChaCha20 with Poly1305 [RFC7634]",
}
_AEAD = frozenset({"aes-gcm-16", "chacha20-poly1305"})
_SALTED = {"aes-ctr": 4, "aes-gcm-16": 4, "chacha20-poly1305": 4}  # trailing nonce/salt bytes
_KEY_BYTES = {
    "null": (0,),
    "rijndael-cbc": (16, 24, 32),
    "aes-cbc": (16, 24, 32),
    "aes-ctr": (20, 28, 36),
    "aes-gcm-16": (20, 28, 36),
    "chacha20-poly1305": (36,),
}
_NEWER_WIRESHARK = frozenset({"chacha20-poly1305"})  # not in tshark 4.0

# FreeBSD setkey -A names -> Wireshark's ESP authentication display strings. FreeBSD's
# hmac-sha2-* truncate to half the hash (RFC 4868); Wireshark's "-96" variant of
# SHA-256 is the pre-RFC draft and is not what FreeBSD sends.
AUTHENTICATION_NAMES: dict[str | None, str] = {
    None: "NULL",
    "null": "NULL",
    "hmac-sha1": "HMAC-SHA-1-96 [RFC2404]",
    "hmac-sha2-256": "HMAC-SHA-256-128 [RFC4868]",
    "hmac-sha2-384": "HMAC-SHA-384-192 [RFC4868]",
    "hmac-sha2-512": "HMAC-SHA-512-256 [RFC4868]",
    "hmac-md5": "HMAC-MD5-96 [RFC2403]",
    "aes-xcbc-mac": "ANY 96 bit authentication [no checking]",  # Wireshark cannot check it
}


@dataclass(frozen=True, slots=True)
class EspSaRow:
    """One SA as Wireshark needs it, named with FreeBSD setkey's algorithm names.

    ``family`` is the outer (tunnel endpoint) address family; ``src``/``dst`` are the
    SA's endpoints as in ``setkey add SRC DST esp SPI``.
    """

    family: Literal[4, 6]
    src: str
    dst: str
    spi: int
    encryption: str
    enc_key: bytes
    authentication: str | None = None
    auth_key: bytes = b""

    def __post_init__(self) -> None:
        if self.family not in (4, 6):
            raise ValueError(f"family must be 4 or 6, not {self.family!r}")
        for name in ("src", "dst"):
            try:
                addr = ipaddress.ip_address(getattr(self, name))
            except ValueError:
                raise ValueError(f"{name} is not an IP address: {getattr(self, name)!r}") from None
            if addr.version != self.family:
                raise ValueError(f"{name} {addr} is not an IPv{self.family} address")
        if not 0 <= self.spi <= 0xFFFFFFFF:
            raise ValueError(f"SPI out of range: {self.spi!r}")
        if self.encryption not in ENCRYPTION_NAMES:
            raise ValueError(f"unknown encryption algorithm {self.encryption!r}; known: {sorted(ENCRYPTION_NAMES)}")
        if self.authentication not in AUTHENTICATION_NAMES:
            raise ValueError(
                f"unknown authentication algorithm {self.authentication!r}; "
                f"known: {sorted(k for k in AUTHENTICATION_NAMES if k)}"
            )
        if len(self.enc_key) not in _KEY_BYTES[self.encryption]:
            raise ValueError(
                f"{self.encryption} key must be {' or '.join(map(str, _KEY_BYTES[self.encryption]))} bytes, "
                f"not {len(self.enc_key)}"
            )
        if self.encryption in _AEAD and AUTHENTICATION_NAMES[self.authentication] != "NULL":
            raise ValueError(f"{self.encryption} carries its own ICV; authentication must be None")
        if AUTHENTICATION_NAMES[self.authentication] == "NULL" and self.auth_key:
            raise ValueError("auth_key given without an authentication algorithm")


def _field(text: str) -> str:
    """A UAT field: double-quoted, with quote, backslash and non-printables as \\xNN."""
    out = []
    for ch in text:
        if ch in '"\\' or not " " <= ch <= "~":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _hex_key(key: bytes) -> str:
    return "0x" + key.hex() if key else ""


def esp_sa_record(row: EspSaRow) -> str:
    """The UAT record for one row (no newline), as in the file and after ``uat:esp_sa:``."""
    fields = (
        "IPv4" if row.family == 4 else "IPv6",
        str(ipaddress.ip_address(row.src)),
        str(ipaddress.ip_address(row.dst)),
        f"0x{row.spi:08x}",
        ENCRYPTION_NAMES[row.encryption],
        _hex_key(row.enc_key),
        AUTHENTICATION_NAMES[row.authentication],
        _hex_key(row.auth_key),
    )
    return ",".join(map(_field, fields))


def _ordered(rows: Iterable[EspSaRow]) -> tuple[list[EspSaRow], list[EspSaRow]]:
    """Drop exact duplicates (first wins); split off rows older Wireshark rejects."""
    seen: set[EspSaRow] = set()
    current: list[EspSaRow] = []
    newer: list[EspSaRow] = []
    for row in rows:
        if row in seen:
            continue
        seen.add(row)
        (newer if row.encryption in _NEWER_WIRESHARK else current).append(row)
    return current, newer


def format_esp_sa_uat(rows: Iterable[EspSaRow]) -> str:
    """The text of an ``esp_sa`` file for ``rows`` (order kept, duplicates dropped)."""
    current, newer = _ordered(rows)
    lines = ["# Wireshark ESP SAs (UAT esp_sa), written by ipsecsim. Fields: protocol, source,",
             "# destination, SPI, encryption, key, authentication, key."]
    lines += [esp_sa_record(r) for r in current]
    if newer:
        lines.append("# ChaCha20-Poly1305 needs a Wireshark newer than 4.0; 4.0 reports these rows invalid.")
        lines += [esp_sa_record(r) for r in newer]
    return "\n".join(lines) + "\n"


def write_esp_sa_uat(path: str | PathLike[str], rows: Iterable[EspSaRow]) -> Path:
    """Write the ``esp_sa`` UAT file. ``path`` is the file, or a directory to put ``esp_sa`` in.

    Returns the file's path.
    """
    target = Path(path)
    if target.is_dir():
        target = target / ESP_SA_FILENAME
    target.write_text(format_esp_sa_uat(rows), encoding="ascii", newline="\n")
    return target


def tshark_uat_options(rows: Iterable[EspSaRow]) -> list[str]:
    """``['-o', 'uat:esp_sa:<record>', ...]``: the rows as tshark arguments (no file needed)."""
    current, newer = _ordered(rows)
    args: list[str] = []
    for row in current + newer:
        args += ["-o", f"uat:esp_sa:{esp_sa_record(row)}"]
    return args


# Wireshark's ISAKMP dissector keeps its IKEv2 keys ("IKEv2 Decryption Table", preference
# isakmp.ikev2_decryption_table) in a UAT file of this name in the same configuration
# directory as esp_sa, and reads it without any other preference: WIRESHARK_CONFIG_DIR that
# points at the capture directory decrypts both ESP and the IKE SK payloads. One record per
# line: SPIi and SPIr in hex, SK_ei, SK_er, the encryption algorithm's display string,
# SK_ai, SK_ar, the integrity algorithm's display string (packet-isakmp.c, ikev2_uat_flds).
IKEV2_TABLE_FILENAME = "ikev2_decryption_table"


def format_ikev2_decryption_table(records: Iterable[str]) -> str:
    """The text of an ``ikev2_decryption_table`` file: one record per IKE_SA, the first record
    of a pair of SPIs wins (both peers of an IKE_SA know the same keys)."""
    lines = ["# Wireshark IKEv2 decryption table (UAT ikev2_decryption_table), written by ipsecsim.",
             "# Fields: SPIi, SPIr, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity."]
    seen: set[tuple[str, str]] = set()
    for record in records:
        spis = tuple(record.split(",", 2)[:2])
        if len(spis) != 2 or not all(len(s) == 16 for s in spis):
            raise ValueError(f"not an ikev2_decryption_table record (SPIi,SPIr,...): {record!r}")
        if spis in seen:
            continue
        seen.add(spis)
        lines.append(record)
    return "\n".join(lines) + "\n"


def write_ikev2_decryption_table(path: str | PathLike[str], records: Iterable[str]) -> Path:
    """Write the ``ikev2_decryption_table`` UAT file (``path``: the file, or a directory for it)."""
    target = Path(path)
    if target.is_dir():
        target = target / IKEV2_TABLE_FILENAME
    target.write_text(format_ikev2_decryption_table(records), encoding="ascii", newline="\n")
    return target


DECRYPT_PREFS = ("esp.enable_encryption_decode:TRUE", "esp.enable_authentication_check:TRUE")


def tshark_decrypt_command(pcap_dir: str | PathLike[str], pcap: str | None = None) -> str:
    """A POSIX shell command that decrypts a capture in ``pcap_dir`` with ``pcap_dir/esp_sa``.

    ``WIRESHARK_CONFIG_DIR`` makes tshark read ``esp_sa`` from ``pcap_dir`` (and no other
    personal settings); the same variable works for the Wireshark GUI. ``pcap`` names
    the file to read (default: a ``<host>-<ifname>.pcap`` placeholder).
    """
    directory = str(pcap_dir)
    target = str(Path(directory) / (pcap if pcap is not None else "HOST-IFNAME.pcap"))
    prefs = " ".join(f"-o {p}" for p in DECRYPT_PREFS)
    return f"WIRESHARK_CONFIG_DIR={shlex.quote(directory)} tshark {prefs} -r {shlex.quote(target)}"
