"""One errno table and one KernelError root for every surface that refuses with an errno."""

import pytest

from ipsecsim.kernel import HostError, KernelError, RouteError, SendError, SysctlError, strerror
from ipsecsim.kernel.if_ipsec import IfIpsecError
from ipsecsim.netipsec import PfkeyError
from ipsecsim.userland import _libc


@pytest.mark.parametrize("error", [
    HostError("EEXIST"), RouteError("ESRCH"), SysctlError("unknown oid", "ENOENT"), IfIpsecError("EINVAL"),
    SendError("EHOSTUNREACH"), PfkeyError("EEXIST", "SA with SPI 1000 already exists"),
])
def test_every_errno_exception_is_a_kernel_error_with_its_errno(error):
    assert isinstance(error, KernelError)
    assert error.strerror == strerror(error.errno_name) != error.errno_name


def test_str_is_the_message_else_strerror():
    assert str(SendError("ENETUNREACH")) == "Network is unreachable"
    assert str(PfkeyError("EEXIST", "detail")) == "File exists"
    assert str(SysctlError("unknown oid 'x'")) == "unknown oid 'x'"
    assert str(HostError("ENXIO", "interface em7 does not exist")) == "interface em7 does not exist"


def test_userland_strerror_is_the_kernels_table():
    assert _libc.strerror is strerror
    assert strerror("0") == "No error: 0"
    assert strerror("EBOGUS") == "EBOGUS"
