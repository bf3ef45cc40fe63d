"""PF_KEY messages into the key engine without setkey(8): the kernel builds the SA and answers
with an errno (key_add, key_setsaval, esp_init)."""

from ipaddress import ip_address, ip_network
import random

import pytest

from ipsecsim.kernel import Host, ManualClock
from ipsecsim.kernel.keysock import SadbMessage, send
from ipsecsim.netipsec import SecurityPolicy

A, B = ip_address("192.0.2.1"), ip_address("192.0.2.2")


@pytest.fixture
def host():
    return Host("A", clock=ManualClock(), rng=random.Random(1))


def add(host, spi=1000, key=b"K" * 20, **kw):
    return send(host, SadbMessage("SADB_ADD", "esp", src=A, dst=B, spi=spi, enc="aes-gcm-16", enc_key=key, **kw))


def test_add_installs_an_sa_the_engine_then_finds(host):
    assert add(host).errno is None
    reply = send(host, SadbMessage("SADB_GET", "esp", src=A, dst=B, spi=1000))
    assert reply.errno is None and reply.sa.spi == 1000 and reply.sa.src == A


def test_a_35_byte_aes_gcm_16_key_is_einval_with_the_key_rule(host):
    reply = add(host, key=b"K" * 35)
    assert (reply.errno, reply.checked_sa) == ("EINVAL", True)
    assert "4-byte salt" in reply.detail
    assert send(host, SadbMessage("SADB_GET", "esp", src=A, dst=B, spi=1000)).errno == "ESRCH"


def test_an_spi_in_use_is_eexist_and_a_reserved_spi_einval(host):
    assert add(host).errno is None
    reply = add(host)
    assert (reply.errno, reply.checked_sa) == ("EEXIST", False)
    assert add(host, spi=255).errno == "EINVAL"


def test_the_sa_takes_the_hosts_ctr_compatibility_sysctl(host):
    host.sysctl.set("net.inet.esp.ctr_compatibility", 0)
    reply = send(host, SadbMessage("SADB_ADD", "esp", src=A, dst=B, spi=1001, enc="aes-ctr", enc_key=b"K" * 20,
                                   auth="hmac-sha2-256", auth_key=b"A" * 32))
    assert reply.errno is None
    sa = send(host, SadbMessage("SADB_GET", "esp", src=A, dst=B, spi=1001)).sa
    assert sa.ctr_compatibility is False


def test_delete_one_then_all(host):
    add(host, spi=1000)
    add(host, spi=1001)
    assert send(host, SadbMessage("SADB_DELETE", "esp", src=A, dst=B, spi=1000)).errno is None
    assert send(host, SadbMessage("SADB_DELETE", "esp", src=A, dst=B, spi=1000)).errno == "ESRCH"
    assert send(host, SadbMessage("SADB_DELETE", "esp", src=A, dst=B)).errno is None  # key_delete_all
    assert send(host, SadbMessage("SADB_GET", "esp", src=A, dst=B, spi=1001)).errno == "ESRCH"


def test_policies_are_added_and_deleted(host):
    policy = SecurityPolicy(src=ip_network("10.0.0.0/24"), dst=ip_network("10.0.1.0/24"), direction="out",
                            policy="discard")
    assert send(host, SadbMessage("SADB_X_SPDADD", "unspec", policy=policy)).errno is None
    assert send(host, SadbMessage("SADB_X_SPDADD", "unspec", policy=policy)).errno == "EEXIST"
    assert send(host, SadbMessage("SADB_X_SPDDELETE", "unspec", policy=policy)).errno is None
    assert send(host, SadbMessage("SADB_X_SPDDELETE", "unspec", policy=policy)).errno == "EINVAL"  # key_spddelete: no SP found


def test_a_message_without_its_extensions_is_einval(host):
    assert send(host, SadbMessage("SADB_ADD", "esp", src=A, dst=B)).errno == "EINVAL"
    assert send(host, SadbMessage("SADB_X_SPDADD", "unspec")).errno == "EINVAL"
    assert send(host, SadbMessage("SADB_REGISTER", "esp")).errno == "EINVAL"
