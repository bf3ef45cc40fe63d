"""netstat(1): ``-r`` routing tables, ``-i``/``-I`` interfaces, ``-s`` protocol statistics
(usr.bin/netstat/route.c, route_netlink.c, if.c, inet.c).

``netstat -rn`` lays out each family as route.c does: 18-character destination
and gateway columns (33 and 29 for IPv6 with ``-n``), a 6-character flags
column, an 8-character Netif column; a value wider than its column pushes the
next column right ("protrusion"). ``netstat -i`` sizes its columns to the widest
value, as FreeBSD 14's if.c does, with one row per interface (``<Link#N>``) and
one per address; address rows count no per-address packets here (the
simulated kernel keeps per-interface counters only), so they show 0.
``netstat -s`` prints the udp, ip, icmp, ipsec and esp sections in FreeBSD's words
from the host's counters, in the order of main.c's ``protox[]`` (tcp, udp, sctp,
divert, ip, icmp, igmp, ipsec, ah, esp, ipcomp, pim, carp, pfsync, arp) with the
protocols the simulator does not count left out; counters the simulator does not
keep print as 0; icmp has its output and input histograms (:mod:`._netstat_icmp`).
``-p esp`` and ``-p ipsec`` print the host's espstat and ipsecstat as
usr.bin/netstat/ipsec.c does. ``-z`` zeroes the ip, icmp and udp counters as it prints
them (it prints zeros); it leaves espstat and ipsecstat as they are.
"""

from ..kernel import format_route_flags
from ..kernel.ifnet import IFF_UP
from ._core import CommandContext, Exit, register
from ._libc import EX_USAGE, getopt, host_name, routename, strtol
from ._netstat_icmp import icmp_stats

__all__ = ["netstat"]

USAGE = (
    "usage: netstat [-46AaCcLnRSTWx] [-f protocol_family | -p protocol]\n"
    "               [-j jail] [-M core] [-N system]\n"
    "       netstat -i | -I interface [-46abdhnW] [-f address_family]\n"
    "               [-j jail] [-M core] [-N system]\n"
    "       netstat -r [-46AnW] [-F fibnum] [-f address_family]\n"
    "               [-j jail] [-M core] [-N system]\n"
    "       netstat -s [-46sz] [-f protocol_family | -p protocol]\n"
    "               [-j jail] [-M core] [-N system]"
)
_FAMILIES = {"inet": 4, "inet6": 6, "ipv6": 6, "ipv4": 4}
_OPTSTRING = "46AaBbCcdF:f:gHhI:ij:LlM:mN:nPp:q:RrSsTtuWw:xz"


