"""Home: what CNN Explorer is, and the gallery of models — the notes' CNNs first, in the notes' order, then the
other families, each card opening the page made for it."""

from __future__ import annotations

import streamlit as st

from explorer.analysis.depth import LONGEST_PATH_HELP
from explorer.present import formatting as fmt
from explorer.present import gallery
from pages.i18n import N_, _, link_params, ngettext
from pages.layout import use_app_navigation

use_app_navigation()

# The notes' order of the CNN chapters, then the other families of the notes (feedforward, feedback, the FFN).
CNN_FAMILIES = ("LeNet", "AlexNet", "VGG", "NiN", "GoogLeNet", "ResNet")
OTHER_FAMILIES = ("MLP", "Autoencoder", "GAN", "RNN", "Transformer FFN", "Hopfield", "Boltzmann machine")
# Where a card opens: the page made for its family (a single block opens its variants' page).
FAMILY_PAGES = {
    "MLP": ("pages/feedforward.py", N_("Feedforward")),
    "Autoencoder": ("pages/feedforward.py", N_("Feedforward")),
    "GAN": ("pages/feedforward.py", N_("Feedforward")),
    "RNN": ("pages/recurrent.py", N_("Recurrent")),
    "Transformer FFN": ("pages/ffn.py", N_("Transformer FFN")),
    "Hopfield": ("pages/hopfield.py", N_("Hopfield")),
    "Boltzmann machine": ("pages/boltzmann.py", N_("Boltzmann")),
}
BLOCK_PAGES = {"inception-": ("pages/inception.py", N_("Inception variants")),
               "resblock-": ("pages/residual-blocks.py", N_("Residual blocks"))}


@st.cache_resource(show_spinner=False)
def cards() -> list[gallery.Card]:
    """Every model's card, each CNN's with its depth and thumbnail: from the disk cache a server start keeps
    (``explorer.present.gallery``), so that a fresh server draws Home without analysing ~30 networks, and without
    importing PyTorch at all."""
    return gallery.cards(CNN_FAMILIES)


def block_page(spec: gallery.Card) -> tuple[str, str] | None:
    return next((page for prefix, page in BLOCK_PAGES.items() if spec.id.startswith(prefix)), None)


def card(spec: gallery.Card, picture: bool) -> None:
    with st.container(border=True, key=f"card_{spec.id}"):
        st.markdown(f"#### {_(spec.title)}\n`{spec.id}` · {spec.family} · {spec.year}")
        if picture:
            st.image(spec.thumbnail, width="stretch")
        if spec.classifier and spec.num_classes > 1:
            output = ngettext("{n} class", "{n} classes", spec.num_classes).format(n=spec.num_classes)
        else:  # a binary classifier's single unit, an image, a sequence, a state
            output = _("output {dims}: {what}").format(dims="×".join(map(str, spec.output_dims)), what=_(spec.output))
        depth = ""
        if spec.family in CNN_FAMILIES:
            depth = " · " + _("{n} weight layers (longest path)").format(n=spec.depth)
        st.markdown(
            _("input {dims}").format(dims="×".join(map(str, spec.input_shape))) + f" · {output}{depth}  \n"
            + _("**{exact}** parameters ({short})").format(exact=fmt.exact(spec.params), short=fmt.short(spec.params)),
            help=_(LONGEST_PATH_HELP) if depth else None,
        )
        st.caption(_(spec.introduced))
        own = FAMILY_PAGES.get(spec.family) or block_page(spec)
        if own is not None:
            st.page_link(own[0], label=_(own[1]), icon=":material/arrow_forward:", query_params=link_params())
            st.page_link("pages/architecture.py", label=_("Layer table"), query_params=link_params(model=spec.id))
        else:
            st.page_link("pages/architecture.py", label=_("Open in Architecture"),
                         query_params=link_params(model=spec.id), icon=":material/arrow_forward:")


st.title("CNN Explorer")
st.markdown(_(
    "The classic convolutional networks — LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet — built layer by layer "
    "from a learner's study notes (d2l style), with every layer's **output shape, parameters and MACs**, "
    "the arithmetic behind each shape, and the bugs of the notes' code fixed beside the original. "
    "Pick a model below, or **Compare** several side by side. The notes' other families — the MLP, autoencoder and "
    "GAN, RNN/LSTM/GRU, the transformer's FFN layer, the Hopfield network and the Boltzmann machine — follow, each "
    "card opening a page of its own."
))
st.caption(_(
    "Each CNN's picture: one bar per weight layer (convolution or linear) in the order the data meets them; the "
    "height is the layer's output channels (log scale), the shade its spatial size (dark = large map)."
))

families: dict[str, list[gallery.Card]] = {}
for spec in cards():
    families.setdefault(spec.family, []).append(spec)
unknown = [f for f in families if f not in CNN_FAMILIES + OTHER_FAMILIES]  # a family added later still shows

st.header(_("The convolutional networks"))
networks = [s for f in CNN_FAMILIES for s in families.get(f, []) if block_page(s) is None]
cols = st.columns(4)
for i, spec in enumerate(networks):
    with cols[i % 4]:
        card(spec, picture=True)
for family in CNN_FAMILIES:
    blocks = [s for s in families.get(family, []) if block_page(s) is not None]
    if blocks:
        page, name = block_page(blocks[0])
        with st.expander(_("{family}'s single blocks ({n}), each measured on the {page} page").format(
                family=family, n=len(blocks), page=_(name))):
            cols = st.columns(3)
            for i, spec in enumerate(blocks):
                with cols[i % 3]:
                    card(spec, picture=False)

st.header(_("The notes' other families"))
others = [s for f in OTHER_FAMILIES + tuple(unknown) for s in families.get(f, [])]
cols = st.columns(4)
for i, spec in enumerate(others):
    with cols[i % 4]:
        card(spec, picture=False)
