"""The notes' listings through the interpreter: exact parameter counts, the buggy ones failing at their line, the
dilated stack's receptive fields, and code for every d2l-style zoo id that builds exactly the zoo's network."""

from __future__ import annotations

import time

import pytest

import explorer
from explorer.playground import LISTINGS, ZOO_CODE, CodeError, locate_failure, parse_network


@pytest.mark.parametrize("listing_id", [k for k, v in LISTINGS.items() if v.params is not None])
def test_listing_has_its_exact_parameter_count(listing_id):
    listing = LISTINGS[listing_id]
    net = parse_network(listing.code)
    summary = explorer.analyze(net, listing.input_shape)
    assert summary.total_params == listing.params
    assert summary.total_params == sum(p.numel() for p in net.parameters())


def test_the_contract_numbers():
    stated = {k: LISTINGS[k].params for k in ("lenet", "vgg", "nin", "googlenet", "resnet18")}
    assert stated == {"lenet": 61_706, "vgg": 128_806_154, "nin": 1_992_166, "googlenet": 5_977_530,
                      "resnet18": 11_178_378}
    # The notes' 18 in the first Inception block: 2·(192 + 1) + 2·32·5·5 more parameters than d2l's 16.
    assert LISTINGS["googlenet-notes"].params - LISTINGS["googlenet"].params == 2 * 193 + 2 * 32 * 25


@pytest.mark.parametrize("zoo_id", list(ZOO_CODE))
def test_zoo_code_reproduces_the_registry(zoo_id):
    net = parse_network(ZOO_CODE[zoo_id])
    spec = explorer.get_spec(zoo_id)
    assert explorer.analyze(net, spec.input_shape).total_params == spec.params


def test_zoo_code_covers_every_d2l_id():
    assert set(ZOO_CODE) == {"lenet", "alexnet-d2l", "vgg11-d2l", "nin", "googlenet", "resnet18"}


def test_the_notes_nin_fails_at_the_1x1_conv_line():
    listing = LISTINGS["nin-notes"]
    net = parse_network(listing.code)  # it builds: the bug shows when data flows
    with pytest.raises(explorer.InputShapeError):
        explorer.analyze(net, listing.input_shape)
    error = locate_failure(net, listing.input_shape)
    assert isinstance(error, CodeError)
    assert error.line == listing.fails_at == 5
    line = listing.code.splitlines()[error.line - 1]
    assert "nn.Conv2d(out_channels, out_channels, kernel_size)" in line
    assert str(error).startswith("line 5: Conv2d(384, 384, kernel_size=(3, 3)")
    assert "gets 1×1, its kernel is 3×3" in str(error)
    assert "\n" not in str(error)


def test_the_notes_residual_fails_at_self_conv3():
    listing = LISTINGS["resnet18-notes"]
    net = parse_network(listing.code)
    error = locate_failure(net, listing.input_shape)
    assert error is not None and error.line == listing.fails_at
    assert "if self.conv3:" in listing.code.splitlines()[error.line - 1]
    assert "'Residual' object has no attribute 'conv3'" in str(error)


def test_a_network_that_works_has_no_failure():
    listing = LISTINGS["nin"]
    assert locate_failure(parse_network(listing.code), listing.input_shape) is None


def test_channel_mismatch_names_the_line():
    code = "net = nn.Sequential(\n    nn.Conv2d(1, 8, 3),\n    nn.Conv2d(16, 8, 3),\n)\n"
    error = locate_failure(parse_network(code), (1, 28, 28))
    assert str(error) == "line 3: Conv2d(16, 8, kernel_size=(3, 3), stride=(1, 1)) expects 16 input channels, gets 8"


def test_dilated_stack_fields_are_3_7_15():
    listing = LISTINGS["dilated"]
    summary = explorer.analyze(parse_network(listing.code), listing.input_shape)
    convs = [r for r in summary.layers if r.type == "Conv2d"]
    assert [r.rf for r in convs] == [3, 7, 15]
    assert [r.output_shape for r in convs] == [(1, 8, 32, 32)] * 3


def test_vgg_interpret_and_analyse_within_half_a_second():
    code = LISTINGS["vgg"].code.replace("((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))",
                                        "((1, 64), (1, 128), (2, 256), (2, 512), (3, 512))")
    explorer.analyze(parse_network(code), (1, 224, 224))  # warm up torchinfo and the analysis
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        summary = explorer.analyze(parse_network(code), (1, 224, 224))
        best = min(best, time.perf_counter() - start)
    assert summary.total_params == 128_806_154 + 512 * 512 * 9 + 512
    assert best < 0.5, f"{best:.3f} s"
