"""The notes' code listings as data — each as the notes write it (the leading space of every line included: the
interpreter dedents), with the errata fixed in a second version where the notes' code fails or differs from d2l —
plus code for every d2l-style zoo id that builds exactly the zoo's network. Tests run each one through the
interpreter and check its parameter count (or the line it fails at)."""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_


def _with_cat_comment(code: str) -> str:
    # The notes' comment on torch.cat, kept out of the source line (it is wider than the line limit there).
    return code.replace("<CAT_COMMENT>", "# 批量大小的dim为0，通道数的dim为1，以通道数维度进行合并")


LENET = """\
 class Reshape(torch.nn.Module):
     def forward(self, x):
         return x.view(-1, 1, 28, 28)

 net = torch.nn.Sequential(
     Reshape(), nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
     nn.AvgPool2d(2, stride=2),
     nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
     nn.AvgPool2d(2, stride=2), nn.Flatten(),
     nn.Linear(16*5*5, 120), nn.Sigmoid(),
     nn.Linear(120, 84), nn.Sigmoid(),
     nn.Linear(84, 10)
 )
"""

ALEXNET = """\
  net = nn.Sequential(
     nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
     nn.MaxPool2d(kernel_size=3, stride=2),
     nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
     nn.MaxPool2d(kernel_size=3, stride=2),
     nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
     nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
     nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
     nn.MaxPool2d(kernel_size=3, stride=2), nn.Flatten(),
     nn.Linear(6400, 4096), nn.ReLU(), nn.Dropout(p=0.5),
     nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=0.5),
     nn.Linear(4096, 1000)
 )
"""

VGG = """\
 def vgg_block(num_convs, in_channels, out_channels):
     layers = []
     for _ in range(num_convs):
         layers.append(nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1))
         layers.append(nn.ReLU())
         in_channels = out_channels
     layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
     return nn.Sequential(*layers)

 conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))

 def vgg(conv_arch):
     conv_blks = []
     in_channels = 1
     for (num_convs, out_channels) in conv_arch:
         conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
         in_channels = out_channels

     return nn.Sequential(
         *conv_blks, nn.Flatten(),
         nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(),
         nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
         nn.Dropout(0.5), nn.Linear(4096, 10)
     )

 net = vgg(conv_arch)
"""

NIN_NOTES = """\
 def nin_block(in_channels, out_channels, kernel_size, strides, padding):
     return nn.Sequential(
         nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
         nn.Conv2d(out_channels, out_channels, kernel_size), nn.ReLU(),
         nn.Conv2d(out_channels, out_channels, kernel_size), nn.ReLU()
     )

 net = nn.Sequential(
     nin_block(1, 96, kernel_size=11, strides=4, padding=0),
     nn.MaxPool2d(3, stride=2),
     nin_block(96, 256, kernel_size=5, strides=1, padding=2),
     nn.MaxPool2d(3, stride=2),
     nin_block(256, 384, kernel_size=3, strides=1, padding=1),
     nn.MaxPool2d(3, stride=2),
     nn.Dropout(0.5),
     nin_block(384, 10, kernel_size=3, strides=1, padding=1),
     nn.AdaptiveAvgPool2d((1, 1)),
     nn.Flatten()
 )
"""

NIN = """\
 def nin_block(in_channels, out_channels, kernel_size, strides, padding):
     return nn.Sequential(
         nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
         nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
         nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU()
     )

 net = nn.Sequential(
     nin_block(1, 96, kernel_size=11, strides=4, padding=0),
     nn.MaxPool2d(3, stride=2),
     nin_block(96, 256, kernel_size=5, strides=1, padding=2),
     nn.MaxPool2d(3, stride=2),
     nin_block(256, 384, kernel_size=3, strides=1, padding=1),
     nn.MaxPool2d(3, stride=2),
     nn.Dropout(0.5),
     nin_block(384, 10, kernel_size=3, strides=1, padding=1),
     nn.AdaptiveAvgPool2d((1, 1)),
     nn.Flatten()
 )
"""

GOOGLENET_NOTES = _with_cat_comment("""\
 class  Inception(nn.Module):
     def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
         super(Inception, self).__init__(**kwargs)
         self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
         self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
         self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
         self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
         self.p3_2 = nn.Conv2d(c3[0],c3[1],kernel_size=5,padding=2)
         self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
         self.p4_2 = nn.Conv2d(in_channels,c4,kernel_size=1)

     def forward(self, x):
         p1 = F.relu(self.p1_1(x))  # 第一条路的输出
         p2 = F.relu(self.p2_2(F.relu(self.p2_1(x)))) # 第二条路的输出
         p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
         p4 = F.relu(self.p4_2(self.p4_1(x)))
         return torch.cat((p1, p2, p3, p4), dim=1) <CAT_COMMENT>

 b1 = nn.Sequential(nn.Conv2d(1,64,kernel_size=7,stride=2,padding=3),
                   nn.ReLU(),nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b2 = nn.Sequential(nn.Conv2d(64,64,kernel_size=1),nn.ReLU(),
                   nn.Conv2d(64,192,kernel_size=3,padding=1),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b3 = nn.Sequential(Inception(192,64,(96,128),(18,32),32),
                   Inception(256,128,(128,192),(32,96),64),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b4 = nn.Sequential(Inception(480,192,(96,208),(16,48),64),
                   Inception(512,160,(112,224),(24,64),64),
                   Inception(512,128,(128,256),(24,64),64),
                   Inception(512,112,(144,288),(32,64),64),
                   Inception(528,256,(160,320),(32,128),128),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b5 = nn.Sequential(Inception(832,256,(160,320),(32,128),128),
                    Inception(832,384,(192,384),(48,128),128),
                   nn.AdaptiveAvgPool2d((1,1)),nn.Flatten())

 net = nn.Sequential(b1,b2,b3,b4,b5,nn.Linear(1024,10))
""")

