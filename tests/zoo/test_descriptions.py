"""The descriptions written out for the catalog (one literal per sentence, so that Babel extracts it) say what the
architecture data says: the residual placements, the torchvision VGG and ResNet ids, the recurrent layers' sizes."""

from __future__ import annotations

from explorer.zoo import get_spec
from explorer.zoo.recurrent import HIDDEN_SIZE, INPUT_SIZE
from explorer.zoo.resnet import PLACEMENT_CIFAR10_ERROR, PLACEMENT_TITLES, RESIDUAL_PLACEMENTS


def test_each_residual_placement_is_described_by_its_layers():
    for placement, (branch, after) in RESIDUAL_PLACEMENTS.items():
        spec = get_spec(f"resblock-{placement}")
        assert spec.title == f"Residual block {PLACEMENT_TITLES[placement]}"
        assert spec.introduced == ("Residual path: " + " → ".join(branch) + "; then add x"
                                   + ("; then " + " → ".join(after) if after else "; nothing after the addition") + ".")
        assert spec.notes.startswith(f"He et al. 2016, Fig. 4{PLACEMENT_TITLES[placement][:3]}: ")
        assert f"with this block: {PLACEMENT_CIFAR10_ERROR[placement]}% test error" in spec.notes


def test_the_torchvision_descriptions_name_their_own_model():
    for depth, cfg in ((11, "A"), (13, "B"), (16, "D"), (19, "E")):
        spec = get_spec(f"vgg{depth}")
        assert spec.title == f"VGG-{depth} (torchvision)"
        assert spec.introduced.startswith(f"VGG configuration {cfg}: {depth} weight layers")
        assert f"`torchvision.models.vgg{depth}` (configuration {cfg}," in spec.notes
    for depth in (18, 34, 50):
        spec = get_spec(f"resnet{depth}-tv")
        assert spec.title == f"ResNet-{depth} (torchvision)"
        assert f"`torchvision.models.resnet{depth}`: " in spec.notes
        assert ("Bottleneck" if depth == 50 else "BasicBlock") in spec.notes


def test_the_recurrent_titles_state_the_layer_sizes():
    for model_id, name in (("rnn", "RNN (tanh)"), ("lstm", "LSTM"), ("gru", "GRU")):
        spec = get_spec(model_id)
        assert spec.title == f"{name}, {INPUT_SIZE} inputs → {HIDDEN_SIZE} hidden"
        layer = spec.build().rnn
        assert (layer.input_size, layer.hidden_size) == (INPUT_SIZE, HIDDEN_SIZE)
