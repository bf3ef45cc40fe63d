"""PF_KEY messages as listeners see them, the key engine's errors, and ``kdebug_sadb``.

The key engine does not build PF_KEY bytes; a :class:`PfkeyMessage` holds the
header values and the extensions in readable form, in the order the kernel
appends them (``fields`` is an ordered dict keyed by extension name). What a
``setkey -x`` prints for one is :func:`kdebug_sadb`, FreeBSD's
``sys/netipsec/key_debug.c`` format, with the lengths the real message would
have (``struct sadb_*`` sizes, sockaddrs padded to 8 bytes). [S4.2] [S8.2]

Extension names and their members:

* ``sa``: spi, replay (bytes, capped at 255), state, auth, encrypt (setkey
  names or None), auth_id, encrypt_id (SADB ids), flags;
* ``sa2``: mode, reqid, sequence; ``sa_replay``: replay (bits);
* ``lifetime_current`` / ``lifetime_hard`` / ``lifetime_soft``: allocations,
  bytes, addtime, usetime (times in ``time_second``, the simulated epoch);
* ``src`` / ``dst``: address, prefixlen, proto (255 = any), port;
* ``key_auth`` / ``key_encrypt``: bits, key (bytes);
* ``policy``: type, dir, id (the spid), scope, priority (the ifindex for ifnet
  policies), requests (tuple of :class:`~.policy.IpsecRequest`);
* ``proposal``: replay, combs (tuple of dicts with sadb_comb's member names).

Layout: the numbers, :class:`PfkeyError` and :class:`PfkeyMessage` are in
``_pfkey_msg``, ``kdebug_sadb`` in ``_pfkey_debug``, the message builders the
key engine uses in ``_pfkey_fields``; every name is importable from here.
"""

from ._pfkey_debug import ipsec_hexdump, kdebug_sadb, message_length
from ._pfkey_fields import (
    acquire_fields,
    address_fields,
    dump_fields,
    expire_fields,
    policy_fields,
    sa_fields,
    supported_combs,
)
from ._pfkey_msg import (
    DIRS,
    EXT_TYPES,
    LEVELS,
    MODES,
    MSG_TYPES,
    POLICY_TYPES,
    PROTOS,
    SATYPES,
    SCOPES,
    STATES,
    STRERROR,
    PfkeyError,
    PfkeyMessage,
)

__all__ = [
    "PfkeyMessage",
    "PfkeyError",
    "STRERROR",
    "MSG_TYPES",
    "SATYPES",
    "EXT_TYPES",
    "kdebug_sadb",
    "ipsec_hexdump",
    # also importable from here (the message builders key.c uses, key_debug's tables)
    "MODES",
    "LEVELS",
    "POLICY_TYPES",
    "DIRS",
    "SCOPES",
    "STATES",
    "PROTOS",
    "message_length",
    "supported_combs",
    "address_fields",
    "sa_fields",
    "dump_fields",
    "expire_fields",
    "acquire_fields",
    "policy_fields",
]
