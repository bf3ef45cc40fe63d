"""ipsecsim/ike/show.py and ipsecsim/userland/swanctl.py: strongSwan 5.9's swanctl output.

The expected texts are real swanctl outputs published with their configurations
(each test names its source); the views are filled with the values those outputs show.
"""

import random
import textwrap
from types import SimpleNamespace

import pytest

from ipsecsim.ike.config import parse_swanctl
from ipsecsim.ike.show import format_conns, list_conns, list_sas, load_all
from ipsecsim.ike.views import ChildSaView, IkeSaView, conn_views
from ipsecsim.kernel import Host
from ipsecsim.kernel.clock import ManualClock
from ipsecsim.userland import Console, Shell

from .test_swanctl_config import OFFICES

# A strongSwan tutorial's two offices (site-to-site, PSK, start_action = trap): `swanctl --list-conns`.
OFFICES_LIST_CONNS = """\
offices: IKEv2, no reauthentication, rekeying every 14400s
  local:  203.0.113.2
  remote: 198.51.100.2
  local pre-shared key authentication:
    id: hq.example.com
  remote pre-shared key authentication:
    id: branch.example.com
  lans: TUNNEL, rekeying every 3600s
    local:  192.168.10.0/24
    remote: 192.168.20.0/24
"""

# strongSwan's documentation (a road warrior with a PSK connection): `swanctl --list-conns`.
PSK_CONF = """\
connections {
  psk {
    version = 2
    remote_addrs = 192.168.0.2
    dpd_delay = 60s
    local { auth = psk
      id = hacker@strongswan.org }
    remote { auth = psk
      id = server.strongswan.org }
    children { psk { remote_ts = 10.1.0.0/16
      dpd_action = trap } }
  }
}
"""
PSK_LIST_CONNS = """\
psk: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 60s
  local:  %any
  remote: 192.168.0.2
  local pre-shared key authentication:
    id: hacker@strongswan.org
  remote pre-shared key authentication:
    id: server.strongswan.org
  psk: TUNNEL, rekeying every 3600s, dpd action is hold
    local:  dynamic
    remote: 10.1.0.0/16
"""

# A cloud provider's guide: a connection without ids, dpd_delay 10s (`swanctl -L`, its IKEv2 entry).
CLOUD_CONF = """\
connections { cloud-ipsec { version = 2
  local_addrs = 172.16.0.10
  remote_addrs = 203.0.113.9
  dpd_delay = 10s
  local { auth = psk }
  remote { auth = psk }
  children { cloud-ipsec { local_ts = 172.16.0.0/24
    remote_ts = 10.20.0.0/16 } } } }
"""
CLOUD_LIST_CONNS = """\
cloud-ipsec: IKEv2, no reauthentication, rekeying every 14400s, dpd delay 10s
  local:  172.16.0.10
  remote: 203.0.113.9
  local pre-shared key authentication:
  remote pre-shared key authentication:
  cloud-ipsec: TUNNEL, rekeying every 3600s, dpd action is clear
    local:  172.16.0.0/24
    remote: 10.20.0.0/16
"""


@pytest.mark.parametrize("conf, expected", [(OFFICES, OFFICES_LIST_CONNS), (PSK_CONF, PSK_LIST_CONNS),
                                            (CLOUD_CONF, CLOUD_LIST_CONNS)])
def test_list_conns_matches_real_output(conf, expected):
    assert list_conns(parse_swanctl(conf)) == expected


def test_list_conns_lists_connections_in_file_order_and_nothing_when_empty():
    config = parse_swanctl(CLOUD_CONF + OFFICES)
    assert list_conns(config) == CLOUD_LIST_CONNS + OFFICES_LIST_CONNS
    assert list_conns(parse_swanctl("")) == ""


def test_list_conns_times_reauth_and_transport():
    config = parse_swanctl("connections { c { version = 2\n reauth_time = 1h\n rekey_time = 0\n local { auth = psk }\n"
                           "remote { auth = psk }\n children { t { mode = transport\n rekey_time = 0 } } } }")
    assert format_conns(conn_views(config)).splitlines()[0] == "c: IKEv2, reauthentication every 3600s, no rekeying"
    assert "  t: TRANSPORT, no rekeying" in list_conns(config).splitlines()


# A Kubernetes IPsec gateway's `swanctl --list-sas` on the responder, NAT-T on port 4500
# (submariner-io/submariner issue 360).
SUBMARINER_LIST_SAS = """\
submariner-cable-cluster3-172-17-0-7: #2, ESTABLISHED, IKEv2, e1d379930d5dda7d_i 7fa34a6224864124_r*
  local  '172.17.0.10' @ 172.17.0.10[4500]
  remote '172.17.0.7' @ 172.17.0.7[4500]
  AES_GCM_16-128/PRF_HMAC_SHA2_256/MODP_2048
  established 1379s ago, rekeying in 13013s
  submariner-child-submariner-cable-cluster3-172-17-0-7: #1, reqid 1, INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-128
    installed 1379s ago, rekeying in 1883s, expires in 2581s
    in  cac21d13,      0 bytes,     0 packets
    out cb66f8b2,      0 bytes,     0 packets
    local  169.254.2.0/24 172.17.0.10/32
    remote 169.254.3.0/24 172.17.0.7/32
"""

