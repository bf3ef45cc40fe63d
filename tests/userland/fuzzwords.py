"""Hypothesis strategies for command lines, one per command, built from each program's own
options (its getopt letters, with and without their arguments) and argument grammar.

Lines are mostly well-formed, so the fuzzing gets past option parsing into the commands'
work, with a share of junk at every position. Addresses come in both families and are
mixed with the other family's flags (``inet6 10.0.1.1``, ``route add -inet6 10.0.0.0/8``,
``ping -4 ::1``), with prefixes good and bad and scoped link-local forms (``fe80::1%em0``).
Every strategy draws one shell line (``str``); ``SETUPS`` are lines that give the later ones
something to work on (an ipsec0 with a tunnel, an SA, a policy).
"""

import shlex

from hypothesis import strategies as st

__all__ = ["IFCONFIG", "ROUTE", "NETSTAT", "PING", "SYSCTL", "SETKEY", "SETUPS"]

# -- shared vocabulary -------------------------------------------------------------------------

HOST4 = ["10.0.1.1", "10.0.1.2", "10.0.2.2", "10.0.2.1", "127.0.0.1", "0.0.0.0", "192.168.0.3", "192.168.0.5",
         "224.0.0.1", "10.0.1.255", "255.255.255.255", "10.0.9.9"]
HOST6 = ["2001:db8:1::1", "2001:db8:1::2", "2001:db8:2::2", "::1", "::", "fe80::1%em0", "fe80::1", "ff02::1",
         "::ffff:10.0.1.1", "fe80::1%em9", "fe80::1%lo0", "2001:db8:9::9"]
PREFIX4 = ["10.0.2.0/24", "10.2/16", "10.0.0.1/33", "0.0.0.0/0", "10.0.1.1/0", "10.0.1.1/-1", "10.0.1.1/x",
           "10.0.1.1/", "172.16.0.5/16", "10.0.1.1/32", "10.0.0.0/8"]
PREFIX6 = ["2001:db8:1::2/64", "2001:db8:2::/48", "::/0", "fe80::/10", "fe80::1%em0/64", "2001:db8::/129",
           "2001:db8::1/-1", "2001:db8:1::1/", "2001:db8:1::1/0x40", "2001:db8:1::1/128"]
BAD = ["10.0.0.300", "1.2.3.4.5", "2001:db8:::1", "fe80::1%", "default", "localhost", "nowhere", "", "-", "0xffffff00",
       "10", "em0"]
NUMBERS = ["0", "1", "-1", "2", "72", "1280", "1400", "9000", "65535", "65536", "4294967295", "4294967296",
           "99999999999", "0x10", "010", "08", "0x", "1e3", "abc", "12abc", "", " 1", "+5", "-0", "1.5", "nan",
           "inf", "1_0", "0b1"]
IFACES = ["em0", "em1", "lo0", "ipsec0", "ipsec1"]
ODD_IFACES = ["ipsec", "em9", "gif0", "ipsec0123456789012", "", "-em0", "lo"]

V4 = st.one_of(st.sampled_from(HOST4), st.ip_addresses(v=4).map(str))
V6 = st.one_of(st.sampled_from(HOST6), st.ip_addresses(v=6).map(str))
PREFIX = st.one_of(
    st.sampled_from(PREFIX4 + PREFIX6),
    st.tuples(st.ip_addresses(), st.integers(-3, 140)).map(lambda t: f"{t[0]}/{t[1]}"),
)
HOST = st.one_of(V4, V6)
ADDRESS = st.one_of(V4, V6, V4, V6, PREFIX, st.sampled_from(BAD))
NUMBER = st.one_of(st.sampled_from(NUMBERS), st.integers(-(2**40), 2**70).map(str))
JUNK = st.text(max_size=8)
IFACE = st.one_of(st.sampled_from(IFACES), st.sampled_from(IFACES), st.sampled_from(ODD_IFACES))


def _line(*parts) -> st.SearchStrategy[str]:
    """A shell line from strategies of word lists, each word quoted for the shell."""
    return st.tuples(*parts).map(lambda groups: " ".join(shlex.quote(w) for group in groups for w in group))


def _flat(strategy) -> st.SearchStrategy[list[str]]:
    return strategy.map(lambda groups: [w for g in groups for w in g])


def _word(strategy) -> st.SearchStrategy[list[str]]:
    return strategy.map(lambda w: [w])


def _words(*words: str) -> st.SearchStrategy[list[str]]:
    return st.sampled_from(words).map(lambda w: [w])


def _rarely(strategy) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), st.just([]), st.just([]), strategy)


