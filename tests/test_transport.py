"""The network policy of the HTTP client: which addresses, how long to wait, how much to read."""

from __future__ import annotations

import gzip
import zlib
from ipaddress import ip_address

import pytest

from indexer.transport import (
    UnsupportedEncoding,
    _Decoder,
    is_public_address,
    parse_allow_hosts,
    parse_retry_after,
)


def test_address_policy():

    public = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    internal = [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::", "224.0.0.1",
    ]  # fmt: skip
    assert all(is_public_address(ip_address(a)) for a in public)
    assert not any(is_public_address(ip_address(a)) for a in internal)
    assert parse_allow_hosts(["127.0.0.1:8080", "Wiki.Local", "[::1]:81", " "]) == {
        ("127.0.0.1", 8080),
        ("wiki.local", None),
        ("::1", 81),
    }


def test_retry_after_parsing():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_decoder_never_inflates_more_than_asked():
    bomb = gzip.compress(b"\0" * 20_000_000)
    assert len(_Decoder("gzip").decode(bomb, 1000)) == 1000


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw, as some servers send
        ("identity", lambda data: data),
        (None, lambda data: data),
    ],
)
def test_decoder_decodes_what_recall_asks_for(encoding, encode):
    data = b"attention " * 5000
    wire = encode(data)
    decoder = _Decoder(encoding)
    decoded = b"".join(decoder.decode(wire[i : i + 777], 10**9) for i in range(0, len(wire), 777))
    assert decoded == data


def test_concatenated_gzip_members_are_all_decoded():
    wire = gzip.compress(b"first ") + gzip.compress(b"second")
    assert _Decoder("gzip").decode(wire, 1000) == b"first second"


def test_unrequested_encoding_is_refused():
    with pytest.raises(UnsupportedEncoding):
        _Decoder("br")
