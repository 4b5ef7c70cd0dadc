"""Deep links carry the code: ``/playground?code=<zlib + base64url>&input=1,28,28`` round-trips exactly."""

from __future__ import annotations

import base64
import zlib

import pytest

from explorer.playground import LISTINGS, CodeError, decode_code, encode_code, stated_input


@pytest.mark.parametrize("code", [
    *(listing.code for listing in LISTINGS.values()),
    "", "net = nn.Linear(1, 1)", "# 中文注释 ünïcode\r\n\tx = 1  \n\n", "a" * 60_000,
])
def test_round_trip_is_exact(code):
    token = encode_code(code)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_code(token) == code


def test_links_are_short():
    assert len(encode_code(LISTINGS["googlenet"].code)) < len(LISTINGS["googlenet"].code) / 2


@pytest.mark.parametrize("token", ["not base64!", "AAAA", encode_code("x = 1")[:-3]])
def test_damaged_links_are_one_sentence(token):
    with pytest.raises(CodeError, match="damaged"):
        decode_code(token)


def test_a_zip_bomb_is_not_inflated():
    bomb = base64.urlsafe_b64encode(zlib.compress(b"x" * 50_000_000, 9)).decode().rstrip("=")
    with pytest.raises(CodeError, match="larger than"):
        decode_code(bomb)


@pytest.mark.parametrize(("code", "shape"), [
    ("# input: 1,28,28\nnet = 1", (1, 28, 28)),
    ("x = 1\n  #Input = 3x224x224  \n", (3, 224, 224)),
    ("# input: 3×32×32", (3, 32, 32)),
    ("net = 1  # input: 1,2,3", None),
    ("no comment", None),
])
def test_stated_input(code, shape):
    assert stated_input(code) == shape