SUBMARINER_CHILD = ChildSaView(
    "submariner-child-submariner-cable-cluster3-172-17-0-7", 1, 1, "INSTALLED", "TUNNEL", 0xCAC21D13, 0xCB66F8B2,
    "AES_GCM_16-128", ("169.254.2.0/24", "172.17.0.10/32"), ("169.254.3.0/24", "172.17.0.7/32"),
    installed=1379, rekeying_in=1883, expires_in=2581, encap=True)
SUBMARINER_SA = IkeSaView(
    "submariner-cable-cluster3-172-17-0-7", 2, "ESTABLISHED", "172.17.0.10", "172.17.0.7", "172.17.0.10",
    "172.17.0.7", 0xE1D379930D5DDA7D, 0x7FA34A6224864124, False, "AES_GCM_16-128/PRF_HMAC_SHA2_256/MODP_2048",
    established=1379, rekeying_in=13013, children=(SUBMARINER_CHILD,), local_port=4500, remote_port=4500)


def test_list_sas_matches_real_output():
    assert list_sas([SUBMARINER_SA]) == SUBMARINER_LIST_SAS
    assert list_sas([]) == ""


def test_list_sas_initiator_counters_last_use_and_a_connecting_sa():
    child = ChildSaView("lans", 4, 100, "INSTALLED", "TUNNEL", 0x9AB696F9, 0x4AD97B9D, "AES_GCM_16-256",
                        ("192.168.10.0/24",), ("192.168.20.0/24",), installed=5, rekeying_in=3300, expires_in=3955,
                        bytes_in=8765, packets_in=112, bytes_out=12048, packets_out=154, used_in=23, used_out=3)
    up = IkeSaView("offices", 3, "ESTABLISHED", "203.0.113.2", "198.51.100.2", "hq.example.com", "branch.example.com",
                   0x1, 0xABCDEF, True, "AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384", established=5,
                   rekeying_in=13711, expires_in=15151, children=(child,))
    connecting = IkeSaView("offices", 4, "CONNECTING", "203.0.113.2", "198.51.100.2", "hq.example.com", "%any",
                           0x2, 0, True)
    assert list_sas([up, connecting]) == textwrap.dedent("""\
        offices: #3, ESTABLISHED, IKEv2, 0000000000000001_i* 0000000000abcdef_r
          local  'hq.example.com' @ 203.0.113.2[500]
          remote 'branch.example.com' @ 198.51.100.2[500]
          AES_GCM_16-256/PRF_HMAC_SHA2_384/ECP_384
          established 5s ago, rekeying in 13711s, expires in 15151s
          lans: #4, reqid 100, INSTALLED, TUNNEL, ESP:AES_GCM_16-256
            installed 5s ago, rekeying in 3300s, expires in 3955s
            in  9ab696f9,   8765 bytes,   112 packets,    23s ago
            out 4ad97b9d,  12048 bytes,   154 packets,     3s ago
            local  192.168.10.0/24
            remote 192.168.20.0/24
        offices: #4, CONNECTING, IKEv2, 0000000000000002_i* 0000000000000000_r
          local  'hq.example.com' @ 203.0.113.2[500]
          remote '%any' @ 198.51.100.2[500]
        """)


# An OpenWrt router loading a site-to-site PSK configuration (openwrt/packages pull request 15890).
GW_CONF = """\
connections { gw-gw { version = 2
  remote_addrs = 183.6.139.28
  local { auth = psk }
  remote { auth = psk }
  children { net-net { local_ts = 10.3.208.0/24 } } } }
secrets { ike-gw-gw { id = 183.6.139.28
  secret = xxxxxx } }
"""
GW_LOAD_ALL = """\
loaded ike secret 'ike-gw-gw'
no authorities found, 0 unloaded
no pools found, 0 unloaded
loaded connection 'gw-gw'
successfully loaded 1 connections, 0 unloaded
"""


def test_load_all_matches_real_output():
    assert load_all(parse_swanctl(GW_CONF)) == GW_LOAD_ALL


# -- swanctl on a host ---------------------------------------------------------------------------


class StubCharon:
    """What the daemon offers swanctl: its config, its IKE_SAs, initiate and terminate."""

    def __init__(self, conf: str = OFFICES, sas=(), answer=None):
        self.config = parse_swanctl(conf)
        self.sas = list(sas)
        self.answer = answer
        self.calls: list[tuple[str, str]] = []

    def ike_sas(self):
        return self.sas

    def initiate(self, child):
        self.calls.append(("initiate", child))
        return self.answer

    def terminate(self, ike):
        self.calls.append(("terminate", ike))
        return self.answer


@pytest.fixture
def host():
    h = Host("hq", clock=ManualClock(0.0), rng=random.Random(1))
    return SimpleNamespace(host=h, shell=Shell(h, Console(h)))


