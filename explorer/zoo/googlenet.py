"""GoogLeNet (Inception v1): blocks of four parallel paths concatenated along the channels.

Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842). Two versions:

- ``googlenet``: the notes' code (d2l §7.4), 1×96×96 Fashion-MNIST input, no batch norm;
- ``googlenet-tv``: torchvision's ``googlenet(aux_logits=False)``, with the same ``state_dict`` keys and shapes.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..i18n import N_, InvalidValue
from .registry import Erratum, ModelSpec, register_model

PAPER = "Szegedy et al., Going Deeper with Convolutions, CVPR 2015 (arXiv:1409.4842)"

# ---------------------------------------------------------------------------------------------------------------
# Architecture as data: the paper's Table 1, shared by both versions.
# name -> (in_channels, #1×1, (#3×3 reduce, #3×3), (#5×5 reduce, #5×5), pool proj)
# The output has #1×1 + #3×3 + #5×5 + pool proj channels, the next block's in_channels.
# ---------------------------------------------------------------------------------------------------------------
InceptionCfg = tuple[int, int, tuple[int, int], tuple[int, int], int]

INCEPTION_CFGS: dict[str, InceptionCfg] = {
    "3a": (192, 64, (96, 128), (16, 32), 32),  # -> 256 (the notes write (18, 32): see the erratum below)
    "3b": (256, 128, (128, 192), (32, 96), 64),  # -> 480
    "4a": (480, 192, (96, 208), (16, 48), 64),  # -> 512
    "4b": (512, 160, (112, 224), (24, 64), 64),  # -> 512
    "4c": (512, 128, (128, 256), (24, 64), 64),  # -> 512
    "4d": (512, 112, (144, 288), (32, 64), 64),  # -> 528
    "4e": (528, 256, (160, 320), (32, 128), 128),  # -> 832
    "5a": (832, 256, (160, 320), (32, 128), 128),  # -> 832
    "5b": (832, 384, (192, 384), (48, 128), 128),  # -> 1024
}

# The notes' stages 3–5: which Inception blocks each holds (stages 1–2 are plain convolutions).
STAGES: dict[str, tuple[str, ...]] = {
    "b3": ("3a", "3b"),
    "b4": ("4a", "4b", "4c", "4d", "4e"),
    "b5": ("5a", "5b"),
}


def inception_out_channels(cfg: InceptionCfg) -> int:
    """Channels after concatenating the four paths of an Inception block."""
    _, c1, c2, c3, c4 = cfg
    return c1 + c2[1] + c3[1] + c4


# ---------------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------------
class Inception(nn.Module):
    """The notes' Inception block (d2l): four paths, each ending in a ReLU, concatenated on the channel axis.

    The convolutions keep the notes' names (``p1_1`` … ``p4_2``), so the ``state_dict`` matches d2l's. The notes
    call ``F.relu``; here every ReLU is a module (``relu1_1`` after ``p1_1`` and so on) so that forward hooks,
    and with them the layer table, see every step. ReLU has no parameters: the count is unchanged.
    """

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ) -> None:
        super().__init__()
        # Path 1: 1×1 convolution.
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        # Path 2: 1×1 convolution, then 3×3 convolution.
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        # Path 3: 1×1 convolution, then 5×5 convolution.
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        # Path 4: 3×3 max-pool, then 1×1 convolution.
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)
        self.relu1_1 = nn.ReLU()
        self.relu2_1 = nn.ReLU()
        self.relu2_2 = nn.ReLU()
        self.relu3_1 = nn.ReLU()
        self.relu3_2 = nn.ReLU()
        self.relu4_2 = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W (every path keeps H x W)
        p1 = self.relu1_1(self.p1_1(x))  # N x c1 x H x W
        p2 = self.relu2_2(self.p2_2(self.relu2_1(self.p2_1(x))))  # N x c2[1] x H x W
        p3 = self.relu3_2(self.p3_2(self.relu3_1(self.p3_1(x))))  # N x c3[1] x H x W
        p4 = self.relu4_2(self.p4_2(self.p4_1(x)))  # N x c4 x H x W
        return torch.cat((p1, p2, p3, p4), dim=1)  # N x (c1 + c2[1] + c3[1] + c4) x H x W


class BasicConv2d(nn.Module):
    """torchvision's conv unit: convolution without bias, batch norm (eps 0.001, as the TF port), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        # torchvision calls F.relu(inplace=True); a (non-inplace) module shows in hooks and adds no state_dict key.
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


