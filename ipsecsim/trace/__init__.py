"""Traces: pcap writers, the structured event log, one-line packet summaries, Wireshark key export.

Imports only the standard library (and may use ``ipsecsim.packet``); the world layer
owns the writers and decides when to call them.
"""

from .events import EventLog, read_events
from .pcap import (
    AF_INET,
    AF_INET6,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    PcapCapture,
    PcapFormatError,
    PcapWriter,
    load_pcap,
    read_pcap,
)
from .summary import packet_summary
from .wireshark import EspSaRow, tshark_decrypt_command, tshark_uat_options, write_esp_sa_uat

__all__ = [
    "AF_INET",
    "AF_INET6",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "EventLog",
    "EspSaRow",
    "PcapCapture",
    "PcapFormatError",
    "PcapWriter",
    "load_pcap",
    "packet_summary",
    "read_events",
    "read_pcap",
    "tshark_decrypt_command",
    "tshark_uat_options",
    "write_esp_sa_uat",
]