def _options(flags: str, with_arg: dict, max_size: int = 3) -> st.SearchStrategy[list[str]]:
    """getopt words: flags alone or grouped, options with their argument apart or attached; now
    and then a letter the program lacks, an option missing its argument, or ``--``."""
    valid = [st.lists(st.sampled_from(sorted(set(flags))), min_size=1, max_size=2).map(lambda cs: ["-" + "".join(cs)])]
    if with_arg:
        opt = st.sampled_from(sorted(with_arg))
        apart = opt.flatmap(lambda c: with_arg[c].map(lambda v: [f"-{c}", v]))
        valid += [apart, apart, opt.flatmap(lambda c: with_arg[c].map(lambda v: [f"-{c}{v}"]))]
    odd = [_words("-Z", "-?", "--", "-", "---"), opt.map(lambda c: [f"-{c}"])] if with_arg else [_words("-Z", "--")]
    return _flat(st.lists(st.one_of(*valid, *valid, *odd), max_size=max_size))


# -- ifconfig (sbin/ifconfig/ifconfig.c main(), ifipsec.c, af_inet.c, af_inet6.c) -------------------

_IFCONFIG_PARAM = st.one_of(
    _words("up", "down", "alias", "-alias", "delete", "remove", "-description", "destroy", "create", "-tunnel",
           "deletetunnel", "ifdisabled", "-ifdisabled", "nud", "-nud", "auto_linklocal", "no_dad", "inet", "inet6",
           "link", "mtu", "netmask", "tunnel", "reqid", "tunnelfib", "fib", "prefixlen", "broadcast"),
    st.tuples(st.sampled_from(["mtu", "fib", "tunnelfib", "reqid", "prefixlen"]), NUMBER).map(list),
    st.tuples(st.sampled_from(["netmask", "broadcast"]), st.one_of(ADDRESS, NUMBER)).map(list),
    st.tuples(st.sampled_from(["description", "descr"]), JUNK).map(list),
    st.tuples(st.just("tunnel"), ADDRESS, ADDRESS).map(list),
    st.tuples(st.just("tunnel"), HOST, HOST).map(list),
    _word(ADDRESS), _word(ADDRESS),
)
IFCONFIG = _line(
    _words("ifconfig"),
    _rarely(_options("adklmnuvLgG", {})),
    _word(IFACE),
    _rarely(_words("inet", "inet6", "link", "ether", "lladdr", "-inet", "inet4", "create", "plumb")),
    _flat(st.lists(_IFCONFIG_PARAM, max_size=4)),
)

# -- route (sbin/route/route.c main(), newroute(), getaddr(); route_netlink.c) -------------------------

_FIBS = st.sampled_from(["0", "1", "all", "0,1", "0-1", "1-0", "-1", "x", "0,,1", "2", "0-", "-", "", "0x1"])
_ROUTE_MODIFIER = st.one_of(
    _words("-net", "-host", "-inet", "-inet6", "-4", "-6", "-interface", "-iface", "-blackhole", "-reject",
           "-static", "-nostatic", "-proto1", "-proto2", "-lock", "-link", "-bogus", "-fib", "-mtu", "-netmask"),
    st.tuples(st.just("-fib"), _FIBS).map(list),
    st.tuples(st.sampled_from(["-mtu", "-hopcount", "-expire", "-weight", "-prefixlen"]), NUMBER).map(list),
    st.tuples(st.sampled_from(["-netmask", "-gateway", "-dst", "-ifa", "-genmask"]), ADDRESS).map(list),
    st.tuples(st.just("-ifp"), IFACE).map(list),
    _word(ADDRESS), _word(ADDRESS), _word(IFACE),
)
ROUTE = _line(
    _words("route"),
    _rarely(_options("46nqdtv", {})),
    _words("add", "add", "change", "delete", "get", "show", "flush", "del", "monitor", "bogus"),
    _flat(st.lists(_ROUTE_MODIFIER, max_size=5)),
)

# -- netstat (usr.bin/netstat/main.c main()) -----------------------------------------------------

NETSTAT = _line(
    _words("netstat"),
    _words("-r", "-rn", "-i", "-in", "-s", "-ss", "-sz", "-rW", "-ib", "-id", "-I"),
    _options("46AaBbdgHhiLlmnRrSsTtWxz", {
        "f": st.sampled_from(["inet", "inet6", "link", "ipv4", "ipv6", "unix", "pfkey", "x", ""]),
        "p": st.sampled_from(["ip", "icmp", "udp", "tcp", "esp", "ipsec", "ah", "ip6", "icmp6", "igmp", "x", ""]),
        "F": _FIBS, "I": IFACE, "j": JUNK, "M": JUNK, "N": JUNK, "w": NUMBER, "q": NUMBER,
    }),
    _rarely(_word(st.one_of(ADDRESS, NUMBER))),
)

# -- ping / ping6 (sbin/ping/main.c, ping.c, ping6.c) ----------------------------------------------

