"""The public contract's model ids — the README's "Models" table, written out literally.

Tests outside the project rely on these ids and numbers: they are facts the app must reproduce exactly, and an id may
be added beside them but never renamed or removed. ``tests/zoo/test_registry.py`` checks every one against the
registry (a missing id fails, naming it); ``tests/cli/test_cli.py`` checks ``python -m explorer list --json``.
"""

from __future__ import annotations

from typing import NamedTuple


class ContractModel(NamedTuple):
    input_shape: tuple[int, int, int]  # (C, H, W)
    num_classes: int
    params: int


# In the registry's order: the notes' order of families (LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet).
MODELS: dict[str, ContractModel] = {
    "lenet": ContractModel((1, 28, 28), 10, 61_706),
    "alexnet": ContractModel((3, 224, 224), 1000, 62_378_344),
    "alexnet-d2l": ContractModel((1, 224, 224), 10, 46_764_746),
    "alexnet-tv": ContractModel((3, 224, 224), 1000, 61_100_840),
    "vgg11-d2l": ContractModel((1, 224, 224), 10, 128_806_154),
    "vgg11": ContractModel((3, 224, 224), 1000, 132_863_336),
    "vgg13": ContractModel((3, 224, 224), 1000, 133_047_848),
    "vgg16": ContractModel((3, 224, 224), 1000, 138_357_544),
    "vgg19": ContractModel((3, 224, 224), 1000, 143_667_240),
    "nin": ContractModel((1, 224, 224), 10, 1_992_166),
    "googlenet": ContractModel((1, 96, 96), 10, 5_977_530),
    "googlenet-tv": ContractModel((3, 224, 224), 1000, 6_624_904),
    "resnet18": ContractModel((1, 96, 96), 10, 11_178_378),
    "resnet18-tv": ContractModel((3, 224, 224), 1000, 11_689_512),
    "resnet34-tv": ContractModel((3, 224, 224), 1000, 21_797_672),
    "resnet50-tv": ContractModel((3, 224, 224), 1000, 25_557_032),
}