def _getopt(argv: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """main.c's getopt loop: each option letter with its arguments, in order."""
    pairs, rest = getopt("netstat", _OPTSTRING, argv[1:], USAGE, EX_USAGE)
    opts: dict[str, list[str]] = {}
    for ch, value in pairs:
        opts.setdefault(ch, []).append(value)
    return opts, rest


@register("netstat")
def netstat(ctx: CommandContext, argv: list[str]) -> int:
    opts, rest = _getopt(argv)
    if rest:
        raise Exit(EX_USAGE, USAGE)
    family: int | str | None = None
    if "4" in opts:
        family = 4
    if "6" in opts:
        family = 6
    for name in opts.get("f", []):
        if name == "link":
            family = "link"
        elif name in _FAMILIES:
            family = _FAMILIES[name]
        else:
            raise Exit(1, f"netstat: {name}: unknown address family")
    numeric = "n" in opts
    if "r" in opts:
        return _routes(ctx, opts, family, numeric)
    if "i" in opts or "I" in opts:
        return _interfaces(ctx, opts, family, numeric)
    if "s" in opts:
        return _stats(ctx, opts, family)
    raise Exit(EX_USAGE, "netstat: listing sockets is not supported by the simulator; use -r, -i or -s")


# -- netstat -r -------------------------------------------------------------------------------


def _routes(ctx: CommandContext, opts, family, numeric: bool) -> int:
    fibnum = 0
    for text in opts.get("F", []):
        fibnum, extra = strtol(text, 0)
        if extra or not text:
            raise Exit(1, f"netstat: {text}: invalid fib")
    if not 0 <= fibnum < int(ctx.host.sysctl["net.fibs"]):
        raise Exit(EX_USAGE, f"netstat: {fibnum}: invalid fib")
    wide = "W" in opts
    fib = ctx.host.fibs[fibnum]
    ctx.out("Routing tables" + (f" (fib: {fibnum})" if fibnum else ""))
    for fam, title in ((4, "Internet"), (6, "Internet6")):
        if family not in (None, fam):
            continue
        routes = fib.routes(fam)
        if not routes:
            continue
        dst_w = 33 if fam == 6 and numeric else 18
        gw_w = 29 if fam == 6 and numeric else 18
        if_w = 10 if wide and fam == 4 else 8
        ctx.out("")
        ctx.out(f"{title}:")
        if wide:
            ctx.out(f"{'Destination':<{dst_w}} {'Gateway':<{gw_w}} {'Flags':<6} {'Use':>8} {'Mtu':>6} "
                    f"{'Netif':>{if_w}} {'Expire':>6}")
        else:
            ctx.out(f"{'Destination':<{dst_w}} {'Gateway':<{gw_w}} {'Flags':<6} {'Netif':>{if_w}} {'Expire':>6}")
        for found in routes:
            ctx.out(_route_row(found, numeric, wide, dst_w, gw_w, if_w))
    return 0


def _destination(found, numeric: bool) -> str:
    dest = found.dest
    if found.is_host:
        return routename(dest.network_address, True) if numeric else host_name(dest.network_address)
    if dest.prefixlen == 0:
        return "default"
    return f"{dest.network_address}/{dest.prefixlen}"


def _route_row(found, numeric: bool, wide: bool, dst_w: int, gw_w: int, if_w: int) -> str:
    full = numeric or wide
    cells = []
    protrusion = 0
    for text, width in ((_destination(found, numeric), dst_w),
                        (found.gateway_text if found.gateway is None or numeric else host_name(found.gateway),
                         gw_w)):
        width -= protrusion
        if not full:
            text = text[:width]
        cells.append(f"{text:<{width}} ")
        protrusion = max(len(text) - width, 0)
    flags = format_route_flags(found.flags)
    cells.append(f"{flags:<{6 - protrusion}} ")
    if wide:
        cells.append(f"{0:>8} ")
        cells.append(f"{found.path_mtu():>6} ")
        cells.append(f"{found.ifp.name:>{if_w}}")
    else:
        cells.append(f"{found.ifp.name[:if_w]:>{if_w}}")
    return "".join(cells)


# -- netstat -i ----------------------------------------------------------------------------------


def _num_width(width: int, value: int) -> int:
    """if.c max_num_len(): the digits a counter needs plus a space (its quirk: >10, not >=10)."""
    length = 2
    while value > 10:
        length += 1
        value //= 10
    return max(width, length)


def _interfaces(ctx: CommandContext, opts, family, numeric: bool) -> int:
    only = opts["I"][-1] if "I" in opts else None
    show_bytes, show_drops = "b" in opts, "d" in opts
    rows = []  # (ifp, network, address, is_link)
    for ifp in sorted(ctx.host.interfaces.values(), key=lambda i: i.index):
        if only is not None and ifp.name != only:
            continue
        if family in (None, "link"):
            mac = getattr(ifp, "ether", None)
            rows.append((ifp, f"<Link#{ifp.index}>", ":".join(f"{b:02x}" for b in mac) if mac else ifp.name, True))
        for fam, addrs in ((4, ifp.addrs4), (6, ifp.addrs6)):
            if family not in (None, fam):
                continue
            for addr in addrs:
                network = addr.interface.network
                ip = addr.interface.ip
                if fam == 6 and ip.is_link_local:
                    net_text = f"{network.network_address}%{ifp.name}/{network.prefixlen}"
                    addr_text = f"{ip}%{ifp.name}"
                else:
                    net_text = f"{network.network_address}/{network.prefixlen}"
                    addr_text = str(ip) if numeric else host_name(ip)
                rows.append((ifp, net_text, addr_text, False))
    name_w = max([5] + [len(ifp.name) + (0 if ifp.flags & IFF_UP else 1) for ifp, *_ in rows])
    net_w = max([len("Network ")] + [len(r[1]) for r in rows])
    addr_w = max([len("Address ")] + [len(r[2]) for r in rows])
    pkt_w, byte_w, err_w = 8, 10, 5
    for ifp, *_ in rows:
        d = ifp.data
        pkt_w = _num_width(_num_width(pkt_w, d.ipackets), d.opackets)
        err_w = _num_width(_num_width(_num_width(err_w, d.ierrors), d.iqdrops), d.collisions)
        if show_drops:
            err_w = _num_width(err_w, d.oqdrops)
        if show_bytes:
            byte_w = _num_width(_num_width(byte_w, d.ibytes), d.obytes)
    head = f"{'Name':<{name_w}} {'Mtu':>5} {'Network':<{net_w}}  {'Address':<{addr_w}} {'Ipkts':>{pkt_w}} " \
           f"{'Ierrs':>{err_w}} {'Idrop':>{err_w}}"
    if show_bytes:
        head += f" {'Ibytes':>{byte_w}}"
    head += f" {'Opkts':>{pkt_w}} {'Oerrs':>{err_w}}"
    if show_bytes:
        head += f" {'Obytes':>{byte_w}}"
    head += f" {'Coll':>{err_w}}"
    if show_drops:
        head += f" {'Drop':>{err_w}}"
    ctx.out(head)
    for ifp, net_text, addr_text, is_link in rows:
        d = ifp.data
        name = ifp.name if ifp.flags & IFF_UP else ifp.name + "*"

        def stat(value: int, width: int, shown: bool) -> str:
            return f"{value if shown else '-':>{width}}"

        line = f"{name:<{name_w}}" + (f"{ifp.mtu:>6} " if is_link else f"{'-':>6} ")
        line += f"{net_text:<{net_w}}  {addr_text:<{addr_w}} "
        line += stat(d.ipackets if is_link else 0, pkt_w, True) + " "
        line += stat(d.ierrors, err_w, is_link) + " " + stat(d.iqdrops, err_w, is_link) + " "
        if show_bytes:
            line += stat(d.ibytes if is_link else 0, byte_w, True) + " "
        line += stat(d.opackets if is_link else 0, pkt_w, True) + " " + stat(d.oerrors, err_w, is_link) + " "
        if show_bytes:
            line += stat(d.obytes if is_link else 0, byte_w, True) + " "
        line += stat(d.collisions, err_w, is_link)
        if show_drops:
            line += " " + stat(d.oqdrops, err_w, is_link) + " "
        ctx.out(line)
    return 0


# -- netstat -s -----------------------------------------------------------------------------------


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _ip_stats(st, every: bool) -> list[str]:
    rows = [
        ("ips_total", "total packet{s} received"), ("ips_badsum", "bad header checksum{s}"),
        ("ips_toosmall", "with size smaller than minimum"), ("ips_tooshort", "with data size < data length"),
        ("ips_toolong", "with ip length > max ip packet size"), ("ips_badhlen", "with header length < data size"),
        ("ips_badlen", "with data length < header length"), ("ips_badoptions", "with bad options"),
        ("ips_badvers", "with incorrect version number"), ("ips_fragments", "fragment{s} received"),
        ("ips_fragdropped", "fragment{s} dropped (dup or out of space)"),
        ("ips_fragtimeout", "fragment{s} dropped after timeout"), ("ips_reassembled", "packet{s} reassembled ok"),
        ("ips_delivered", "packet{s} for this host"),
        ("ips_noproto", "packet{s} for unknown/unsupported protocol"),
        ("ips_forward", "packet{s} forwarded (FAST)"), ("ips_cantforward", "packet{s} not forwardable"),
        ("ips_notmember", "packet{s} received for unknown multicast group"),
        ("ips_redirectsent", "redirect{s} sent"), ("ips_localout", "packet{s} sent from this host"),
        ("ips_rawout", "packet{s} sent with fabricated ip header"),
        ("ips_odropped", "output packet{s} dropped due to no bufs, etc."),
        ("ips_noroute", "output packet{s} discarded due to no route"),
        ("ips_fragmented", "output datagram{s} fragmented"), ("ips_ofragments", "fragment{s} created"),
        ("ips_cantfrag", "datagram{s} that can't be fragmented"),
        ("ips_nogif", "tunneling packet{s} that can't find gif"),
        ("ips_badaddr", "datagram{s} with bad address in header"),
    ]
    lines = []
    for field, text in rows:
        value = getattr(st, field, 0)
        if not (value or every):
            continue
        text = text.replace("{s}", _plural(value))
        if text.endswith(" (FAST)"):  # usr.bin/netstat/inet.c ip_stats: " (%ju packet%s fast forwarded)"
            fast = st.ips_fastforward
            text = text.replace(" (FAST)", f" ({fast} packet{_plural(fast)} fast forwarded)" if fast or every else "")
        lines.append(f"\t{value} {text}")
    return ["ip:"] + lines


def _udp_stats(st, every: bool) -> list[str]:
    ipackets, noport, badsum = st.udps_ipackets, st.udps_noport, st.udps_badsum
    rows = [
        (ipackets, "datagram{s} received"), (0, "with incomplete header"), (0, "with bad data length field"),
        (badsum, "with bad checksum"), (0, "with no checksum"), (noport, "dropped due to no socket"),
        (0, "broadcast/multicast datagram{s} undelivered"), (0, "dropped due to full socket buffers"),
        (0, "not for hashed pcb"), (max(ipackets - badsum - noport, 0), "delivered"),
        (st.udps_opackets, "datagram{s} output"), (0, "time{s} multicast source filter matched"),
    ]
    return ["udp:"] + [f"\t{value} {text.replace('{s}', _plural(value))}" for value, text in rows if value or every]


_STATS = {"ip": _ip_stats, "icmp": icmp_stats, "udp": _udp_stats}
# The counters of each protocol in the host's IpStat: what -z zeroes (net.inet.<proto>.stats).
_PREFIX = {"ip": "ips_", "icmp": "icps_", "udp": "udps_"}


# -- netstat -s -p esp / -p ipsec (usr.bin/netstat/ipsec.c) ------------------------------------

# ipsec_espnames: SADB encryption id -> name in the "ESP output histogram".
_ESP_NAMES = {0: "none", 2: "des-cbc", 3: "3des-cbc", 11: "null", 6: "cast128-cbc", 7: "blowfish-cbc",
              12: "rijndael-cbc", 13: "aes-ctr", 20: "aes-gcm-16"}  # fmt: skip


def _host_espstat(host):
    """The host's espstat: its own counters (drops before an SA is found, and SAs the
    kernel adopted) plus those of SAs still counting on their own."""
    from ..netipsec import EspStat

    total = EspStat()
    own = getattr(host, "espstat", None)
    if own is not None:
        total.add(own)
    keydb = getattr(host, "keydb", None)
    if keydb is not None:
        for sa in keydb.sas():
            if sa.stats is not own:
                total.add(sa.stats)
    return total


def _esp_stats(host, every: bool) -> list[str]:
    """print_espstats: one line per espstat counter, then the algorithm histogram."""
    st = _host_espstat(host)
    rows = [
        ("esps_hdrops", "packet{s} shorter than header shows"),
        ("esps_nopf", "packet{s} dropped; protocol family not supported"),
        ("esps_notdb", "packet{s} dropped; no TDB"), ("esps_badkcr", "packet{s} dropped; bad KCR"),
        ("esps_qfull", "packet{s} dropped; queue full"), ("esps_noxform", "packet{s} dropped; no transform"),
        ("esps_badilen", "packet{s} dropped; bad ilen"), ("esps_wrap", "replay counter wrap{s}"),
        ("esps_badenc", "packet{s} dropped; bad encryption detected"),
        ("esps_badauth", "packet{s} dropped; bad authentication detected"),
        ("esps_replay", "possible replay packet{s} detected"), ("esps_input", "packet{s} in"),
        ("esps_output", "packet{s} out"), ("esps_invalid", "packet{s} dropped; invalid TDB"),
        ("esps_ibytes", "byte{s} in"), ("esps_obytes", "byte{s} out"),
        ("esps_toobig", "packet{s} dropped; larger than IP_MAXPACKET"),
        ("esps_pdrops", "packet{s} blocked due to policy"), ("esps_crypto", "crypto processing failure{s}"),
        ("esps_tunnel", "tunnel sanity check failure{s}"),
    ]
    lines = ["esp:"]
    for field, text in rows:
        value = getattr(st, field)
        if value or every:
            lines.append(f"\t{value} {text.replace('{s}', _plural(value))}")
    hist = [(alg, n) for alg, n in sorted(st.esps_hist.items()) if n > 0]
    if hist:
        lines.append("\tESP output histogram:")
        lines += [f"\t\t{_ESP_NAMES[alg]}: {n}" if alg in _ESP_NAMES else f"\t\t#{alg}: {n}" for alg, n in hist]
    return lines


def _ipsec_stats(host, every: bool) -> list[str]:
    """print_ipsecstats: the key engine's ipsecstat counters."""
    keydb = getattr(host, "keydb", None)
    rows = [
        ("ips_in_polvio", "inbound packet{s} violated process security policy"),
        ("ips_in_nomem", "inbound packet{s} failed due to insufficient memory"),
        ("ips_in_inval", "invalid inbound packet{s}"),
        ("ips_out_polvio", "outbound packet{s} violated process security policy"),
        ("ips_out_nosa", "outbound packet{s} with no SA available"),
        ("ips_out_nomem", "outbound packet{s} failed due to insufficient memory"),
        ("ips_out_noroute", "outbound packet{s} with no route available"),
        ("ips_out_inval", "invalid outbound packet{s}"),
        ("ips_out_bundlesa", "outbound packet{s} with bundled SAs"),
        ("ips_spdcache_hits", "spd cache hit{s}"), ("ips_spdcache_misses", "spd cache miss{es}"),
        ("ips_clcopied", "cluster{s} copied during clone"), ("ips_mbinserted", "mbuf{s} inserted during makespace"),
    ]
    lines = ["ipsec:"]
    for field, text in rows:
        value = getattr(keydb.stats, field, 0) if keydb is not None else 0
        if value or every:
            text = text.replace("{s}", _plural(value)).replace("{es}", "" if value == 1 else "es")
            lines.append(f"\t{value} {text}")
    return lines


_HOST_STATS = {"esp": _esp_stats, "ipsec": _ipsec_stats}
# netstat -s (-4) without -p: main.c walks protox[] in order; these are the entries the simulator counts.
_PROTOX = ("udp", "ip", "icmp", "ipsec", "esp")


def _stats(ctx: CommandContext, opts, family) -> int:
    every = len(opts["s"]) <= 1  # -ss: only non-zero counters
    for name in opts.get("p", []):  # main.c checks each -p as getopt meets it; the last one counts
        if name not in _HOST_STATS and name not in _STATS:
            raise Exit(1, f"netstat: {name}: unknown or uninstrumented protocol")
    if "p" in opts:
        protocols = opts["p"][-1:]
    else:
        protocols = list(_PROTOX) if family in (None, 4) else []
    for name in protocols:
        if name in _HOST_STATS:  # -z does not zero these here (the key engine's counters)
            ctx.out("\n".join(_HOST_STATS[name](ctx.host, every)))
            continue
        if "z" in opts:  # main.c fetch_stats(): -z writes zeros to the sysctl and prints those
            ctx.host.ipstat.zero(_PREFIX[name])
        ctx.out("\n".join(_STATS[name](ctx.host.ipstat, every)))
    return 0