GOOGLENET = _with_cat_comment("""\
 class  Inception(nn.Module):
     def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
         super(Inception, self).__init__(**kwargs)
         self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
         self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
         self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
         self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
         self.p3_2 = nn.Conv2d(c3[0],c3[1],kernel_size=5,padding=2)
         self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
         self.p4_2 = nn.Conv2d(in_channels,c4,kernel_size=1)

     def forward(self, x):
         p1 = F.relu(self.p1_1(x))  # 第一条路的输出
         p2 = F.relu(self.p2_2(F.relu(self.p2_1(x)))) # 第二条路的输出
         p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
         p4 = F.relu(self.p4_2(self.p4_1(x)))
         return torch.cat((p1, p2, p3, p4), dim=1) <CAT_COMMENT>

 b1 = nn.Sequential(nn.Conv2d(1,64,kernel_size=7,stride=2,padding=3),
                   nn.ReLU(),nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b2 = nn.Sequential(nn.Conv2d(64,64,kernel_size=1),nn.ReLU(),
                   nn.Conv2d(64,192,kernel_size=3,padding=1),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b3 = nn.Sequential(Inception(192,64,(96,128),(16,32),32),
                   Inception(256,128,(128,192),(32,96),64),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b4 = nn.Sequential(Inception(480,192,(96,208),(16,48),64),
                   Inception(512,160,(112,224),(24,64),64),
                   Inception(512,128,(128,256),(24,64),64),
                   Inception(512,112,(144,288),(32,64),64),
                   Inception(528,256,(160,320),(32,128),128),
                   nn.MaxPool2d(kernel_size=3,stride=2,padding=1))

 b5 = nn.Sequential(Inception(832,256,(160,320),(32,128),128),
                    Inception(832,384,(192,384),(48,128),128),
                   nn.AdaptiveAvgPool2d((1,1)),nn.Flatten())

 net = nn.Sequential(b1,b2,b3,b4,b5,nn.Linear(1024,10))
""")

RESNET18_NOTES = """\
 class Residual(nn.Module):
     def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
         super().__init__()
         self.conv1 = nn.Conv2d(
             input_channels, num_channels, kernel_size=3, padding=1, stride=strides
         )
         self.conv2 = nn.Conv2d(
             num_channels, num_channels, kernel_size=3, padding=1
         )
         if use_1x1conv:
             self.conv3 = nn.Conv2d(
                 input_channels, num_channels, kernel_size=1, stride=strides
             )
         else:
             self.conv = None
         self.bn1 = nn.BatchNorm2d(num_channels)
         self.bn2 = nn.BatchNorm2d(num_channels)
         self.relu = nn.ReLU(inplace=True)

     def forward(self, X):
         Y = F.relu(self.bn1(self.conv1(X)))
         Y = self.bn2(self.conv2(Y))
         if self.conv3:
             X = self.conv3(X)
         Y += X
         return F.relu(Y)

 b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                    nn.BatchNorm2d(64), nn.ReLU(),
                    nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

 def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
     blk = []
     for i in range(num_residuals):
         if i == 0 and not first_block:
             blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
         else:
             blk.append(Residual(num_channels, num_channels))
     return blk

 b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
 b3 = nn.Sequential(*resnet_block(64, 128, 2))
 b4 = nn.Sequential(*resnet_block(128, 256, 2))
 b5 = nn.Sequential(*resnet_block(256, 512, 2))

 net = nn.Sequential(b1, b2, b3, b4, b5,
                     nn.AdaptiveAvgPool2d((1, 1)),
                     nn.Flatten(), nn.Linear(512, 10))
"""