class InceptionTV(nn.Module):
    """torchvision's Inception block (``branch1`` … ``branch4``), each convolution a :class:`BasicConv2d`.

    ``branch3`` uses a 3×3 convolution where the paper has 5×5: a known torchvision quirk
    (pytorch/vision#906) that its published checkpoint depends on, so it is kept here.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),  # 3×3, not 5×5: torchvision's checkpoint
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W (every branch keeps H x W)
        branch1 = self.branch1(x)  # N x ch1x1 x H x W
        branch2 = self.branch2(x)  # N x ch3x3 x H x W
        branch3 = self.branch3(x)  # N x ch5x5 x H x W
        branch4 = self.branch4(x)  # N x pool_proj x H x W
        return torch.cat((branch1, branch2, branch3, branch4), 1)  # N x (sum of the four) x H x W


# ---------------------------------------------------------------------------------------------------------------
# Model class
# ---------------------------------------------------------------------------------------------------------------
# state_dict: 344 entries = (3 stem + 9 Inception blocks × 6) BasicConv2d × (conv.weight + 5 bn entries) + fc 2.
class GoogLeNet(nn.Module):
    """torchvision's ``GoogLeNet(aux_logits=False)``: identical ``state_dict`` keys and shapes (344 entries).

    The auxiliary classifiers are left out altogether (torchvision sets ``aux1 = aux2 = None`` when they are off,
    so they own no keys). ``transform_input=True`` re-normalizes ImageNet-normalized input the way the ported
    TF weights expect; torchvision turns it on when it loads its checkpoint.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 1000,
        transform_input: bool = False,
        init_weights: bool = True,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if transform_input and in_channels != 3:
            raise InvalidValue(N_("transform_input re-normalizes RGB input: it needs in_channels=3"))
        self.transform_input = transform_input

        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = _inception_tv("3a")
        self.inception3b = _inception_tv("3b")
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = _inception_tv("4a")
        self.inception4b = _inception_tv("4b")
        self.inception4c = _inception_tv("4c")
        self.inception4d = _inception_tv("4d")
        self.inception4e = _inception_tv("4e")
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = _inception_tv("5a")
        self.inception5b = _inception_tv("5b")

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(1024, num_classes)

        if init_weights:
            # torchvision's initialisation; these in-place inits are no-ops on the meta device.
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
            x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
            x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
            x = torch.cat((x_ch0, x_ch1, x_ch2), 1)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._transform_input(x)
        # N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        x = self.maxpool1(x)  # N x 64 x 56 x 56
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        x = self.maxpool2(x)  # N x 192 x 28 x 28

        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14

        x = self.inception4a(x)  # N x 512 x 14 x 14
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7

        x = self.inception5a(x)  # N x 832 x 7 x 7
        x = self.inception5b(x)  # N x 1024 x 7 x 7

        x = self.avgpool(x)  # N x 1024 x 1 x 1
        x = torch.flatten(x, 1)  # N x 1024
        x = self.dropout(x)
        return self.fc(x)  # N x num_classes


def _inception_tv(name: str) -> InceptionTV:
    in_channels, c1, (c2_red, c2), (c3_red, c3), c4 = INCEPTION_CFGS[name]
    return InceptionTV(in_channels, c1, c2_red, c2, c3_red, c3, c4)


# ---------------------------------------------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------------------------------------------
def googlenet(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """The notes' GoogLeNet (d2l): stages ``b1`` … ``b5`` and ``fc``; shapes below are for a 96×96 input."""
    b1 = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3), nn.ReLU(),  # N x 64 x 48 x 48
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # N x 64 x 24 x 24
    )
    b2 = nn.Sequential(
        nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),  # N x 64 x 24 x 24
        nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(),  # N x 192 x 24 x 24 (the notes lack this ReLU)
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # N x 192 x 12 x 12
    )
    b3 = nn.Sequential(
        *(Inception(*INCEPTION_CFGS[name]) for name in STAGES["b3"]),  # N x 256, then 480 x 12 x 12
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # N x 480 x 6 x 6
    )
    b4 = nn.Sequential(
        *(Inception(*INCEPTION_CFGS[name]) for name in STAGES["b4"]),  # N x 512 … 832 x 6 x 6
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),  # N x 832 x 3 x 3
    )
    b5 = nn.Sequential(
        *(Inception(*INCEPTION_CFGS[name]) for name in STAGES["b5"]),  # N x 832, then 1024 x 3 x 3
        nn.AdaptiveAvgPool2d((1, 1)),  # N x 1024 x 1 x 1
        nn.Flatten(),  # N x 1024
    )
    last = INCEPTION_CFGS[STAGES["b5"][-1]]
    fc = nn.Linear(inception_out_channels(last), num_classes)  # N x num_classes
    return nn.Sequential(OrderedDict(b1=b1, b2=b2, b3=b3, b4=b4, b5=b5, fc=fc))


