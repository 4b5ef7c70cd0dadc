"""AlexNet three ways: the 2012 paper (the notes' table), the notes' own code (d2l), and torchvision's layout."""

from __future__ import annotations

from torch import nn

from ..i18n import N_
from .registry import Erratum, ModelSpec, register_model

PAPER = "Krizhevsky, Sutskever, Hinton, ImageNet Classification with Deep Convolutional Neural Networks, NeurIPS 2012"


def _alexnet(in_channels: int, num_classes: int, conv1_padding: int, flat: int) -> nn.Sequential:
    """The single-tower AlexNet of the notes: 96-256-384-384-256 channels, then 4096-4096-classes."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 96, kernel_size=11, stride=4, padding=conv1_padding), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(flat, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
        nn.Linear(4096, num_classes),
    )


def alexnet(in_channels: int = 3, num_classes: int = 1000) -> nn.Sequential:
    """The notes' table: 3×224×224 input, conv1 padding 2, 55→27→13→13→13→6, 256·6·6 = 9216 features."""
    return _alexnet(in_channels, num_classes, conv1_padding=2, flat=256 * 6 * 6)


def alexnet_d2l(in_channels: int = 1, num_classes: int = 10) -> nn.Sequential:
    """The notes' code as d2l trains it on Fashion-MNIST: 1×224×224, conv1 padding 1, 54→26→12→5, 256·5·5 = 6400."""
    return _alexnet(in_channels, num_classes, conv1_padding=1, flat=256 * 5 * 5)


class AlexNetTV(nn.Module):
    """torchvision's AlexNet ("one weird trick" channels 64-192-384-256-256); same state_dict keys and shapes."""

    def __init__(self, in_channels: int = 3, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 64, kernel_size=11, stride=4, padding=2),  # N x 64 x 55 x 55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 64 x 27 x 27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),  # N x 192 x 27 x 27
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 192 x 13 x 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),  # N x 384 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # N x 256 x 13 x 13
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),  # N x 256 x 13 x 13
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # N x 256 x 6 x 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        x = self.avgpool(x)
        x = x.flatten(1)
        return self.classifier(x)


def alexnet_tv(in_channels: int = 3, num_classes: int = 1000) -> AlexNetTV:
    return AlexNetTV(in_channels=in_channels, num_classes=num_classes)


ALEXNET_CODE_VS_TABLE = Erratum(
    title=N_("The notes' AlexNet code disagrees with their own table"),
    notes_code=(
        "nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1)  # 1 channel, pad 1: 54→26→12→5\n"
        "nn.Linear(6400, 4096)  # 256·5·5\n"
        "nn.Linear(4096, 1000)"
    ),
    fixed_code=(
        "nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2)  # 3 channels, pad 2: 55→27→13→6\n"
        "nn.Linear(256 * 6 * 6, 4096)  # 9216, as in the table\n"
        "nn.Linear(4096, 1000)"
    ),
    why=(
        N_("The table (3×224×224 input, 55×55×96 after conv1, 6×6×256 after pool3) needs padding 2 and "
           "256·6·6 = 9216 inputs to FC1. The code is d2l's Fashion-MNIST variant (1 channel, padding 1, 6400, "
           "10 classes) with the table's 1000 outputs. `alexnet` follows the table; `alexnet-d2l` follows d2l.")
    ),
)

register_model(ModelSpec(
    id="alexnet",
    family="AlexNet",
    title=N_("AlexNet (2012 paper, the notes' table)"),
    year=2012,
    paper=PAPER,
    input_shape=(3, 224, 224),
    num_classes=1000,
    builder=alexnet,
    params=62_378_344,
    introduced=N_("ReLU, dropout, max-pooling, data augmentation and GPUs: deep learning wins ImageNet (ILSVRC 2012)."),
    notes=(
        N_("Five convolutions (96-256-384-384-256 channels) and three fully connected layers, as in the notes' "
           "table: spatial size 224 → 55 → 27 → 13 → 6. The paper's two-GPU grouping is merged into one tower. "
           "The notes: AlexNet is a “deeper, bigger LeNet (10× the parameters, 260× the compute)”. "
           "The Architecture page shows the ratios measured on the zoo's models.")
    ),
    errata=(ALEXNET_CODE_VS_TABLE,),
    source="paper",
))

register_model(ModelSpec(
    id="alexnet-d2l",
    family="AlexNet",
    title=N_("AlexNet (the notes' code, d2l Fashion-MNIST)"),
    year=2012,
    paper=PAPER,
    input_shape=(1, 224, 224),
    num_classes=10,
    builder=alexnet_d2l,
    params=46_764_746,
    d2l_result=N_("AlexNet 0.88 (224 px, lr 0.01, 10 epochs)"),
    introduced=N_("The notes' AlexNet code as d2l trains it: one input channel, conv1 padding 1, 6400 → 4096."),
    notes=N_("Fashion-MNIST images upsampled to 224×224; spatial size 224 → 54 → 26 → 12 → 5."),
    errata=(ALEXNET_CODE_VS_TABLE,),
))

register_model(ModelSpec(
    id="alexnet-tv",
    family="AlexNet",
    title=N_("AlexNet (torchvision)"),
    year=2014,
    paper="Krizhevsky, One weird trick for parallelizing convolutional neural networks, arXiv:1404.5997",
    input_shape=(3, 224, 224),
    num_classes=1000,
    builder=alexnet_tv,
    params=61_100_840,
    introduced=N_("torchvision's AlexNet (64-192-384-256-256 channels); loads the official ImageNet checkpoint."),
    notes=N_("Same state_dict layout as `torchvision.models.alexnet`; an adaptive 6×6 average pool before the "
             "classifier."),
    source="torchvision",
))
