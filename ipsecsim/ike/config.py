"""The swanctl.conf subset the simulated charon reads, in strongSwan's syntax.

The file is strongswan.conf(5)'s tree: ``name { ... }`` sections, ``key = value``
settings, ``#`` comments. A section named twice is merged and a key set twice
keeps its last value, as strongSwan's settings parser does. ``include`` and
section references (``name : other``) are refused rather than ignored. Keys the
simulator does not model are refused with swanctl's own words for an unknown
option; keys strongSwan has but the simulator does not act on (``updown``, other
auth classes) are refused saying so. Defaults are those of swanctl.conf(5); see
docs/swanctl.md.
"""

import base64
import binascii
import re
from dataclasses import dataclass, field

__all__ = [
    "SwanctlConfigError", "AuthRound", "Child", "Connection", "Secret", "SwanctlConfig", "parse_swanctl",
    "parse_time",
]


class SwanctlConfigError(ValueError):
    """A line of swanctl.conf that strongSwan (or the simulator) refuses; ``str()`` is ``line L:C: message``."""

    def __init__(self, line: int, column: int, message: str):
        super().__init__(f"line {line}:{column}: {message}")
        self.line = line
        self.column = column
        self.message = message


@dataclass
class AuthRound:
    """A ``local`` or ``remote`` section: one authentication round (only ``psk`` is modelled)."""

    auth: str = "psk"
    id: str | None = None  # None: strongSwan uses the IKE address as identity


@dataclass
class Child:
    """A ``children.NAME`` section: one CHILD_SA configuration; times in seconds."""

    name: str
    local_ts: list[str] = field(default_factory=lambda: ["dynamic"])
    remote_ts: list[str] = field(default_factory=lambda: ["dynamic"])
    mode: str = "tunnel"
    esp_proposals: list[str] = field(default_factory=lambda: ["default"])
    rekey_time: int = 3600
    life_time: int = 3960  # rekey_time + 10% unless written
    rand_time: int = 360  # life_time - rekey_time unless written
    start_action: str = "none"
    close_action: str = "none"
    dpd_action: str = "clear"  # "clear", "trap" or "restart"
    reqid: int = 0  # 0: charon allocates one


@dataclass
class Connection:
    """A ``connections.NAME`` section: one IKE_SA configuration; times in seconds."""

    name: str
    local_addrs: list[str] = field(default_factory=lambda: ["%any"])
    remote_addrs: list[str] = field(default_factory=lambda: ["%any"])
    proposals: list[str] = field(default_factory=lambda: ["default"])
    rekey_time: int = 14400
    over_time: int = 1440  # 10% of the larger of rekey_time and reauth_time unless written
    local: AuthRound = field(default_factory=AuthRound)
    remote: AuthRound = field(default_factory=AuthRound)
    children: dict[str, Child] = field(default_factory=dict)
    reauth_time: int = 0
    rand_time: int = 1440  # over_time unless written
    dpd_delay: int = 0
    keyingtries: int = 1  # 0: forever
    version: int = 0  # strongSwan's default: 0, either version (IKEv2 when initiating)


@dataclass
class Secret:
    """A ``secrets.ike...`` section: a pre-shared key and the identities it belongs to."""

    kind: str = "ike"
    ids: list[str] = field(default_factory=list)
    secret: bytes = b""
    name: str = ""


# strongSwan's id_match_t weights: an exact identity counts far more than a wildcard.
_MATCH_PERFECT, _MATCH_ANY, _MATCH_NONE = 20, 1, 0


def _id_match(ids: list[str], wanted: str | None) -> int:
    """How well a secret's ids name ``wanted`` (ID_MATCH_PERFECT, ID_MATCH_ANY or ID_MATCH_NONE).

    A secret without ids, or with ``%any``, is everyone's.
    """
    if not ids:
        return _MATCH_ANY
    if wanted is not None and wanted in ids:
        return _MATCH_PERFECT
    return _MATCH_ANY if "%any" in ids else _MATCH_NONE