def googlenet_tv(
    in_channels: int = 3, num_classes: int = 1000, transform_input: bool = False, init_weights: bool = True
) -> GoogLeNet:
    """torchvision-compatible GoogLeNet without auxiliary heads (``googlenet(aux_logits=False)``)."""
    return GoogLeNet(
        in_channels=in_channels, num_classes=num_classes, transform_input=transform_input, init_weights=init_weights
    )


register_model(ModelSpec(
    id="googlenet",
    family="GoogLeNet",
    title=N_("GoogLeNet (d2l)"),
    year=2014,
    paper=PAPER,
    input_shape=(1, 96, 96),
    num_classes=10,
    builder=googlenet,
    params=5_977_530,
    d2l_result=N_("GoogLeNet 0.88 (96 px, lr 0.1, 10 epochs)"),
    introduced=N_("The Inception block: 1×1, 3×3, 5×5 convolutions and pooling in parallel, concatenated on channels."),
    notes=(
        N_("Five stages: a 7×7 convolution (b1), a 1×1 + 3×3 convolution pair (b2), then 2, 5 and 2 Inception "
           "blocks (b3–b5, nine in all) separated by 3×3 max-pools, a global average pool and one linear layer. "
           "1×1 convolutions shrink the channels before the expensive 3×3 and 5×5 convolutions, so the whole net "
           "has fewer parameters than AlexNet. This is d2l's version: 96×96 Fashion-MNIST input, no batch norm, "
           "no auxiliary classifiers.")
    ),
    errata=(
        Erratum(
            title=N_("First Inception block's 5×5 path has 18 reduction channels instead of 16"),
            notes_code="Inception(192, 64, (96, 128), (18, 32), 32)",
            fixed_code="Inception(192, 64, (96, 128), (16, 32), 32)",
            why=(
                N_("d2l and the paper's Table 1 (inception (3a): #5×5 reduce = 16) both use 16. With 18 the net still "
                   "runs — the 1×1 reduction only feeds the 5×5 convolution — but it has 1,986 parameters more "
                   "(5,979,516), and it is no longer GoogLeNet's block 3a.")
            ),
        ),
        Erratum(
            title=N_("Stage b2 has no ReLU after its 3×3 convolution"),
            notes_code=(
                "b2 = nn.Sequential(nn.Conv2d(64,64,kernel_size=1),nn.ReLU(),\n"
                "                   nn.Conv2d(64,192,kernel_size=3,padding=1),\n"
                "                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))"
            ),
            fixed_code=(
                "b2 = nn.Sequential(nn.Conv2d(64, 64, kernel_size=1), nn.ReLU(),\n"
                "                   nn.Conv2d(64, 192, kernel_size=3, padding=1), nn.ReLU(),\n"
                "                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))"
            ),
            why=(
                N_("d2l's b2 (like the paper, where every convolution is followed by a ReLU) has a ReLU after the "
                   "3×3 convolution too. Without it the 3×3 convolution's output goes unrectified into the max-pool "
                   "and the first Inception block. The parameter count is the same either way (ReLU has none).")
            ),
        ),
    ),
))

register_model(ModelSpec(
    id="googlenet-tv",
    family="GoogLeNet",
    title=N_("GoogLeNet (torchvision)"),
    year=2014,
    paper=PAPER,
    input_shape=(3, 224, 224),
    num_classes=1000,
    builder=googlenet_tv,
    params=6_624_904,
    introduced=N_("The Inception block: 1×1, 3×3, 5×5 convolutions and pooling in parallel, concatenated on channels."),
    notes=(
        N_("Same `state_dict` keys and shapes as `torchvision.models.googlenet(aux_logits=False)`: every "
           "convolution is a `BasicConv2d` (convolution without bias, batch norm with eps 0.001, ReLU), max-pools "
           "use `ceil_mode=True`, and dropout 0.2 precedes the classifier. The auxiliary classifiers are not built. "
           "Note that torchvision's `branch3` uses a **3×3** convolution where the paper has 5×5 "
           "(pytorch/vision#906); its ImageNet checkpoint was trained that way, so it is kept. That checkpoint also "
           "holds `aux1.*`/`aux2.*` tensors (torchvision loads it with the heads on, then drops them): drop those "
           "keys before `load_state_dict(strict=True)`, and build with `transform_input=True` as torchvision does "
           "for these weights.")
    ),
    source="torchvision",
))


