"""Packet captures and the event log: BPF taps on every interface, host observers.

Nothing here runs unless ``--pcap`` or ``--trace`` asked for it; the hot path
only tests ``ifp.bpf is None`` and ``host.observer is None``.
"""

from pathlib import Path

from ..kernel import Host, Ifnet
from ..trace.events import EventLog
from ..trace.pcap import LINKTYPE_NULL, LINKTYPE_RAW, PcapWriter
from ..trace.summary import packet_summary
from ..trace.wireshark import EspSaRow, tshark_decrypt_command, write_esp_sa_uat, write_ikev2_decryption_table
from .engine import Engine
from .observers import add_bpf_tap, add_observer

__all__ = ["Capture", "LOGGED_EVENTS"]

# The host events the event log records; the others (output, encap, fragment, reassembled)
# serve the run's accounting and would only repeat what the tx lines show.
LOGGED_EVENTS = frozenset({"drop", "deliver", "forward"})


class Capture:
    def __init__(self, engine: Engine, pcap_dir: Path | None = None, trace_file: Path | None = None):
        self.engine = engine
        self.pcap_dir = Path(pcap_dir) if pcap_dir is not None else None
        if self.pcap_dir is not None:
            self.pcap_dir.mkdir(parents=True, exist_ok=True)
        self.log = EventLog(trace_file) if trace_file is not None else None
        self.writers: dict[str, PcapWriter] = {}

    def attach(self, host: Host) -> None:
        host.interface_listeners.append(self._tap)
        for ifp in host.interfaces.values():
            self._tap(ifp)
        if self.log is not None:
            add_observer(host, self._observe)

    def _tap(self, ifp: Ifnet) -> None:
        engine, log = self.engine, self.log
        host_name, if_name = ifp.host.name, ifp.name
        writer = None
        if self.pcap_dir is not None:
            key = f"{host_name}-{if_name}"
            if key in self.writers:  # an interface destroyed and created again appends
                writer = self.writers[key]
            else:
                # if_ipsec taps with DLT_NULL like FreeBSD's bpfattach(ifp, DLT_NULL, 4); lo0 too.
                linktype = LINKTYPE_RAW if ifp.kind == "ether" else LINKTYPE_NULL
                writer = self.writers[key] = PcapWriter(self.pcap_dir / f"{key}.pcap", linktype)

        def tap(pkt: bytes, outbound: bool) -> None:
            now = engine.env._now
            if writer is not None:
                writer.write(now, pkt)
            if log is not None:
                log.log(now, host_name, if_name, "tx" if outbound else "rx", length=len(pkt),
                        summary=packet_summary(pkt))

        add_bpf_tap(ifp, tap)

    def _observe(self, event: str, host: Host, ifname: str | None, pkt: bytes, reason: str | None,
                 related=None) -> None:
        assert self.log is not None  # attached only when there is a log
        if event not in LOGGED_EVENTS:
            return
        self.log.log(self.engine.env._now, host.name, ifname, event, reason=reason, length=len(pkt),
                     summary=packet_summary(pkt) if pkt else "")

    def write_esp_sa(self, hosts) -> Path | None:
        """``DIR/esp_sa``: every SA that carried traffic, so Wireshark decrypts the captures."""
        if self.pcap_dir is None:
            return None
        rows, seen = [], set()
        for host in hosts:
            for sa in host.ipsec.used_sas:
                key = (sa.src, sa.dst, sa.spi)
                if key in seen:
                    continue
                seen.add(key)
                rows.append(EspSaRow(sa.src.version, str(sa.src), str(sa.dst), sa.spi, sa.enc.name, sa.enc_key,
                                     sa.auth.name if sa.auth is not None else None, sa.auth_key))
        if not rows:
            return None
        return write_esp_sa_uat(self.pcap_dir, rows)

    def write_ike_keys(self, daemons) -> Path | None:
        """``DIR/ikev2_decryption_table``: the keys of every IKE_SA any charon of the run set up
        (one line per IKE_SA, though both peers know it), so Wireshark reads the SK payloads."""
        if self.pcap_dir is None:
            return None
        records = [line for daemon in daemons for line in daemon.wireshark_records()]
        if not records:
            return None
        return write_ikev2_decryption_table(self.pcap_dir, records)

    def decrypt_hint(self) -> str:
        assert self.pcap_dir is not None  # asked only after esp_sa was written there
        return tshark_decrypt_command(self.pcap_dir)

    def files(self) -> list[Path]:
        return sorted(self.pcap_dir / f"{key}.pcap" for key in self.writers) if self.pcap_dir else []

    def close(self) -> None:
        """Close every file, even when one fails (disk full); then raise the first failure."""
        first = None
        for output in [*self.writers.values(), *([self.log] if self.log is not None else [])]:
            try:
                output.close()
            except OSError as error:
                first = first or error
        if first is not None:
            raise first
