"""Run tshark from tests: the independent oracle for our pcap, ESP and checksum bytes.

Every call runs with HOME, XDG_CONFIG_HOME and WIRESHARK_CONFIG_DIR pointing into a
fresh temporary directory (or at ``config_dir``), so the user's Wireshark profile
never changes what a test sees, and with a timeout so a hung tshark fails the test.

``require_tshark()`` skips the test with a clear reason when tshark is missing, and
fails it instead when ``IPSECSIM_REQUIRE_TSHARK=1`` (CI installs tshark and sets it).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = [
    "TIMEOUT",
    "require_tshark",
    "tshark_run",
    "tshark_fields",
    "tshark_expert_problems",
    "tshark_version",
    "CHECKSUM_PREFS",
]

TIMEOUT = 60.0  # seconds per tshark call; our captures are small
_SEP = "\x1f"  # unit separator between fields; never in a field value
_AGG = "\x1e"  # record separator between occurrences of one field

# Checksums Wireshark does not verify unless asked (ICMP and ICMPv6 are always checked).
CHECKSUM_PREFS = {
    "ip.check_checksum": "TRUE",
    "udp.check_checksum": "TRUE",
    "tcp.check_checksum": "TRUE",
}

# expert.h: PI_CHAT 0x00200000, PI_NOTE 0x00400000, PI_WARN 0x00600000, PI_ERROR 0x00800000
_PI_WARN = 0x00600000


def _tshark_path() -> str | None:
    return shutil.which("tshark")


def require_tshark() -> str:
    """Return tshark's path; skip the test if absent (fail when IPSECSIM_REQUIRE_TSHARK=1)."""
    path = _tshark_path()
    if path is None:
        reason = "tshark is not installed (apt-get install tshark; .ci/run installs it)"
        if os.environ.get("IPSECSIM_REQUIRE_TSHARK") == "1":
            pytest.fail(f"IPSECSIM_REQUIRE_TSHARK=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return path


def tshark_run(
    args: list[str], *, config_dir: Path | None = None, timeout: float = TIMEOUT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``tshark ARGS`` isolated from any user profile and return the finished process.

    ``config_dir`` becomes Wireshark's personal configuration directory (default: an
    empty temporary one). With ``check`` a non-zero exit fails the test with stderr.
    """
    tshark = require_tshark()
    with tempfile.TemporaryDirectory(prefix="ipsecsim-tshark-") as tmp:
        home = Path(tmp)
        empty_config = home / "wireshark-config"
        empty_config.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "xdg"),
            "WIRESHARK_CONFIG_DIR": str(config_dir if config_dir is not None else empty_config),
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
        }
        try:
            proc = subprocess.run(
                [tshark, *args], env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"tshark timed out after {timeout}s: tshark {' '.join(args)}", pytrace=False)
    if check and proc.returncode != 0:
        pytest.fail(f"tshark {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}", pytrace=False)
    return proc


def _option_args(prefs: dict[str, str] | None, uat: dict[str, list[str]] | None) -> list[str]:
    args: list[str] = []
    for name, value in (prefs or {}).items():
        args += ["-o", f"{name}:{value}"]
    for table, records in (uat or {}).items():
        for record in records:
            args += ["-o", f"uat:{table}:{record}"]
    return args


def _field_lists(
    pcap: str | os.PathLike[str],
    fields: list[str],
    prefs: dict[str, str] | None,
    uat: dict[str, list[str]] | None,
    display_filter: str | None,
    config_dir: Path | None,
) -> list[dict[str, list[str]]]:
    args = ["-n", "-r", os.fspath(pcap), "-T", "fields", "-E", f"separator={_SEP}",
            "-E", "occurrence=a", "-E", f"aggregator={_AGG}", "-E", "quote=n", "-E", "header=n"]
    args += _option_args(prefs, uat)
    if display_filter:
        args += ["-Y", display_filter]
    for field in fields:
        args += ["-e", field]
    rows = []
    # split("\n"), not splitlines(): splitlines() also breaks at \x1c-\x1e.
    for line in tshark_run(args, config_dir=config_dir).stdout.split("\n"):
        if not line:
            continue
        values = line.split(_SEP)
        values += [""] * (len(fields) - len(values))
        rows.append({f: (v.split(_AGG) if v else []) for f, v in zip(fields, values)})
    return rows


def tshark_fields(
    pcap: str | os.PathLike[str],
    fields: list[str],
    *,
    prefs: dict[str, str] | None = None,
    uat: dict[str, list[str]] | None = None,
    display_filter: str | None = None,
    config_dir: Path | None = None,
) -> list[dict[str, str]]:
    """One dict per (displayed) packet: field name -> value, as ``tshark -T fields`` prints it.

    A field that occurs several times in a packet (``ip.src`` of a tunnelled packet)
    has its values joined with ``,`` in order; an absent field is ``""``. ``prefs`` are
    ``-o NAME:VALUE`` preferences; ``uat`` maps a table name (``esp_sa``) to raw UAT
    records, passed as ``-o uat:TABLE:RECORD``; ``config_dir`` becomes tshark's
    personal configuration directory (where it reads an ``esp_sa`` file).
    """
    rows = _field_lists(pcap, fields, prefs, uat, display_filter, config_dir)
    return [{f: ",".join(v) for f, v in row.items()} for row in rows]


def tshark_expert_problems(
    pcap: str | os.PathLike[str],
    prefs: dict[str, str] | None = None,
    *,
    uat: dict[str, list[str]] | None = None,
    config_dir: Path | None = None,
    ignore: tuple[str, ...] = (),
) -> list[str]:
    """Expert infos at warning level or above, with checksum checks on; one string each.

    Each item reads ``frame 3: Expert Info (Error/Checksum): Bad checksum [should be 0x74c1]``;
    malformed packets show up as ``Malformed Packet`` errors. ``prefs`` are added to
    ``CHECKSUM_PREFS``; a problem whose text contains any of ``ignore`` is left out
    (for instance ``"Wrong Sequence Number"`` on a lossy link's ESP capture).
    """
    all_prefs = dict(CHECKSUM_PREFS)
    all_prefs.update(prefs or {})
    rows = _field_lists(
        pcap, ["frame.number", "_ws.expert.severity", "_ws.expert", "_ws.malformed"],
        all_prefs, uat, None, config_dir,
    )
    problems = []
    for row in rows:
        frame = row["frame.number"][0] if row["frame.number"] else "?"
        severities = row["_ws.expert.severity"]
        texts = row["_ws.expert"]
        if len(texts) != len(severities):  # should not happen; keep every text visible
            texts = [_AGG.join(texts)] * len(severities)
        for severity, text in zip(severities, texts):
            if int(severity, 0) >= _PI_WARN:
                problems.append(f"frame {frame}: {text}")
        if row["_ws.malformed"] and not severities:
            problems.append(f"frame {frame}: Malformed Packet")
    return [p for p in problems if not any(i in p for i in ignore)]


@functools.lru_cache(maxsize=1)
def tshark_version() -> tuple[int, int, int]:
    """The installed tshark's version, e.g. ``(4, 0, 17)``."""
    first = tshark_run(["-v"]).stdout.splitlines()[0]  # "TShark (Wireshark) 4.0.17 (Git v4.0.17 ...)"
    numbers = first.split()[2].split(".")
    return tuple(int("".join(c for c in n if c.isdigit()) or 0) for n in numbers[:3])  # type: ignore[return-value]
