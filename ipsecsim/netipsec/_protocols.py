"""``/etc/protocols`` as setkey sees it: getprotobyname for ``upper_spec`` [S10.4],
getprotobynumber for ``setkey -DP`` [S10.10]."""

__all__ = ["IPPROTO_ICMPV6", "PROTOCOL_NAMES", "PROTOCOL_NUMBERS"]

IPPROTO_ICMPV6 = 58
# FreeBSD's /etc/protocols: names and aliases getprotobyname() finds (icmp6 and ip4 are
# setkey's own fallbacks), and the name getprotobynumber() gives back for setkey -DP.
PROTOCOL_NAMES = {
    0: "ip", 1: "icmp", 2: "igmp", 3: "ggp", 4: "ipencap", 5: "st2", 6: "tcp", 8: "egp", 9: "igp",
    12: "pup", 17: "udp", 20: "hmp", 22: "xns-idp", 27: "rdp", 29: "iso-tp4", 33: "dccp", 36: "xtp",
    37: "ddp", 38: "idpr-cmtp", 41: "ipv6", 43: "ipv6-route", 44: "ipv6-frag", 45: "idrp", 46: "rsvp",
    47: "gre", 50: "esp", 51: "ah", 57: "skip", 58: "ipv6-icmp", 59: "ipv6-nonxt", 60: "ipv6-opts",
    73: "rspf", 81: "vmtp", 88: "eigrp", 89: "ospf", 93: "ax.25", 94: "ipip", 97: "etherip",
    98: "encap", 103: "pim", 108: "ipcomp", 112: "vrrp", 115: "l2tp", 124: "isis", 132: "sctp",
    133: "fc", 135: "mobility-header", 136: "udplite", 137: "mpls-in-ip", 139: "hip", 140: "shim6",
    141: "wesp", 142: "rohc", 240: "pfsync", 258: "divert",
}  # fmt: skip
PROTOCOL_NUMBERS = {name: number for number, name in PROTOCOL_NAMES.items()} | {
    "IP": 0, "ICMP": 1, "IGMP": 2, "GGP": 3, "IP-ENCAP": 4, "ST2": 5, "TCP": 6, "EGP": 8, "UDP": 17,
    "IPv6": 41, "IPv6-Route": 43, "IPv6-Frag": 44, "RSVP": 46, "GRE": 47, "ESP": 50, "AH": 51,
    "IPv6-ICMP": 58, "IPv6-NoNxt": 59, "IPv6-Opts": 60, "OSPFIGP": 89, "IPIP": 94, "ETHERIP": 97,
    "PIM": 103, "IPComp": 108, "VRRP": 112, "SCTP": 132, "UDPLite": 136, "PFSYNC": 240, "DIVERT": 258,
}  # fmt: skip