def run(bench, line, status=0):
    result = bench.shell.run(line)
    assert result.status == status, result.output
    return result


NOT_RUNNING = ("connecting to 'unix:///var/run/charon.vici' failed: No such file or directory\n"
               "Error: connecting to 'default' URI failed: No such file or directory\n")


@pytest.mark.parametrize("line", ["swanctl --list-sas", "swanctl --list-conns", "swanctl -L", "swanctl --load-all",
                                  "swanctl --initiate --child lans", "swanctl --terminate --ike offices",
                                  "swanctl --list-sas --bogus"])
def test_without_charon_swanctl_cannot_connect(host, line):
    result = run(host, line, 1)
    assert result.output == NOT_RUNNING
    assert [e.message for e in result.errors] == ["Error: connecting to 'default' URI failed: No such file or directory"]


def test_list_commands_ask_charon(host):
    other = IkeSaView("other", 9, "CONNECTING", "a", "b", "%any", "%any", 1, 0, True)
    host.host.daemons["charon"] = StubCharon(sas=[SUBMARINER_SA, other])
    assert run(host, "swanctl --list-conns").output == OFFICES_LIST_CONNS
    assert run(host, "swanctl -l").output == list_sas([SUBMARINER_SA, other])
    assert run(host, "swanctl --list-sas --ike other").output == list_sas([other])
    assert run(host, "swanctl --list-sas --ike=other").output == list_sas([other])
    assert run(host, "swanctl --list-sas -I 2").output == SUBMARINER_LIST_SAS
    assert run(host, "swanctl --list-sas --ike nothing").output == ""


def test_load_all_prints_what_it_loaded(host):
    host.host.daemons["charon"] = StubCharon(GW_CONF)
    assert run(host, "swanctl --load-all").output == GW_LOAD_ALL
    host.host.daemons["charon"] = StubCharon("")
    assert run(host, "swanctl -q").output == ("no authorities found, 0 unloaded\nno pools found, 0 unloaded\n"
                                              "no connections found, 0 unloaded\n")


def test_initiate_and_terminate(host):
    charon = StubCharon(sas=[IkeSaView("offices", 1, "ESTABLISHED", "a", "b", "x", "y", 1, 2, True)])
    host.host.daemons["charon"] = charon
    assert run(host, "swanctl --initiate --child lans").output == "initiate completed successfully\n"
    assert run(host, "swanctl -t -i offices").output == "terminate completed successfully\n"
    assert charon.calls == [("initiate", "lans"), ("terminate", "offices")]
    result = run(host, "swanctl --initiate --child nope", 1)
    assert result.output == "initiate failed: CHILD_SA config 'nope' not found\n"
    assert [e.message for e in result.errors] == ["initiate failed: CHILD_SA config 'nope' not found"]
    assert run(host, "swanctl --terminate --ike gone", 1).output == (
        "terminate failed: no matching SAs to terminate found\n")
    assert charon.calls == [("initiate", "lans"), ("terminate", "offices")]


def test_a_failing_daemon_call(host):
    host.host.daemons["charon"] = StubCharon(answer="peer not responding")
    assert run(host, "swanctl -i -c lans", 1).output == "initiate failed: peer not responding\n"
    host.host.daemons["charon"] = StubCharon(answer=False)
    assert run(host, "swanctl -i -c lans", 1).output == "initiate failed: establishing CHILD_SA 'lans' failed\n"


@pytest.mark.parametrize("line, first", [
    ("swanctl --bogus", "Error: invalid command '--bogus'"),
    ("swanctl --list-sas --child x", "Error: invalid --list-sas option"),
    ("swanctl --list-sas --ike", "Error: invalid --list-sas option"),
    ("swanctl --initiate", "Error: --child option is missing"),
    ("swanctl --terminate", "Error: please specify --child, --ike, --child-id or --ike-id"),
])
def test_usage_errors(host, line, first):
    host.host.daemons["charon"] = StubCharon()
    result = run(host, line, 1)
    lines = result.output.splitlines()
    assert lines[:3] == [first, "strongSwan 5.9.14 swanctl", "usage:"]


def test_help_and_refusals(host):
    host.host.daemons["charon"] = StubCharon()
    assert run(host, "swanctl --list-conns --help").output == (
        "strongSwan 5.9.14 swanctl\nusage:\n  swanctl --list-conns [--raw|--pretty]\n")
    assert run(host, "swanctl --list-sas --raw", 1).output == (
        "swanctl: --raw and --pretty (VICI messages) are not simulated\n")
    assert run(host, "swanctl --terminate --child lans", 1).output == (
        "swanctl: only --terminate --ike NAME is simulated\n")


def test_a_connection_without_version_is_listed_as_either():
    # strongSwan's default version 0 (a cloud provider's `swanctl -L` shows "IKEv1/2" for such a one)
    config = parse_swanctl("connections { c { local { auth = psk }\n remote { auth = psk } } }")
    assert list_conns(config).splitlines()[0] == "c: IKEv1/2, no reauthentication, rekeying every 14400s"
