"""VGG: repeated blocks of 3×3 convolutions and a 2×2 max-pool, built from a configuration table."""

from __future__ import annotations

from torch import nn

from ..i18n import N_
from .registry import ModelSpec, register_model

PAPER = "Simonyan, Zisserman, Very Deep Convolutional Networks for Large-Scale Image Recognition, ICLR 2015"


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """The notes' VGG block: ``num_convs`` × (3×3 conv, pad 1, ReLU), then 2×2 max-pool, stride 2."""
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


# The notes' conv_arch: (number of convolutions, output channels) per block — VGG-11.
D2L_CONV_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg_blocks(conv_arch: tuple[tuple[int, int], ...], in_channels: int) -> tuple[list[nn.Sequential], int]:
    """The notes' loop over ``conv_arch``: one VGG block per (convolutions, channels); returns the blocks and the
    channels of the last."""
    blocks = []
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return blocks, in_channels


def vgg_d2l(
    in_channels: int = 1, num_classes: int = 10, conv_arch: tuple[tuple[int, int], ...] = D2L_CONV_ARCH
) -> nn.Sequential:
    """The notes' ``vgg(conv_arch)``: blocks, then 4096-4096-classes with dropout (input 224 → 7×7 features)."""
    blocks, in_channels = vgg_blocks(conv_arch, in_channels)
    return nn.Sequential(
        *blocks, nn.Flatten(),
        nn.Linear(in_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, num_classes),
    )


