"""Models of Chapter 5: encoder–decoders for sequences
(5.1, 5.3) and autoencoders/VAEs (5.1.3, 5.2).

Training lives in :mod:`companion.train`, decoding in :mod:`companion.inference`; this package
holds the modules and their losses.
"""

from companion.models.attention import (
    AdditiveScore,
    Attention,
    DotScore,
    GeneralScore,
    make_score,
    masked_softmax,
)
from companion.models.autoencoders import (
    VAE,
    Autoencoder,
    BernoulliDecoder,
    GaussianDecoder,
    GaussianEncoder,
    ImageDecoder,
    VAEOutput,
    add_noise,
    batch_images,
    codes_of,
    make_autoencoder,
    make_autoencoder_loss,
    make_vae,
    make_vae_loss,
)
from companion.models.captioning import (
    CNNImageEncoder,
    attention_maps,
    attention_mass,
    make_captioner,
)
from companion.models.decoders import (
    AttentionDecoder,
    ContextInputDecoder,
    InitialStateDecoder,
    SequenceDecoder,
    make_decoder,
)
from companion.models.encoders import (
    CNNEncoder,
    Encoder,
    EncoderOutput,
    RNNEncoder,
    TransformerEncoder,
    make_encoder,
    sinusoidal_positions,
)
from companion.models.pointer import (
    PointerGenerator,
    PointerGeneratorDecoder,
    coverage_penalty,
    make_pointer_generator,
    pointer_generator_loss,
)
from companion.models.seq2seq import (
    EncoderDecoder,
    make_seq2seq,
    seq2seq_loss,
    sequence_cross_entropy,
)
from companion.models.text_to_image import (
    ConvImageDecoder,
    TextToImage,
    caption_inputs,
    make_text_to_image,
    text_to_image_loss,
)
from companion.models.transformer import TransformerDecoder, causal_mask, make_transformer

__all__ = [
    # autoencoders and VAEs (5.1.3, 5.2)
    "VAE",
    "Autoencoder",
    "BernoulliDecoder",
    "GaussianDecoder",
    "GaussianEncoder",
    "ImageDecoder",
    "VAEOutput",
    "add_noise",
    "batch_images",
    "codes_of",
    "make_autoencoder",
    "make_autoencoder_loss",
    "make_vae",
    "make_vae_loss",
    # attention (5.3.3)
    "AdditiveScore",
    "Attention",
    "DotScore",
    "GeneralScore",
    "make_score",
    "masked_softmax",
    # sequence-to-sequence encoders, decoders and models (5.1, 5.3)
    "CNNEncoder",
    "Encoder",
    "EncoderOutput",
    "RNNEncoder",
    "TransformerEncoder",
    "make_encoder",
    "sinusoidal_positions",
    "AttentionDecoder",
    "ContextInputDecoder",
    "InitialStateDecoder",
    "SequenceDecoder",
    "make_decoder",
    "EncoderDecoder",
    "make_seq2seq",
    "seq2seq_loss",
    "sequence_cross_entropy",
    # the copy and coverage mechanisms (5.1.2)
    "PointerGenerator",
    "PointerGeneratorDecoder",
    "coverage_penalty",
    "make_pointer_generator",
    "pointer_generator_loss",
    # Transformer and image captioning (5.3.6)
    "TransformerDecoder",
    "causal_mask",
    "make_transformer",
    "CNNImageEncoder",
    "attention_maps",
    "attention_mass",
    "make_captioner",
    # text → image with a CNN decoder (5.3.6)
    "ConvImageDecoder",
    "TextToImage",
    "caption_inputs",
    "make_text_to_image",
    "text_to_image_loss",
]
