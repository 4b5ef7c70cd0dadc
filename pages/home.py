"""Home: what CNN Explorer is, and the gallery of models."""

from __future__ import annotations

import streamlit as st

import explorer
from explorer.present import formatting as fmt
from pages.common import use_app_navigation

use_app_navigation()

st.title("CNN Explorer")
st.markdown(
    "The classic convolutional networks — LeNet, AlexNet, VGG, NiN, GoogLeNet, ResNet — built layer by layer "
    "from a learner's study notes (d2l style), with every layer's **output shape, parameters and MACs**, "
    "the arithmetic behind each shape, and the bugs of the notes' code fixed beside the original. "
    "Pick a model below, or **Compare** several side by side. The notes' other families — the MLP, autoencoder and "
    "GAN, RNN/LSTM/GRU, the Hopfield network and the Boltzmann machine, the transformer's FFN layer — are in the "
    "gallery too, each with a page of its own in the sidebar, beside pooling, blocks and layers, and the Inception "
    "and residual block variants."
)

families: dict[str, list[explorer.ModelSpec]] = {}
for spec in explorer.list_models():
    families.setdefault(spec.family, []).append(spec)

for family, specs in families.items():
    st.subheader(family)
    cols = st.columns(min(len(specs), 3))
    for i, spec in enumerate(specs):
        with cols[i % len(cols)].container(border=True):
            st.page_link(
                "pages/architecture.py", label=f"**{spec.title}** · {spec.year}", query_params={"model": spec.id}
            )
            if spec.classifier and spec.num_classes > 1:
                output = f"{spec.num_classes} classes"
            else:  # a binary classifier's single unit, an image, a sequence, a state
                output = f"output {'×'.join(map(str, spec.output_dims))}: {spec.output}"
            st.markdown(
                f"`{spec.id}` · input {'×'.join(map(str, spec.input_shape))} · {output}  \n"
                f"**{fmt.exact(spec.params)}** parameters ({fmt.short(spec.params)})"
            )
            st.caption(spec.introduced)
