"""Optional compiled build of the per-packet modules (everything else lives in pyproject.toml).

``pip install .`` installs pure Python. With ``IPSECSIM_COMPILE=1`` the modules a packet passes
through are compiled to C extensions by mypyc (from the same source, checked by mypy first):

    pip install mypy wheel && IPSECSIM_COMPILE=1 pip install --no-build-isolation .
    IPSECSIM_COMPILE=1 python setup.py build_ext --inplace     # in a checkout

Both builds run the same tests; docs/performance.md has what the compiled build gains.
"""

import os

from setuptools import setup

# The per-packet path: headers and checksums, IP input/output, interfaces, if_ipsec and the
# IPsec paths, ESP, and the link. Modules outside it gain nothing measurable from compiling.
# Their module-level constants are declared Final, which mypyc turns into C statics instead of
# a dictionary lookup per use.
COMPILED_MODULES = [
    "ipsecsim/packet/checksum.py",
    "ipsecsim/packet/errors.py",
    "ipsecsim/packet/icmp.py",
    "ipsecsim/packet/iphdr.py",
    "ipsecsim/packet/ipv4.py",
    "ipsecsim/packet/ipv6.py",
    "ipsecsim/packet/ipversion.py",
    "ipsecsim/packet/pseudo.py",
    "ipsecsim/packet/udp.py",
    "ipsecsim/kernel/fastfwd.py",
    "ipsecsim/kernel/frag.py",
    "ipsecsim/kernel/if_ipsec.py",
    "ipsecsim/kernel/ifnet.py",
    "ipsecsim/kernel/inet.py",
    "ipsecsim/kernel/inet6.py",
    "ipsecsim/kernel/ipsec.py",
    "ipsecsim/kernel/route.py",
    "ipsecsim/kernel/sacache.py",
    "ipsecsim/kernel/sockets.py",
    "ipsecsim/kernel/stats.py",
    "ipsecsim/kernel/tags.py",
    "ipsecsim/kernel/transport.py",
    "ipsecsim/netipsec/_plan.py",
    "ipsecsim/netipsec/esp.py",
    "ipsecsim/netipsec/outer.py",
    "ipsecsim/netipsec/replay.py",
    "ipsecsim/netipsec/sa.py",
    "ipsecsim/netipsec/stats.py",
    "ipsecsim/netipsec/xform.py",
    "ipsecsim/world/link.py",
    "ipsecsim/world/engine.py",
]


def compiled_extensions() -> list:
    if os.environ.get("IPSECSIM_COMPILE", "") in ("", "0"):
        return []
    from mypyc.build import mypycify  # only the compiled build needs mypy installed

    return mypycify(COMPILED_MODULES, opt_level="3")


setup(ext_modules=compiled_extensions())
