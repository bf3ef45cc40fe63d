"""ipsecsim/netipsec/policy.py: selectors and requests. [S4.1] [S10.7] [S10.10]"""

from ipaddress import ip_address, ip_network

from ipsecsim.netipsec import IpsecRequest, SaIndex, SecurityPolicy


def test_selector_matching_key_cmpspidx_withmask():
    sp = SecurityPolicy(ip_network("10.0.0.0/8"), ip_network("192.0.2.0/24"), dport=80, ul_proto=6)
    assert sp.matches(ip_address("10.1.2.3"), ip_address("192.0.2.9"), 6, 1234, 80)
    assert not sp.matches(ip_address("10.1.2.3"), ip_address("192.0.2.9"), 17, 1234, 80)
    assert not sp.matches(ip_address("10.1.2.3"), ip_address("192.0.2.9"), 6, 1234, 81)
    assert not sp.matches(ip_address("11.1.2.3"), ip_address("192.0.2.9"), 6, 1234, 80)
    assert not sp.matches(ip_address("::1"), ip_address("::2"), 6, 1234, 80)
    anything = SecurityPolicy(ip_network("::/0"), ip_network("::/0"))
    assert anything.matches(ip_address("2001:db8::1"), ip_address("2001:db8::2"), 58, 128, 0)


def test_request_text_s10_10():
    a, b = ip_address("192.168.0.3"), ip_address("192.168.0.5")
    assert str(IpsecRequest("esp", "tunnel", a, b, "unique", 100)) == "esp/tunnel/192.168.0.3-192.168.0.5/unique:100"
    assert str(IpsecRequest("esp", "tunnel", a, b, "unique", 16385)) == "esp/tunnel/192.168.0.3-192.168.0.5/unique#16385"
    assert str(IpsecRequest("esp", "transport", None, None, "require")) == "esp/transport//require"


def test_sa_index_comparisons_s7_1():
    a, b = ip_address("192.168.0.3"), ip_address("192.168.0.5")
    head = SaIndex("esp", "any", 100, a, b)
    assert head.matches_request(SaIndex("esp", "tunnel", 100, a, b))  # mode any matches any mode
    assert head.matches_request(SaIndex("esp", "tunnel", 0, a, b))  # no reqid wanted
    assert not head.matches_request(SaIndex("esp", "tunnel", 200, a, b))
    assert not SaIndex("esp", "transport", 100, a, b).matches_request(SaIndex("esp", "tunnel", 100, a, b))
    assert head.matches_head("esp", a, b) and not head.matches_head("ah", a, b)