@dataclass
class SwanctlConfig:
    """A parsed swanctl.conf: its connections, by name in file order, and its IKE secrets."""

    connections: dict[str, Connection] = field(default_factory=dict)
    secrets: list[Secret] = field(default_factory=list)

    def psk_for(self, local_id: str | None, remote_id: str | None) -> bytes | None:
        """The pre-shared key for an IKE_SA between these two identities, or None.

        strongSwan's rule: a secret qualifies if its ids match the local or the remote
        identity (or it has none, or ``%any``); the one matching best on both sides
        together wins, an exact identity outweighing any number of wildcards, and the
        first written wins a tie.
        """
        best: tuple[int, bytes] | None = None
        for secret in self.secrets:
            me, other = _id_match(secret.ids, local_id), _id_match(secret.ids, remote_id)
            if me == _MATCH_NONE and other == _MATCH_NONE:
                continue
            if best is None or me + other > best[0]:
                best = (me + other, secret.secret)
        return None if best is None else best[1]


def parse_time(text: str) -> int | None:
    """strongSwan's time value: whole seconds, or a number with ``s``, ``m``, ``h`` or ``d``."""
    found = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", text)
    if found is None:
        return None
    return int(found[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[found[2]]


# -- the settings tree ------------------------------------------------------------------------


@dataclass
class _Value:
    text: str
    line: int
    column: int  # of the key


@dataclass
class _Section:
    name: str
    line: int
    column: int
    values: dict[str, _Value] = field(default_factory=dict)
    sections: dict[str, "_Section"] = field(default_factory=dict)


_NAME = re.compile(r"[^\s{}=#\"]+")


def _tree(text: str) -> _Section:
    """strongswan.conf's syntax as a tree; sections written twice are merged."""
    root = _Section("", 1, 1)
    stack = [root]
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.removesuffix("\r")
        i = 0
        while i < len(line):
            ch = line[i]
            if ch.isspace():
                i += 1
                continue
            if ch == "#":
                break
            if ch == "}":
                if len(stack) == 1:
                    raise SwanctlConfigError(number, i + 1, "'}' closes no section")
                stack.pop()
                i += 1
                continue
            found = _NAME.match(line, i)
            if found is None:
                raise SwanctlConfigError(number, i + 1, f"unexpected '{ch}'; expected a name, 'name {{' or '}}'")
            name, column = found[0], i + 1
            i = found.end()
            while i < len(line) and line[i].isspace():
                i += 1
            rest = line[i:]
            if name == "include":
                raise SwanctlConfigError(number, column, "include is not supported: write the whole "
                                         "configuration in the scenario's swanctl: block")
            if rest.startswith("="):
                value, i = _value(line, i + 1, number)
                stack[-1].values[name] = _Value(value, number, column)
            elif rest.startswith("{"):
                sub = stack[-1].sections.get(name)
                if sub is None:
                    sub = stack[-1].sections[name] = _Section(name, number, column)
                stack.append(sub)
                i += 1
            elif rest.startswith(":"):
                raise SwanctlConfigError(number, i + 1, f"section references ('{name} : other') are not "
                                         "supported; write the section out")
            else:
                raise SwanctlConfigError(number, column, f"expected '=' or '{{' after '{name}'")
    if len(stack) > 1:
        open_ = stack[-1]
        raise SwanctlConfigError(open_.line, open_.column, f"section '{open_.name}' is not closed with '}}'")
    return root


def _value(line: str, i: int, number: int) -> tuple[str, int]:
    """A value after ``=``: a quoted string, or the rest of the line up to ``#`` or ``}``."""
    while i < len(line) and line[i].isspace():
        i += 1
    if i < len(line) and line[i] == '"':
        out, j = [], i + 1
        while j < len(line) and line[j] != '"':
            if line[j] == "\\" and j + 1 < len(line):
                j += 1
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(line[j], line[j]))
            else:
                out.append(line[j])
            j += 1
        if j >= len(line):
            raise SwanctlConfigError(number, i + 1, "unterminated quoted string")
        return "".join(out), j + 1
    j = i
    while j < len(line) and line[j] not in "#}":
        j += 1
    return line[i:j].strip(), j


# -- the schema -------------------------------------------------------------------------------


def _refuse(where: _Value | _Section, message: str) -> SwanctlConfigError:
    return SwanctlConfigError(where.line, where.column, message)


def _list(value: _Value) -> list[str]:
    items = [v.strip() for v in value.text.split(",")]
    return [v for v in items if v]


_CONN_KEYS = {"version", "local_addrs", "remote_addrs", "proposals", "rekey_time", "over_time", "reauth_time",
              "rand_time", "dpd_delay", "keyingtries"}
_CHILD_KEYS = {"local_ts", "remote_ts", "mode", "esp_proposals", "rekey_time", "life_time", "rand_time",
               "start_action", "close_action", "dpd_action", "reqid"}
# Each accepted word and what it means; strongSwan 5.9 keeps the older names as aliases
# (``route``/``hold`` for trap, ``restart``/``start``) and calls the clearing action clear or none.
_CHOICES: dict[str, dict[str, str]] = {
    "mode": {"tunnel": "tunnel", "transport": "transport"},
    "start_action": {"none": "none", "trap": "trap", "route": "trap", "start": "start"},
    "close_action": {"none": "none", "clear": "none", "trap": "trap", "hold": "trap", "route": "trap",
                     "start": "start", "restart": "start"},
    "dpd_action": {"clear": "clear", "none": "clear", "trap": "trap", "hold": "trap", "route": "trap",
                   "restart": "restart", "start": "restart"},
}
# strongSwan's proposal keywords the simulator knows (RFC 7296 3.3.2 transforms, strongSwan spelling).
_ALGORITHMS = frozenset(
    "aes128 aes192 aes256 aes128ctr aes192ctr aes256ctr aes128gcm8 aes128gcm12 aes128gcm16 aes128gcm64 "
    "aes128gcm96 aes128gcm128 aes192gcm8 aes192gcm12 aes192gcm16 aes192gcm64 aes192gcm96 aes192gcm128 "
    "aes256gcm8 aes256gcm12 aes256gcm16 aes256gcm64 aes256gcm96 aes256gcm128 aes128gcm aes192gcm aes256gcm "
    "chacha20poly1305 3des null "
    "sha1 sha256 sha384 sha512 md5 aesxcbc sha256_96 "
    "prfsha1 prfsha256 prfsha384 prfsha512 prfmd5 prfaesxcbc "
    "x25519 curve25519 x448 curve448 ecp256 ecp384 ecp521 ecp224 modp1024 modp1536 modp2048 modp3072 modp4096 "
    "modp6144 modp8192 modpnone esn noesn".split())


def _proposals(value: _Value, conn: str, key: str) -> list[str]:
    found = _list(value)
    if not found:
        raise _refuse(value, _invalid(conn, key))
    for proposal in found:
        if proposal == "default":
            continue
        if any(word not in _ALGORITHMS for word in proposal.lower().split("-")):
            raise _refuse(value, _invalid(conn, key) + f" ('{proposal}' is not a proposal the simulator knows)")
    return found


def _invalid(conn: str, key: str) -> str:
    return f"loading connection '{conn}' failed: invalid value for: {key}, config discarded"


def _unknown(conn: str, key: str) -> str:
    return f"loading connection '{conn}' failed: unknown option: {key}, config discarded"


class _Schema:
    def __init__(self) -> None:
        self.config = SwanctlConfig()

    def time(self, conn: str, key: str, value: _Value) -> int:
        seconds = parse_time(value.text)
        if seconds is None:
            raise _refuse(value, _invalid(conn, key))
        return seconds

    def number(self, conn: str, key: str, value: _Value, hi: int) -> int:
        text = value.text.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > hi:
            raise _refuse(value, _invalid(conn, key))
        return int(text)

    def connection(self, section: _Section) -> Connection:
        name = section.name
        conn = Connection(name)
        v = section.values
        for key, value in v.items():
            if key not in _CONN_KEYS:
                raise _refuse(value, _unknown(name, key))
        if "version" in v:
            version = self.number(name, "version", v["version"], 2)
            if version == 1:
                raise _refuse(v["version"], f"loading connection '{name}' failed: IKEv1 is not modelled; "
                                            "use version = 2")
            conn.version = version
        for key in ("local_addrs", "remote_addrs"):
            if key in v:
                found = _list(v[key])
                if not found:
                    raise _refuse(v[key], _invalid(name, key))
                setattr(conn, key, found)
        if "proposals" in v:
            conn.proposals = _proposals(v["proposals"], name, "proposals")
            if not conn.proposals:
                raise _refuse(v["proposals"], _invalid(name, "proposals"))
        for key in ("rekey_time", "reauth_time", "dpd_delay"):
            if key in v:
                setattr(conn, key, self.time(name, key, v[key]))
        conn.over_time = max(conn.rekey_time, conn.reauth_time) // 10
        if "over_time" in v:
            conn.over_time = self.time(name, "over_time", v["over_time"])
        conn.rand_time = conn.over_time
        if "rand_time" in v:
            conn.rand_time = self.time(name, "rand_time", v["rand_time"])
        if "keyingtries" in v:
            conn.keyingtries = self.number(name, "keyingtries", v["keyingtries"], 2**32 - 1)
        rounds: dict[str, str] = {}
        for sub_name, sub in section.sections.items():
            side = "local" if sub_name.startswith("local") else "remote" if sub_name.startswith("remote") else ""
            if side:
                # Any section named local<suffix> is a round (local-1, local_psk); rounds run in order.
                if side in rounds:
                    raise _refuse(sub, f"loading connection '{name}' failed: a second {side} authentication "
                                       f"round ('{sub_name}' after '{rounds[side]}') is not modelled")
                rounds[side] = sub_name
                setattr(conn, side, self.auth(name, sub))
            elif sub_name == "children":
                for child in sub.sections.values():
                    conn.children[child.name] = self.child(name, child)
                if sub.values:
                    first = next(iter(sub.values.values()))
                    raise _refuse(first, _unknown(name, next(iter(sub.values))))
            else:
                raise _refuse(sub, _unknown(name, sub_name))
        return conn

    def auth(self, conn: str, section: _Section) -> AuthRound:
        found = AuthRound()
        v = section.values
        for key, value in v.items():
            if key not in ("auth", "id"):
                raise _refuse(value, _unknown(conn, key))
        if section.sections:
            sub = next(iter(section.sections.values()))
            raise _refuse(sub, _unknown(conn, sub.name))
        if "auth" not in v:
            raise _refuse(section, f"loading connection '{conn}' failed: {section.name} has no 'auth = psk' "
                                   "(strongSwan's default is pubkey, which is not modelled)")
        auth = v["auth"].text.strip()
        if auth != "psk":
            raise _refuse(v["auth"], f"loading connection '{conn}' failed: auth = {auth} is not modelled; "
                                     "use auth = psk")
        if "id" in v and v["id"].text.strip():
            found.id = v["id"].text.strip()
        return found

    def child(self, conn: str, section: _Section) -> Child:
        child = Child(section.name)
        v = section.values
        if section.sections:
            sub = next(iter(section.sections.values()))
            raise _refuse(sub, _unknown(conn, sub.name))
        for key, value in v.items():
            if key == "updown":
                raise _refuse(value, f"loading connection '{conn}' failed: updown scripts are not run by the "
                                     "simulator; remove 'updown'")
            if key not in _CHILD_KEYS:
                raise _refuse(value, _unknown(conn, key))
        for key in ("local_ts", "remote_ts"):
            if key in v:
                found = _list(v[key])
                if not found:
                    raise _refuse(v[key], _invalid(conn, key))
                setattr(child, key, found)
        for key, allowed in _CHOICES.items():
            if key in v:
                word = v[key].text.strip().lower()
                if word not in allowed:
                    raise _refuse(v[key], _invalid(conn, key) + f" (one of: {', '.join(allowed)})")
                setattr(child, key, allowed[word])
        if "esp_proposals" in v:
            child.esp_proposals = _proposals(v["esp_proposals"], conn, "esp_proposals")
        if "rekey_time" in v:
            child.rekey_time = self.time(conn, "rekey_time", v["rekey_time"])
        child.life_time = child.rekey_time * 110 // 100
        if "life_time" in v:
            child.life_time = self.time(conn, "life_time", v["life_time"])
        if child.rekey_time and child.life_time and child.life_time < child.rekey_time:
            where = v.get("life_time") or v["rekey_time"]
            raise _refuse(where, f"loading connection '{conn}' failed: CHILD_SA '{child.name}' "
                                 f"rekey_time {child.rekey_time}s is after its life_time {child.life_time}s")
        child.rand_time = child.life_time - child.rekey_time if child.rekey_time else 0
        if "rand_time" in v:
            child.rand_time = self.time(conn, "rand_time", v["rand_time"])
        if "reqid" in v:
            child.reqid = self.number(conn, "reqid", v["reqid"], 2**32 - 1)
        return child

    def secrets(self, section: _Section) -> None:
        if section.values:
            key, value = next(iter(section.values.items()))
            raise _refuse(value, f"unknown secret type '{key}'")
        for sub in section.sections.values():
            if not sub.name.startswith("ike"):
                known = ("eap", "xauth", "ntlm", "ppk", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12", "token")
                if not sub.name.startswith(known):
                    raise _refuse(sub, f"ignoring unsupported secret '{sub.name}'")
                raise _refuse(sub, f"secret '{sub.name}': only ike secrets (ike<suffix> {{ id, secret }}) "
                                   "are modelled")
            found = Secret("ike", name=sub.name)
            for key, value in sub.values.items():
                if key == "secret":
                    found.secret = _secret_bytes(value, sub.name)
                elif key.startswith("id"):
                    if value.text.strip():
                        found.ids.append(value.text.strip())
                else:
                    raise _refuse(value, f"loading shared key '{sub.name}' failed: unknown option: {key}")
            if "secret" not in sub.values:
                raise _refuse(sub, f"missing secret in '{sub.name}', ignored")
            self.config.secrets.append(found)


def _secret_bytes(value: _Value, name: str) -> bytes:
    """strongSwan's secret encodings: ``0x`` hex, ``0s`` base64, else the text's bytes."""
    text = value.text
    try:
        if text[:2].lower() == "0x":
            return bytes.fromhex(text[2:].replace(" ", ""))
        if text[:2].lower() == "0s":
            return base64.b64decode(text[2:].strip(), validate=True)
    except (ValueError, binascii.Error):
        raise _refuse(value, f"loading shared key '{name}' failed: invalid {text[:2]} encoded secret") from None
    if not text:
        raise _refuse(value, f"loading shared key '{name}' failed: empty secret")
    return text.encode()


def parse_swanctl(text: str) -> SwanctlConfig:
    """Parse a swanctl.conf; SwanctlConfigError names the first line swanctl would refuse."""
    root = _tree(text)
    schema = _Schema()
    if root.values:
        key, value = next(iter(root.values.items()))
        raise _refuse(value, f"'{key}' outside a section; swanctl.conf has connections {{ }} and secrets {{ }}")
    for name, section in root.sections.items():
        if name == "connections":
            if section.values:
                key, value = next(iter(section.values.items()))
                raise _refuse(value, f"'{key}' in connections must be a section: {key} {{ ... }}")
            for conn in section.sections.values():
                schema.config.connections[conn.name] = schema.connection(conn)
        elif name == "secrets":
            schema.secrets(section)
        elif name in ("pools", "authorities"):
            raise _refuse(section, f"'{name}' is swanctl configuration the simulator does not model")
        else:
            raise _refuse(section, f"unknown section '{name}'; swanctl.conf has connections {{ }} and secrets {{ }}")
    return schema.config