# ===============================================================================================================
# The notes' later variants (后续变种), as single blocks: v1's block for reference, v2 (batch norm), v3 (factorized
# convolutions), v4-style (residual). Each id is one block at the grid size where its network uses it; the output
# is a feature map, so these are not classifiers.
# ===============================================================================================================
V2_PAPER = (
    "Ioffe & Szegedy, Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate "
    "Shift, ICML 2015"
)
V3_PAPER = "Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016 (arXiv:1512.00567)"
V4_PAPER = (
    "Szegedy, Ioffe, Vanhoucke, Alemi, Inception-v4, Inception-ResNet and the Impact of Residual Connections on "
    "Learning, AAAI 2017 (arXiv:1602.07261)"
)


class Concat(nn.Module):
    """``torch.cat`` along the channels as a module of its own, so the merged output is a row of the layer table
    (and the block's receptive field, the union of its paths, is that of its last call)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *paths: torch.Tensor) -> torch.Tensor:
        return torch.cat(paths, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class InceptionV1(Inception):
    """The notes' Inception block, unchanged but for its concatenation, done by the ``concat`` module."""

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ) -> None:
        super().__init__(in_channels, c1, c2, c3, c4)
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p1 = self.relu1_1(self.p1_1(x))  # N x c1 x H x W
        p2 = self.relu2_2(self.p2_2(self.relu2_1(self.p2_1(x))))  # N x c2[1] x H x W
        p3 = self.relu3_2(self.p3_2(self.relu3_1(self.p3_1(x))))  # N x c3[1] x H x W
        p4 = self.relu4_2(self.p4_2(self.p4_1(x)))  # N x c4 x H x W
        return self.concat(p1, p2, p3, p4)  # N x (c1 + c2[1] + c3[1] + c4) x H x W


def conv_bn_relu(in_channels: int, out_channels: int, **kwargs) -> nn.Sequential:
    """Convolution (no bias: batch norm's shift replaces it), batch norm, ReLU — Inception-BN's unit."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, bias=False, **kwargs), nn.BatchNorm2d(out_channels), nn.ReLU()
    )


class InceptionBN(nn.Module):
    """Inception v2 as the notes put it (Inception-BN：使用batch normalization): the notes' four paths with batch
    norm after every convolution. (Ioffe & Szegedy's network also replaced the 5×5 convolutions by two 3×3 —
    the first of v3's factorizations, shown in ``inception-v3-a``.)"""

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ) -> None:
        super().__init__()
        self.p1 = conv_bn_relu(in_channels, c1, kernel_size=1)
        self.p2 = nn.Sequential(
            conv_bn_relu(in_channels, c2[0], kernel_size=1), conv_bn_relu(c2[0], c2[1], kernel_size=3, padding=1)
        )
        self.p3 = nn.Sequential(
            conv_bn_relu(in_channels, c3[0], kernel_size=1), conv_bn_relu(c3[0], c3[1], kernel_size=5, padding=2)
        )
        self.p4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1), conv_bn_relu(in_channels, c4, kernel_size=1)
        )
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x H x W; every path keeps H x W
        return self.concat(self.p1(x), self.p2(x), self.p3(x), self.p4(x))  # N x (c1+c2[1]+c3[1]+c4) x H x W


