"""Feedforward networks beyond the CNNs: the MLP, the autoencoder and the GAN's two halves, resized live."""

from __future__ import annotations

import streamlit as st

import explorer
from explorer.analysis import Summary
from explorer.lessons import feedforward
from explorer.present import charts, table
from explorer.present import formatting as fmt
from explorer.zoo.feedforward import mlp_params
from pages.common import exact_metric, layer_table_config, use_app_navigation
from pages.i18n import _
from pages.notes_panel import notes_panel

use_app_navigation()


@st.cache_data(show_spinner=False, max_entries=64)
def mlp_summary(hidden: tuple[int, ...]) -> Summary:
    return feedforward.mlp_summary(hidden)


@st.cache_data(show_spinner=False, max_entries=64)
def autoencoder_summary(code_size: int) -> Summary:
    return feedforward.autoencoder_summary(code_size)


@st.cache_data(show_spinner=False, max_entries=64)
def gan_summaries(latent_size: int, width: int) -> tuple[Summary, Summary]:
    return feedforward.gan_summaries(latent_size, width)


def layer_table(summary: Summary, key: str) -> None:
    frame = table.layer_frame(summary, ("name", "type", "output_shape", "params", "arithmetic"), leaves=True)
    st.dataframe(frame, hide_index=True, key=key, column_config=layer_table_config(frame))


def parse_widths(text: str) -> tuple[int, ...] | None:
    """'512, 128' → (512, 128); None unless 0–8 widths between 1 and 8192."""
    try:
        hidden = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        return None
    return hidden if len(hidden) <= 8 and all(1 <= h <= 8192 for h in hidden) else None


st.title(_("Feedforward networks: MLP, autoencoder, GAN"))
st.markdown(_(
    "Information flows one way, input to output. The CNNs of the other pages are one kind; here are the others "
    "the notes name, built and measured layer by layer — change their sizes and watch the numbers follow."
))
notes_panel("feedforward")

mlp_tab, ae_tab, gan_tab = st.tabs(["MLP", _("Autoencoder"), "GAN"])

with mlp_tab:
    st.markdown(f"*{explorer.get_spec('mlp').paper}* · `mlp` · {_(explorer.get_spec('mlp').introduced)}")
    text = st.text_input(_("Hidden layer widths (comma-separated)"), "256", key="mlp_hidden",
                         help=_("d2l's MLP has one hidden layer of 256 units; try 256,256 or 1024."))
    hidden = parse_widths(text)
    if hidden is None:
        st.error(_("Give up to 8 widths between 1 and 8192, separated by commas (e.g. 256 or 512,256)."))
    else:
        s = mlp_summary(hidden)
        widths = (784, *hidden, 10)
        a, b = st.columns(2)
        with a:
            exact_metric(_("MLP parameters"), s.total_params)
        with b:
            exact_metric(_("MACs per image"), s.total_macs)
        st.markdown(_("**Parameters:** {sum} = {total} — every unit has one weight per input and a bias.").format(
            sum=" + ".join(f"({x} + 1)·{y}" for x, y in zip(widths[:-1], widths[1:])),
            total=fmt.exact(mlp_params(widths))))
        lenet = explorer.get_spec("lenet")
        st.caption(_(
            "For comparison, LeNet maps the same 28×28 image to the same 10 classes with {params} parameters: "
            "convolutions connect locally and share their weights."
        ).format(params=fmt.exact(lenet.params)))
        layer_table(s, "mlp_table")

with ae_tab:
    spec = explorer.get_spec("autoencoder")
    st.markdown(f"*{spec.paper}* · `autoencoder` · {_(spec.introduced)}")
    code = st.slider(_("Code size (the bottleneck)"), 2, 256, 32, key="ae_code")
    s = autoencoder_summary(code)
    a, b, c = st.columns(3)
    with a:
        exact_metric(_("Autoencoder parameters"), s.total_params)
    with b:
        st.metric(_("Compression"), f"{784 / code:.1f}×", help=_("784 pixels → {n} numbers").format(n=code))
    with c:
        st.metric(_("Output"), fmt.shape(s.output_shape), help=_("The reconstruction: the input's shape again."))
    encoder = next(r for r in s.layers if r.name == "encoder")
    decoder = next(r for r in s.layers if r.name == "decoder")
    st.markdown(_(
        "**Encoder** {encoder} parameters: 1×28×28 → … → **{code}**; **decoder** {decoder} parameters: {code} → … → "
        "{output}. The two linear layers around the code hold most of the parameters."
    ).format(encoder=fmt.exact(encoder.params_total), decoder=fmt.exact(decoder.params_total), code=code,
             output=fmt.shape(decoder.output_shape)))
    st.plotly_chart(charts.shape_flow(s), key="ae_flow")
    layer_table(s, "ae_table")

with gan_tab:
    gen_spec, disc_spec = explorer.get_spec("gan-generator"), explorer.get_spec("gan-discriminator")
    st.markdown(f"*{gen_spec.paper}* · `gan-generator`, `gan-discriminator`")
    a, b = st.columns(2)
    latent = a.slider(_("Noise size (z)"), 2, 256, 100, key="gan_latent")
    width = b.select_slider(_("Width (channels of the 14×14 layer)"), [16, 32, 64, 128], 64, key="gan_width")
    gen, disc = gan_summaries(latent, width)
    a, b = st.columns(2)
    with a:
        exact_metric(_("Generator parameters"), gen.total_params)
        st.markdown(f"z ({latent}×1×1) → " + " → ".join(
            fmt.shape(r.output_shape) for r in gen.leaves if r.type == "ConvTranspose2d"
        ) + " — " + _(gen_spec.introduced))
        st.plotly_chart(charts.shape_flow(gen), key="gan_gen_flow")
        layer_table(gen, "gan_gen_table")
    with b:
        exact_metric(_("Discriminator parameters"), disc.total_params)
        st.markdown("1×28×28 → " + " → ".join(
            fmt.shape(r.output_shape) for r in disc.leaves if r.type == "Conv2d"
        ) + " → sigmoid — " + _(disc_spec.introduced))
        st.plotly_chart(charts.shape_flow(disc), key="gan_disc_flow")
        layer_table(disc, "gan_disc_table")
    st.caption(_(
        "Goodfellow et al.'s game: the discriminator learns to tell real images from generated ones, the generator "
        "to make the discriminator wrong. Each half is an ordinary feedforward network; only their training is "
        "adversarial."
    ))