# -i below 0.5 s is left out: a ping without -c at 1 microsecond would send millions of
# echo requests in the harness's 120 simulated seconds. test_ping covers small intervals.
_INTERVALS = st.sampled_from(["1", "0.5", "2", "x", "-1", "", "1e400", "nan", "inf", "0x1", "3600", "1e3"])
_SMALL = st.one_of(st.sampled_from(["1", "2", "3", "0", "-1", "x", ""]), NUMBER)
PING = _line(
    _words("ping", "ping", "ping6"),
    _options("46AaDdfHLnNoOQqRruvyY", {
        "c": _SMALL, "i": _INTERVALS, "s": NUMBER, "m": NUMBER, "t": _SMALL, "W": NUMBER, "z": NUMBER,
        "S": ADDRESS, "e": ADDRESS, "I": IFACE, "C": NUMBER, "G": NUMBER, "g": NUMBER, "h": NUMBER, "l": NUMBER,
        "M": st.sampled_from(["mask", "time", "x"]), "P": JUNK, "p": JUNK, "T": NUMBER, "b": NUMBER, "k": JUNK,
    }, max_size=4),
    st.one_of(_word(ADDRESS), _word(HOST), _word(HOST), st.lists(ADDRESS, max_size=3)),
)

# -- sysctl (sbin/sysctl/sysctl.c main(), parse()) -------------------------------------------------

_SYSCTL_NAMES = ["net.inet.ip.forwarding", "net.inet6.ip6.forwarding", "net.inet.ip.ttl", "net.fibs",
                 "net.inet.icmp.icmplim", "net.inet.ip.fragttl", "net.inet.esp.ctr_compatibility",
                 "net.inet.ipsec.def_policy", "net.inet.icmp.quotelen", "net", "net.inet", "net.foo", "kern", "",
                 "."]
_SYSCTL_ARG = st.one_of(
    st.sampled_from(_SYSCTL_NAMES),
    st.tuples(st.sampled_from(_SYSCTL_NAMES), NUMBER).map(lambda t: f"{t[0]}={t[1]}"),
    st.tuples(st.sampled_from(_SYSCTL_NAMES), NUMBER).map(lambda t: f"{t[0]}={t[1]}"),
    st.tuples(st.sampled_from(_SYSCTL_NAMES), JUNK).map(lambda t: f"{t[0]}={t[1]}"),
    JUNK,
)
SYSCTL = _line(
    _words("sysctl"),
    _rarely(_options("AabdehiNnoqTtWxX", {"B": NUMBER, "f": JUNK})),
    st.lists(_SYSCTL_ARG, max_size=3),
)

# -- setkey (sbin/setkey/setkey.c main(), parse.y, token.l, libipsec policy_parse.y) -----------------

_PROTO = st.sampled_from(["esp", "esp", "esp", "ah", "ipcomp", "esp-old", "ah-old", "tcp", "foo"])
_SPI = st.sampled_from(["10000", "10001", "0x1000", "255", "256", "0", "4294967295", "4294967296", "-1", "0x", "x",
                        "010"])
_FAMILY = st.sampled_from(["", "", "", "-4", "-6", "-n", "-46", "-4n"])
_EXTENSION = st.sampled_from([
    "-m tunnel", "-m transport", "-m any", "-m foo", "-u 100", "-u 0", "-u 16385", "-u x", "-r 4", "-r 0",
    "-r 999999999999", "-r 300", "-f zero-pad", "-f nocyclic-seq", "-f random-pad", "-f bogus", "-lh 10", "-ls 5",
    "-lh 0", "-natt 10.0.1.1 [4500] 10.0.2.2 [4500]", "-natt_mtu 1400",
])
_ALGORITHM = st.sampled_from([
    '-E rijndael-cbc "VerySecureKey!!1"', "-E aes-cbc 0x" + "33" * 16, "-E aes-gcm-16 0x" + "11" * 20,
    '-E null ""', "-E null", '-E aes-ctr "12345678901234567890"', "-E chacha20-poly1305 0x" + "44" * 36,
    "-E des-cbc 0x1122334455667788", '-E rijndael-cbc "short"',
    '-E aes-cbc "VerySecureKey!!1" -A hmac-sha1 "12345678901234567890"', "-A hmac-sha2-256 0x" + "22" * 32,
    "-A aes-xcbc-mac 0x" + "55" * 16, "-C deflate", "-A null", "-E aes-gcm-16 0x123", "-E simple",
    '-A tcp-md5 "secret"',
])
_UPPER = st.sampled_from(["any", "any", "tcp", "udp", "icmp6", "icmp6 135,0", "ip4", "58", "300", "foo", "esp"])
_POLICY = st.sampled_from([
    "-P out ipsec esp/tunnel/10.0.1.1-10.0.2.2/require", "-P in ipsec esp/tunnel/10.0.2.2-10.0.1.1/use",
    "-P out ipsec esp/transport//require", "-P in discard", "-P out none",
    "-P out ipsec esp/tunnel/10.0.1.1-2001:db8::1/unique:5", "-P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/unique",
    "-P out ipsec esp/tunnel/2001:db8::1-2001:db8::2/unique:16385",
    "-P out ipsec ah/transport//use esp/tunnel/10.0.1.1-10.0.2.2/require", "-P out entrust", "-P in bypass",
    "-P fwd ipsec esp/tunnel/10.0.1.1-10.0.2.2/require", "-P out ipsec esp/tunnel/me-any/require",
    "-P out ipsec esp/tunnel/host-10.0.2.2/require", "-P out ipsec", "-P out", "-P out ipsec esp//require",
    "-P out ipsec esp/transport//unique:0", "-P out ipsec esp/transport//unique:x",
])
_RANGE = st.one_of(
    HOST, HOST, PREFIX,
    st.tuples(st.one_of(HOST, PREFIX), st.sampled_from(["[any]", "[21]", "[0]", "[65536]", "[x]", "["])).map("".join),
)