class InceptionA(nn.Module):
    """v3's 35×35 block (paper Fig. 5: a 5×5 replaced by two 3×3), as torchvision's ``InceptionA``: same
    ``state_dict`` keys and shapes. The released network keeps a 5×5 path beside the new double-3×3 path."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.avg_pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)  # torchvision calls F.avg_pool2d: no keys
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x 35 x 35
        branch1x1 = self.branch1x1(x)  # N x 64 x 35 x 35
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))  # N x 64 x 35 x 35
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))  # N x 96 x 35 x 35
        branch_pool = self.branch_pool(self.avg_pool(x))  # N x pool_features x 35 x 35
        return self.concat(branch1x1, branch5x5, branch3x3dbl, branch_pool)  # N x (224 + pool_features) x 35 x 35


class InceptionC(nn.Module):
    """v3's 17×17 block (paper Fig. 6: an n×n convolution factorized into 1×n then n×1, n = 7), as torchvision's
    ``InceptionC``: same ``state_dict`` keys and shapes."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.avg_pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x 17 x 17
        branch1x1 = self.branch1x1(x)  # N x 192 x 17 x 17
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))  # N x 192 x 17 x 17
        branch7x7dbl = self.branch7x7dbl_1(x)  # N x c7 x 17 x 17
        branch7x7dbl = self.branch7x7dbl_3(self.branch7x7dbl_2(branch7x7dbl))  # 7×1 then 1×7: a 7×7 field
        branch7x7dbl = self.branch7x7dbl_5(self.branch7x7dbl_4(branch7x7dbl))  # again: a 13×13 field, N x 192
        branch_pool = self.branch_pool(self.avg_pool(x))  # N x 192 x 17 x 17
        return self.concat(branch1x1, branch7x7, branch7x7dbl, branch_pool)  # N x 768 x 17 x 17


class InceptionE(nn.Module):
    """v3's 8×8 block (paper Fig. 7: 3×3 replaced by 1×3 and 3×1 side by side, for wider outputs), as torchvision's
    ``InceptionE``: same ``state_dict`` keys and shapes."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.avg_pool = nn.AvgPool2d(kernel_size=3, stride=1, padding=1)
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)
        self.concat3x3 = Concat()
        self.concat3x3dbl = Concat()
        self.concat = Concat()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x 8 x 8
        branch1x1 = self.branch1x1(x)  # N x 320 x 8 x 8
        branch3x3 = self.branch3x3_1(x)  # N x 384 x 8 x 8
        branch3x3 = self.concat3x3(self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3))  # N x 768 x 8 x 8
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))  # N x 384 x 8 x 8
        branch3x3dbl = self.concat3x3dbl(
            self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)
        )  # N x 768 x 8 x 8
        branch_pool = self.branch_pool(self.avg_pool(x))  # N x 192 x 8 x 8
        return self.concat(branch1x1, branch3x3, branch3x3dbl, branch_pool)  # N x 2048 x 8 x 8


class InceptionResNetA(nn.Module):
    """Inception-ResNet-v2's 35×35 block (Szegedy et al. 2017, Fig. 16; ``Block35`` in timm): three Inception
    paths, concatenated, a 1×1 convolution back to the input's channels, scaled, added to the input, ReLU."""

    def __init__(self, in_channels: int = 320, scale: float = 0.17) -> None:
        super().__init__()
        self.scale = scale  # the paper scales residuals by 0.1–0.3 to keep very wide nets stable
        self.branch0 = BasicConv2d(in_channels, 32, kernel_size=1)
        self.branch1 = nn.Sequential(
            BasicConv2d(in_channels, 32, kernel_size=1), BasicConv2d(32, 32, kernel_size=3, padding=1)
        )
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, 32, kernel_size=1),
            BasicConv2d(32, 48, kernel_size=3, padding=1),
            BasicConv2d(48, 64, kernel_size=3, padding=1),
        )
        self.concat = Concat()
        self.conv2d = nn.Conv2d(128, in_channels, kernel_size=1)  # linear: no batch norm, no ReLU
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x in_channels x 35 x 35
        out = self.concat(self.branch0(x), self.branch1(x), self.branch2(x))  # N x (32 + 32 + 64) x 35 x 35
        out = self.conv2d(out)  # N x in_channels x 35 x 35
        return self.relu(out * self.scale + x)  # the residual connection: F(x)·scale + x


def inception_v1_block(in_channels: int = 192) -> InceptionV1:
    _, c1, c2, c3, c4 = INCEPTION_CFGS["3a"]
    return InceptionV1(in_channels, c1, c2, c3, c4)


def inception_bn_block(in_channels: int = 192) -> InceptionBN:
    _, c1, c2, c3, c4 = INCEPTION_CFGS["3a"]
    return InceptionBN(in_channels, c1, c2, c3, c4)


def inception_v3_a(in_channels: int = 192, pool_features: int = 32) -> InceptionA:
    """torchvision's ``Mixed_5b``."""
    return InceptionA(in_channels, pool_features)


def inception_v3_b(in_channels: int = 768, channels_7x7: int = 128) -> InceptionC:
    """torchvision's ``Mixed_6b``."""
    return InceptionC(in_channels, channels_7x7)