RESNET18 = """\
 class Residual(nn.Module):
     def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
         super().__init__()
         self.conv1 = nn.Conv2d(
             input_channels, num_channels, kernel_size=3, padding=1, stride=strides
         )
         self.conv2 = nn.Conv2d(
             num_channels, num_channels, kernel_size=3, padding=1
         )
         if use_1x1conv:
             self.conv3 = nn.Conv2d(
                 input_channels, num_channels, kernel_size=1, stride=strides
             )
         else:
             self.conv3 = None
         self.bn1 = nn.BatchNorm2d(num_channels)
         self.bn2 = nn.BatchNorm2d(num_channels)
         self.relu = nn.ReLU(inplace=True)

     def forward(self, X):
         Y = F.relu(self.bn1(self.conv1(X)))
         Y = self.bn2(self.conv2(Y))
         if self.conv3:
             X = self.conv3(X)
         Y += X
         return F.relu(Y)

 b1 = nn.Sequential(nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3),
                    nn.BatchNorm2d(64), nn.ReLU(),
                    nn.MaxPool2d(kernel_size=3, stride=2, padding=1))

 def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
     blk = []
     for i in range(num_residuals):
         if i == 0 and not first_block:
             blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
         else:
             blk.append(Residual(num_channels, num_channels))
     return blk

 b2 = nn.Sequential(*resnet_block(64, 64, 2, first_block=True))
 b3 = nn.Sequential(*resnet_block(64, 128, 2))
 b4 = nn.Sequential(*resnet_block(128, 256, 2))
 b5 = nn.Sequential(*resnet_block(256, 512, 2))

 net = nn.Sequential(b1, b2, b3, b4, b5,
                     nn.AdaptiveAvgPool2d((1, 1)),
                     nn.Flatten(), nn.Linear(512, 10))
"""

DILATED = """\
# input: 1,32,32
# Three 3×3 convolutions with dilation 1, 2, 4: k_eff = k + (k−1)(r−1) = 3, 5, 9, so the receptive field
# grows 3 → 7 → 15 at full resolution (padding = dilation keeps 32×32).
net = nn.Sequential(
    nn.Conv2d(1, 8, kernel_size=3, padding=1, dilation=1), nn.ReLU(),
    nn.Conv2d(8, 8, kernel_size=3, padding=2, dilation=2), nn.ReLU(),
    nn.Conv2d(8, 8, kernel_size=3, padding=4, dilation=4), nn.ReLU(),
)
"""

# The zoo's lenet feeds N×1×28×28 directly (no Reshape module), so its code has none either: `summary --code`
# on it gives exactly `summary lenet`'s layers.
LENET_ZOO = """\
# input: 1,28,28
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.Sigmoid(),
    nn.Linear(84, 10),
)
"""


@dataclass(frozen=True)
class Listing:
    id: str
    title: str
    code: str
    input_shape: tuple[int, ...]
    params: int | None  # the exact count at ``input_shape``; None where the code fails
    fails_at: int | None = None  # the line the notes' bug fails at
    note: str = ""


LISTINGS: dict[str, Listing] = {item.id: item for item in (
    Listing("lenet", N_("LeNet (the notes, with Reshape)"), LENET, (1, 28, 28), 61_706),
    Listing("alexnet", N_("AlexNet (the notes' code: 1 channel, pad 1, Linear(6400), 1000 outputs)"), ALEXNET,
            (1, 224, 224), 50_820_776,
            note="The notes' code has 1000 outputs; d2l's (zoo id alexnet-d2l) has 10: 46,764,746 parameters."),
    Listing("vgg", N_("VGG-11 (the notes' vgg_block and conv_arch)"), VGG, (1, 224, 224), 128_806_154,
            note="Change conv_arch and watch the shapes, parameters and receptive fields follow."),
    Listing("nin-notes", N_("NiN as the notes write it (bug: kernel_size passed to the 1×1 convolutions)"), NIN_NOTES,
            (1, 224, 224), None, fails_at=5,
            note="The '1×1' convolutions get the block's kernel size, so the feature map shrinks until a 3×3 "
                 "kernel meets a 1×1 input."),
    Listing("nin", N_("NiN (1×1 convolutions fixed)"), NIN, (1, 224, 224), 1_992_166),
    Listing("googlenet-notes", N_("GoogLeNet as the notes write it (first Inception c3=(18, 32))"), GOOGLENET_NOTES,
            (1, 96, 96), 5_979_516,
            note="d2l's first Inception block has c3=(16, 32); the notes' 18 adds 1,986 parameters."),
    Listing("googlenet", N_("GoogLeNet with the Inception class (d2l's (16, 32))"), GOOGLENET, (1, 96, 96), 5_977_530),
    Listing("resnet18-notes", N_("ResNet-18 with the notes' Residual (bug: self.conv = None)"), RESNET18_NOTES,
            (1, 96, 96), None, fails_at=23,
            note="Blocks without a 1×1 convolution never set self.conv3, so forward fails reading it."),
    Listing("resnet18", N_("ResNet-18 with Residual (self.conv3 = None fixed)"), RESNET18, (1, 96, 96), 11_178_378),
    Listing("dilated", N_("Dilated stack: receptive fields 3, 7, 15"), DILATED, (1, 32, 32), 1_248),
)}

# Code that builds each d2l-style zoo id exactly (its parameter count is the registry's).
ZOO_CODE: dict[str, str] = {
    "lenet": LENET_ZOO,
    "alexnet-d2l": ALEXNET.replace("nn.Linear(4096, 1000)", "nn.Linear(4096, 10)"),
    "vgg11-d2l": VGG,
    "nin": NIN,
    "googlenet": GOOGLENET,
    "resnet18": RESNET18,
}
