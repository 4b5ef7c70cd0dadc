"""The notes' key points per family, in their own words (Chinese, quoted from ``cnn-notes.zh.md``) with an English
version beside each. The pages show them next to the numbers they are about; a test checks every Chinese quote
against the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import N_, UnknownKey


@dataclass(frozen=True)
class Point:
    zh: str  # quoted from the notes (markdown emphasis kept)
    en: str
    label_zh: str = ""  # a heading the notes give the point (a list item's name, a table row), not part of the quote
    label_en: str = ""
    claim: str = ""  # a key of explorer.lessons.claims.CHECKS: the point is checked with numbers beside it


SECTIONS: dict[str, tuple[str, str, tuple[Point, ...]]] = {
    # key: (heading in the notes, English heading, points)
    "feedforward": ("前馈神经网络", "Feedforward neural networks", (
        Point("一种人工神经网络，其中信息在网络中单向传播，从输入层经过一个或多个隐藏层，最终到达输出层",
              "An artificial neural network in which information flows one way: from the input layer through one "
              "or more hidden layers to the output layer."),
        Point("没有反馈连接，数据只能沿着一个方向流动，从输入到输出，所有的节点之间通过加权连接相连",
              "No feedback connections: data flows in one direction only, from input to output; nodes are linked "
              "by weighted connections.", "特点", "Properties"),
        Point("每一层的每个神经元都与下一层的每个神经元相连接",
              "Every neuron of a layer connects to every neuron of the next layer.",
              "全连接神经网络（FCN）", "Fully connected network (FCN)"),
        Point("是最基本的前馈神经网络，由多个层构成，通常用于分类和回归问题，激活函数如ReLU、Sigmoid等",
              "The most basic feedforward network, several layers deep, used for classification and regression, "
              "with activations such as ReLU or sigmoid.", "多层感知器（MLP）", "Multilayer perceptron (MLP)"),
        Point("一种无监督学习的网络，通过压缩输入数据到隐藏层再重构输入",
              "An unsupervised network: it compresses the input into a hidden layer, then reconstructs the input.",
              "自编码器（Autoencoder）", "Autoencoder"),
        Point("用于数据降维和特征学习", "Used for dimensionality reduction and feature learning.",
              "自编码器", "Autoencoder"),
        Point("包含两个部分：生成器和判别器，虽然其结构较为复杂，但生成器部分可以看作是一个前馈网络",
              "Two parts, a generator and a discriminator; complex as the whole is, the generator by itself can be "
              "seen as a feedforward network.", "生成对抗网络（GAN）", "Generative adversarial network (GAN)"),
        Point("主要用于图像处理，通过局部连接和权重共享来提取图像特征",
              "Mainly for images: extracts image features through local connections and weight sharing.",
              "卷积神经网络（CNN）", "Convolutional neural network (CNN)"),
        Point("尽管严格来说，RNN有反馈环路，但其基本单元的前馈部分也是前馈神经网络的一种形式",
              "Strictly speaking an RNN has a feedback loop, yet the notes file it here, as a kind of feedforward "
              "network through its basic unit's feedforward part (not so: an RNN is a feedback network — checked "
              "below).", "递归神经网络（RNN）", "Recurrent neural network (RNN), listed by the notes",
              claim="rnn-feedback"),
    )),
    "feedback": ("反馈神经网络", "Feedback (recurrent) neural networks", (
        Point("具有循环连接结构的神经网络，能够通过内部反馈机制处理时序数据和动态系统",
              "A network with recurrent connections: its internal feedback lets it handle time series and "
              "dynamic systems."),
        Point("数据单向流动（输入→隐藏层→输出），无循环连接，适合静态数据（如图像分类）",
              "Data flows one way (input → hidden → output), no loops: suited to static data (image classification).",
              "前馈网络", "Feedforward"),
        Point("允许数据循环流动（如输出→隐藏层或层内自连接），形成动态记忆，适合时序任务（如语音识别、股票预测）",
              "Data may flow in loops (output → hidden, or within a layer), forming a dynamic memory: suited to "
              "sequential tasks (speech recognition, stock prediction).", "反馈网络", "Feedback"),
        Point("通过隐藏状态$h_t$保存历史信息",
              "The hidden state hₜ keeps the history: hₜ = σ(W_hh hₜ₋₁ + W_xh xₜ + b_h), σ e.g. tanh.",
              "循环结构", "Recurrence"),
        Point("每个时间步的输出依赖当前输入和前一状态，适合序列建模",
              "Each step's output depends on the current input and the previous state: suited to sequence modelling.",
              "动态处理", "Dynamic processing"),
        Point("基础反馈结构，但存在梯度消失问题",
              "The basic feedback structure, but its gradients vanish over many steps.",
              "循环神经网络（RNN）", "RNN"),
        Point("引入遗忘门、输入门和输出门，解决长期依赖问题",
              "Adds forget, input and output gates, which ease long-term dependencies (the notes: “solve” — "
              "checked below).",
              "长短期记忆网络（LSTM）", "LSTM", claim="lstm-eases"),
        Point("变种包括长短期记忆网络（LSTM）和门控循环单元（GRU）",
              "Variants include the long short-term memory (LSTM) and the gated recurrent unit (GRU)."),
    )),
    "hopfield": ("反馈神经网络：Hopfield网络", "Feedback networks: the Hopfield network", (
        Point("全连接结构，用于联想记忆和优化问题",
              "Fully connected; used for associative memory and optimisation problems.", "Hopfield网络", "Hopfield"),
        Point("允许数据循环流动（如输出→隐藏层或层内自连接），形成动态记忆",
              "Data flows in loops (here: within one layer, every neuron feeding every other), forming a dynamic "
              "memory.", "反馈网络", "Feedback"),
    )),
    "boltzmann": ("反馈神经网络：玻尔兹曼机", "Feedback networks: the Boltzmann machine", (
        Point("基于概率的生成模型", "A probabilistic generative model.", "玻尔兹曼机（Boltzmann Machine）",
              "Boltzmann machine"),
        Point("具有循环连接结构的神经网络，能够通过内部反馈机制处理时序数据和动态系统",
              "A network with recurrent connections (in an RBM: visible ↔ hidden, both ways).", "反馈神经网络",
              "Feedback network"),
    )),
    "ffn": ("FFN层", "The FFN layer", (
        Point("常出现在编码器和解码器的注意力层之后，通过非线性变换增强模型的表达能力，帮助捕捉更复杂的特征",
              "Comes after the attention layers of the encoder and decoder; its nonlinear transformation makes the "
              "model more expressive and helps it capture more complex features."),
        Point("常由两个全连接层（线性变换）和一个激活函数组成",
              "Usually two fully connected (linear) layers and one activation function.", "结构", "Structure"),
        Point("弥补自注意力机制的线性局限性，学习更复杂的特征",
              "The notes: makes up for the “linearity” of self-attention (softmax attention is not linear — checked "
              "below); learns more complex features.", "增强非线性", "More nonlinearity", claim="ffn-linearity"),
        Point("对每个位置的输入独立操作，与注意力机制的全局交互形成互补",
              "Acts on each position's input independently, complementing attention's global interaction.",
              "位置独立处理", "Position-wise"),
        Point("部分研究认为FFN层以键值对（KV）形式存储训练数据的知识",
              "Some studies argue that FFN layers store knowledge from the training data as key–value pairs.",
              "知识存储", "Knowledge storage"),
    )),
    "pooling": ("池化", "Pooling", (
        Point("对特征图进行降维和压缩，“集中”“汇聚”“汇总”，把很多信息集中到一起",
              "Reduces and compresses feature maps — “concentrate”, “gather”, “summarise”: many values brought "
              "together into one."),
        Point("将多个数值合并成一个代表性值", "Merges several values into one representative value.", "Pooling",
              "Pooling"),
        Point("每个小区域中选最大的数值", "Takes the largest value in each small region.", "Max Pooling",
              "Max pooling"),
        Point("每个小区域中取平均值", "Takes the mean of each small region.", "Avg Pooling", "Average pooling"),
        Point("**卷积层的卷积核（filters）本质上就相当于全连接层中要学习的权重参数**，作用于输入的**局部区域**，"
              "通过**权重共享**降低参数量，并提取局部特征",
              "**A convolution's kernels (filters) are in essence a fully connected layer's learned weights**, "
              "applied to **local regions** of the input; **weight sharing** cuts the parameter count and extracts "
              "local features."),
    )),
    "blocks": ("块和层", "Blocks and layers", (
        Point("多个**层**组成的更大结构，通常完成一组相关的功能，如一个卷积块包含卷积层、激活层、归一化层等，"
              "常见卷积块、残差块、编码器块、解码器块",
              "A larger structure made of several **layers** that together do one job — a convolution block holds "
              "convolution, activation and normalization layers; common ones are convolution, residual, encoder "
              "and decoder blocks.", "块（block）", "Block"),
        Point("神经网络中的基本构建单元，常见全连接层、卷积层、池化层、激活层、归一化层",
              "The basic building unit of a network: fully connected, convolution, pooling, activation, "
              "normalization layers.", "层（layer）", "Layer"),
    )),
    "inception": ("GoogLeNet：Inception块与后续变种", "GoogLeNet: the Inception block and its successors", (
        Point("4个路径从不同层面抽取信息，在输出通道维合并，模型参数小，计算复杂度低",
              "Four paths extract information at different scales and are concatenated on the output channels: "
              "few parameters, low compute.", "Inception块", "Inception block"),
        Point("与单3\\*3或5\\*5卷积层比，Inception有更少的参数个数和计算复杂度",
              "Compared with a single 3×3 or 5×5 convolution, Inception has fewer parameters and less compute.",
              claim="inception-cheaper"),
        Point("使用batch normalization", "Uses batch normalization.", "Inception-BN(v2)", "Inception-BN (v2)"),
        Point("5\\*5替换为多个`3*3卷积层`", "A 5×5 replaced by several 3×3 convolutions.", "Inception-V3",
              "Inception-v3"),
        Point("5\\*5替换为`1*7和7*1卷积层`", "A 7×7 (the notes say 5×5) replaced by 1×7 and 7×1 convolutions.",
              "Inception-V3", "Inception-v3", claim="inception-v3-7x7"),
        Point("3\\*3替换为`1*3和3*1卷积层`", "A 3×3 replaced by 1×3 and 3×1 convolutions.", "Inception-V3",
              "Inception-v3"),
        Point("使用残差连接", "Uses residual connections — true of Inception-ResNet, not of Inception-v4 itself.",
              "Inception-V4", "Inception-v4", claim="inception-v4"),
    )),
    "residual-blocks": ("ResNet：残差块", "ResNet: residual blocks", (
        Point("残差网络，在堆叠层数的同时不会增加模型复杂度",
              "The notes: a residual network stacks layers “without adding model complexity” — it does add "
              "parameters and compute (checked below); the point is the next one.", "ResNet", "ResNet",
              claim="resnet-complexity"),
        Point("每个附加层都应该更容易地包含原始函数作为其元素之一",
              "Each added layer should easily contain the original function as one of its elements (nested "
              "function classes: a block that learns F(x) = 0 is the identity).", "核心思想", "Core idea"),
        Point("输入可通过跨层数据线路更快地向前传播",
              "The input can travel forward faster along the cross-layer data path.", "残差块", "Residual block"),
        Point("直接将输入加在了叠加层的输出上，要求两个卷积层的输出与输入形状相同",
              "Adds the input directly to the stacked layers' output: the two convolutions must keep the input's "
              "shape.", "第一种实现", "First implementation"),
        Point("先对输入进行1\\*1卷积变换通道（改变范围），再加入到叠加层的输出上，可改变通道数",
              "First transforms the input's channels with a 1×1 convolution, then adds it to the stacked layers' "
              "output: the channel count may change.", "第二种实现", "Second implementation"),
        Point("可以加在不同的位置", "The addition can sit at different places.", "不同的残差块",
              "Different residual blocks"),
        Point("将乘法运算变成加法运算（残差连接）",
              "Turns multiplications into additions (the residual connection).", "ResNet如何避免梯度消失",
              "How ResNet avoids vanishing gradients"),
        Point("允许模型学“偏差”而不是“全部”", "Lets the model learn the “difference” rather than “everything”.",
              "原理", "Principle"),
    )),
}


def section(key: str) -> tuple[str, str, tuple[Point, ...]]:
    """(Chinese heading, English heading, points) of one section; ``KeyError`` naming the known keys."""
    try:
        return SECTIONS[key]
    except KeyError:
        raise UnknownKey(N_("unknown notes section {key}; known: {keys}"), key=repr(key),
                         keys=", ".join(SECTIONS)) from None


def normalize(text: str) -> str:
    """Markdown and spacing removed, for comparing a quote with the notes: ``**``, `` ` ``, ``$``, ``\\``, blanks."""
    for mark in ("**", "`", "$", "\\"):
        text = text.replace(mark, "")
    return "".join(text.split())