def inception_v3_c(in_channels: int = 1280) -> InceptionE:
    """torchvision's ``Mixed_7b``."""
    return InceptionE(in_channels)


def inception_resnet_a(in_channels: int = 320, scale: float = 0.17) -> InceptionResNetA:
    return InceptionResNetA(in_channels, scale)


# id → (builder, input (C, H, W), output channels, title, year, paper, params, introduced, notes)
INCEPTION_VARIANTS = {
    "inception-v1": (
        inception_v1_block, (192, 28, 28), 256, N_("Inception block 3a (v1, the notes' code)"), 2014, PAPER, 163_696,
        N_("Four parallel paths (1×1; 1×1→3×3; 1×1→5×5; 3×3 max-pool→1×1) concatenated on the channels."),
        N_("GoogLeNet's first Inception block (d2l: c3 = (16, 32)) on its 192×28×28 input: the reference the later "
           "variants are measured against."),
    ),
    "inception-bn": (
        inception_bn_block, (192, 28, 28), 256, N_("Inception-BN block 3a (v2: batch norm)"), 2015, V2_PAPER, 164_064,
        N_("Batch normalization after every convolution: faster training, higher learning rates."),
        N_("The same four paths as v1 with a batch norm after every convolution; the convolutions drop their bias "
           "(batch norm's shift does its job), and each batch norm adds a scale and a shift per channel."),
    ),
    "inception-v3-a": (
        inception_v3_a, (192, 35, 35), 256, N_("Inception-v3 block A (35×35: 5×5 → two 3×3)"), 2016, V3_PAPER, 255_904,
        N_("Factorization: two stacked 3×3 convolutions see 5×5 with 18/25 of the weights."),
        N_("torchvision's `Mixed_5b` (`InceptionA(192, pool_features=32)`), same `state_dict` keys. The paper's "
           "Figure 5 replaces every 5×5 by two 3×3; the released network also keeps one 5×5 path."),
    ),
    "inception-v3-b": (
        inception_v3_b, (768, 17, 17), 768, N_("Inception-v3 block B (17×17: 7×7 → 1×7 and 7×1)"), 2016, V3_PAPER,
        1_297_408,
        N_("Asymmetric factorization: a 1×7 then a 7×1 convolution see 7×7 with 14/49 of the weights."),
        N_("torchvision's `Mixed_6b` (`InceptionC(768, channels_7x7=128)`), same `state_dict` keys: a 1×7/7×1 path "
           "and a doubled 7×1/1×7/7×1/1×7 path beside the 1×1 and pooling paths."),
    ),
    "inception-v3-c": (
        inception_v3_c, (1280, 8, 8), 2048, N_("Inception-v3 block C (8×8: 3×3 → 1×3 and 3×1 in parallel)"), 2016,
        V3_PAPER, 5_044_608,
        N_("Expanded filter bank: 1×3 and 3×1 side by side widen the output on the coarsest grid."),
        N_("torchvision's `Mixed_7b` (`InceptionE(1280)`), same `state_dict` keys: the 3×3 paths end in a 1×3 and a "
           "3×1 convolution whose outputs are concatenated (384 + 384 channels each)."),
    ),
    "inception-resnet-a": (
        inception_resnet_a, (320, 35, 35), 320, N_("Inception-ResNet-A block (residual; not Inception-v4)"),
        2017, V4_PAPER, 123_168,
        N_("Inception paths inside a residual block: output = ReLU(x + 0.17·F(x))."),
        N_("Inception-ResNet-v2's 35×35 block (timm's `Block35`): 1×1, 1×1→3×3 and 1×1→3×3→3×3 paths, concatenated "
           "(128 channels), a linear 1×1 convolution back to 320, scaled by 0.17 and added to the input."),
    ),
}

for _id, (_builder, _shape, _out, _title, _year, _paper, _params, _introduced, _notes) in INCEPTION_VARIANTS.items():
    register_model(ModelSpec(
        id=_id,
        family="GoogLeNet",
        title=_title,
        year=_year,
        paper=_paper,
        input_shape=_shape,
        num_classes=_out,
        builder=_builder,
        params=_params,
        introduced=_introduced,
        notes=_notes,
        source="d2l" if _id == "inception-v1" else ("torchvision" if _id.startswith("inception-v3") else "paper"),
        output_shape=(_out, *_shape[1:]),
        output=N_("the block's feature map"),
    ))