def _stmt(*parts) -> st.SearchStrategy[str]:
    return st.tuples(*parts).map(lambda ws: " ".join(w for w in ws if w) + " ;")


_SA_HOSTS = st.one_of(st.tuples(V4, V4), st.tuples(V6, V6), st.tuples(HOST, HOST), st.tuples(ADDRESS, ADDRESS))
_STATEMENT = st.one_of(
    _stmt(st.just("add"), _FAMILY, _SA_HOSTS.map(" ".join), _PROTO, _SPI,
          st.lists(_EXTENSION, max_size=3).map(" ".join), _ALGORITHM),
    _stmt(st.just("add"), _FAMILY, _SA_HOSTS.map(" ".join), _PROTO, _SPI,
          st.lists(_EXTENSION, max_size=3).map(" ".join), _ALGORITHM),
    _stmt(st.sampled_from(["get", "delete"]), _FAMILY, _SA_HOSTS.map(" ".join), _PROTO, _SPI,
          st.lists(_EXTENSION, max_size=1).map(" ".join)),
    _stmt(st.just("deleteall"), _FAMILY, _SA_HOSTS.map(" ".join), _PROTO),
    _stmt(st.sampled_from(["flush", "dump"]), st.one_of(st.just(""), _PROTO)),
    _stmt(st.sampled_from(["spdflush", "spddump"])),
    _stmt(st.sampled_from(["spdadd", "spdadd", "spdupdate", "spddelete"]), _FAMILY, _RANGE, _RANGE, _UPPER, _POLICY),
    st.lists(st.one_of(ADDRESS, _PROTO, _SPI, _EXTENSION, _ALGORITHM, _POLICY, st.sampled_from([";", "#", "add"])),
             max_size=6).map(" ".join),
)
_SCRIPT = st.lists(_STATEMENT, min_size=1, max_size=4).map("\n".join)
SETKEY = st.one_of(
    _SCRIPT.map(lambda script: f"setkey -c <<EOF\n{script}\nEOF"),
    _SCRIPT.map(lambda script: f"setkey -c <<EOF\n{script}\nEOF"),
    st.tuples(st.sampled_from(["", "-v "]), _SCRIPT).map(lambda t: f"setkey {t[0]}-e {shlex.quote(t[1])}"),
    _line(_words("setkey"), _words("-D", "-DP", "-DPg", "-DPt", "-Da", "-Dl", "-DPl", "-F", "-FP", "-x", "-xx",
                                   "-hx", "-vD", "-vDP", "-vF", "-c", "-d"),
          _options("acdghltvxDFP", {"e": JUNK, "f": JUNK})),
)

# Lines that give the others something to act on (run before them, in the same shell).
SETUPS = st.sampled_from([
    "",
    "ifconfig ipsec0 create reqid 100; ifconfig ipsec0 inet tunnel 10.0.1.1 10.0.2.2; "
    "ifconfig ipsec0 inet 172.16.0.1/16 172.16.0.2",
    "ifconfig ipsec0 create; ifconfig ipsec0 inet6 tunnel 2001:db8:1::1 2001:db8:2::2 up",
    "setkey -c <<EOF\nadd 10.0.1.1 10.0.2.2 esp 10000 -m tunnel -u 100 -E rijndael-cbc \"VerySecureKey!!1\";\n"
    "spdadd 10.0.1.0/24 10.0.2.0/24 any -P out ipsec esp/tunnel/10.0.1.1-10.0.2.2/require;\nEOF",
    "route add -net 10.9.0.0/16 10.0.1.2; route add -inet6 2001:db8:9::/48 2001:db8:1::2",
])