# torchvision's cfgs: channels, "M" = max-pool.
CFGS: dict[str, list[int | str]] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def make_layers(cfg: list[int | str], in_channels: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_channels = int(v)
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG (no batch norm): same state_dict keys and shapes as ``torchvision.models.vgg16`` etc."""

    def __init__(self, features: nn.Sequential, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)  # N x 512 x 7 x 7 at 224
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def _tv_builder(cfg: str):
    def builder(in_channels: int = 3, num_classes: int = 1000) -> VGG:
        return VGG(make_layers(CFGS[cfg], in_channels), num_classes=num_classes)

    return builder


register_model(ModelSpec(
    id="vgg11-d2l",
    family="VGG",
    title=N_("VGG-11 (the notes' conv_arch, d2l)"),
    year=2014,
    paper=PAPER,
    input_shape=(1, 224, 224),
    num_classes=10,
    builder=vgg_d2l,
    params=128_806_154,
    d2l_result=N_("VGG-11 with channels ÷ 4: 0.92 (224 px, lr 0.05, 10 epochs)"),
    introduced=N_("Networks built from repeated blocks: stacks of 3×3 convolutions, each block halving the size."),
    notes=(
        N_("conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)): five blocks, eight convolutions, "
           "three fully connected layers — VGG-11 with a 1-channel input and 10 classes.")
    ),
))

# d2l trains VGG-11 with every block's channels divided by 4 (``small_conv_arch``): the same five blocks, a quarter of
# the convolutions' width, the same 4096-unit classifier — 43 M parameters instead of 129 M.
D2L_SMALL_CONV_ARCH = tuple((num_convs, channels // 4) for num_convs, channels in D2L_CONV_ARCH)


def vgg_d2l_small(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """d2l's trained VGG: ``vgg(small_conv_arch)`` with conv_arch's channels ÷ 4 (16-32-64-64-128-128-128-128)."""
    return vgg_d2l(in_channels, num_classes, D2L_SMALL_CONV_ARCH)


register_model(ModelSpec(
    id="vgg11-d2l-small",
    family="VGG",
    title=N_("VGG-11, channels ÷ 4 (what d2l trains)"),
    year=2014,
    paper=PAPER,
    input_shape=(1, 224, 224),
    num_classes=10,
    builder=vgg_d2l_small,
    params=43_093_322,
    d2l_result=N_("VGG-11 with channels ÷ 4: 0.92 (224 px, lr 0.05, 10 epochs)"),
    introduced=N_("The notes' VGG-11 at a quarter of the width, small enough for d2l to train on Fashion-MNIST."),
    notes=(
        N_("small_conv_arch = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)): conv_arch with every channel count "
           "divided by 4, as d2l trains it (224 px, lr 0.05, batch 128, 10 epochs); the classifier keeps its "
           "6272 → 4096 → 4096 → 10 linear layers, which hold 42.5 M of the 43.1 M parameters.")
    ),
))

# The notes' VGG blocks on 28×28 input: 28 → 14 → 7 → 3, small enough to train on a CPU.
FMNIST_CONV_ARCH = ((1, 32), (1, 64), (2, 128))


def vgg_fmnist(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """VGG-6 for 28×28: three of the notes' VGG blocks (4 convolutions), then 512-unit and output linear layers."""
    blocks, in_channels = vgg_blocks(FMNIST_CONV_ARCH, in_channels)
    return nn.Sequential(
        *blocks, nn.Flatten(),  # N x 128·3·3
        nn.Linear(in_channels * 3 * 3, 512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, num_classes),
    )


register_model(ModelSpec(
    id="vgg-fmnist",
    family="VGG",
    title=N_("VGG-6 for 28×28 Fashion-MNIST (the notes' VGG blocks)"),
    year=2014,
    paper=PAPER,
    input_shape=(1, 28, 28),
    num_classes=10,
    builder=vgg_fmnist,
    params=835_722,
    introduced=N_("The notes' vgg_block in a network small enough to train on a CPU; shipped trained."),
    notes=(
        N_("Not one of the paper's configurations: conv_arch = ((1, 32), (1, 64), (2, 128)) on 28×28 input "
           "(28 → 14 → 7 → 3), then 1152 → 512 → 10 with dropout. Trained on Fashion-MNIST by "
           "`python -m explorer train vgg-fmnist`; the weights ship with the app.")
    ),
    d2l_result=N_("VGG-11 with channels ÷ 4: 0.92 (224 px, lr 0.05, 10 epochs)"),
))

# Written out (not formatted from the configuration) so that the catalog extracts each sentence as it is shown.
_TV_TEXTS = {  # configuration → (title, introduced, notes)
    "A": (N_("VGG-11 (torchvision)"),
          N_("VGG configuration A: 11 weight layers of 3×3 convolutions and fully connected layers."),
          N_("Same state_dict layout as `torchvision.models.vgg11` (configuration A, no batch norm).")),
    "B": (N_("VGG-13 (torchvision)"),
          N_("VGG configuration B: 13 weight layers of 3×3 convolutions and fully connected layers."),
          N_("Same state_dict layout as `torchvision.models.vgg13` (configuration B, no batch norm).")),
    "D": (N_("VGG-16 (torchvision)"),
          N_("VGG configuration D: 16 weight layers of 3×3 convolutions and fully connected layers."),
          N_("Same state_dict layout as `torchvision.models.vgg16` (configuration D, no batch norm).")),
    "E": (N_("VGG-19 (torchvision)"),
          N_("VGG configuration E: 19 weight layers of 3×3 convolutions and fully connected layers."),
          N_("Same state_dict layout as `torchvision.models.vgg19` (configuration E, no batch norm).")),
}

for _id, _cfg, _params, _depth in (
    ("vgg11", "A", 132_863_336, 11),
    ("vgg13", "B", 133_047_848, 13),
    ("vgg16", "D", 138_357_544, 16),
    ("vgg19", "E", 143_667_240, 19),
):
    register_model(ModelSpec(
        id=_id,
        family="VGG",
        title=_TV_TEXTS[_cfg][0],
        year=2014,
        paper=PAPER,
        input_shape=(3, 224, 224),
        num_classes=1000,
        builder=_tv_builder(_cfg),
        params=_params,
        introduced=_TV_TEXTS[_cfg][1],
        notes=_TV_TEXTS[_cfg][2],
        source="torchvision",
    ))
