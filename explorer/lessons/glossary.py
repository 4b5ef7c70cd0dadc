"""The app's terms in English and Chinese — one table, the wording of d2l's Chinese edition (《动手学深度学习》).

The Glossary page lists it; the tests check the Chinese catalog against it: where an English msgid uses a term, its
translation uses the chosen Chinese word, and no translation uses a word the table rejects (池化 for pooling: d2l
says 汇聚).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, UnknownKey


@dataclass(frozen=True)
class Term:
    en: str  # the English term, lower case (as it appears inside a sentence)
    zh: str  # d2l's Chinese term, the one the catalog uses
    avoid: tuple[str, ...] = ()  # other Chinese words for it, never used in the catalog
    note: str = ""  # in English, marked for the catalog: what the term means here, or why this word


TERMS: tuple[Term, ...] = (
    Term("convolutional layer", "卷积层", note=N_("a layer that slides learned kernels over its input")),
    Term("convolution", "卷积"),
    Term("kernel", "卷积核", note=N_("the window of weights a convolution slides")),
    Term("pooling layer", "汇聚层", ("池化",), N_("d2l's word: 汇聚, never 池化")),
    Term("max pooling", "最大汇聚", ("最大池化",)),
    Term("average pooling", "平均汇聚", ("平均池化",)),
    Term("global average pooling", "全局平均汇聚", ("全局平均池化",)),
    Term("receptive field", "感受野", ("感受域", "接受野")),
    Term("stride", "步幅", ("步长",)),
    Term("padding", "填充", ("补零",)),
    Term("dilation", "膨胀", ("扩张率",), N_("the gap between a kernel's taps")),
    Term("channel", "通道"),
    Term("feature map", "特征映射", ("特征图",)),
    Term("parameter count", "参数量", note=N_("the number of learned weights and biases")),
    Term("parameters", "参数"),
    Term("MACs", "乘加运算", note=N_("multiply–accumulates per image, bias included")),
    Term("fully connected layer", "全连接层", ("全连通层", "稠密层")),
    Term("residual block", "残差块", ("残差模块",)),
    Term("Inception block", "Inception块", note=N_("GoogLeNet's block of parallel paths")),
    Term("batch normalization", "批量规范化", ("批归一化", "批标准化", "批量归一化")),
    Term("dropout", "暂退法", ("丢弃法", "随机失活")),
    Term("activation function", "激活函数"),
    Term("weight layer", "权重层", note=N_("a convolution or linear layer")),
    Term("depth", "深度"),
    Term("input size", "输入尺寸"),
    Term("output shape", "输出形状"),
    Term("multilayer perceptron", "多层感知机", ("多层感知器",)),
    Term("autoencoder", "自编码器"),
    Term("generative adversarial network", "生成对抗网络"),
    Term("recurrent neural network", "循环神经网络", ("递归神经网络",)),
    Term("long short-term memory", "长短期记忆网络"),
    Term("gated recurrent unit", "门控循环单元"),
    Term("hidden state", "隐状态", ("隐藏状态",)),
    Term("Hopfield network", "Hopfield网络"),
    Term("Boltzmann machine", "玻尔兹曼机"),
    Term("feed-forward network", "前馈网络"),
    Term("training", "训练"),
    Term("learning rate", "学习率"),
    Term("batch size", "批量大小"),
    Term("epoch", "迭代周期", note=N_("one pass over the training set")),
    Term("loss", "损失"),
    Term("accuracy", "精度", ("准确率",), N_("the share of correct predictions (d2l: 分类精度)")),
    Term("classification", "分类"),
)


def term(en: str) -> Term:
    """The table's entry for the English term ``en``."""
    for t in TERMS:
        if t.en == en:
            return t
    raise UnknownKey(N_("{term} is not in the glossary"), term=repr(en))
