"""Wire formats, sans-IO: bytes <-> small frozen dataclasses. No simulation state."""

from .checksum import checksum_adjust16, internet_checksum
from .errors import MalformedPacket

__all__ = ["MalformedPacket", "internet_checksum", "checksum_adjust16"]
