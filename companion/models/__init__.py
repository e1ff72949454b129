"""Models of Chapter 5: encoder–decoders for sequences (5.1, 5.3) and autoencoders/VAEs (5.1.3, 5.2)."""
from companion.models.attention import (AdditiveScore, Attention, DotScore, GeneralScore,
                                        make_score, masked_softmax)
from companion.models.autoencoders import (VAE, Autoencoder, BernoulliDecoder, GaussianDecoder,
                                           GaussianEncoder, VAEOutput, add_noise,
                                           autoencoder_loss, batch_images, codes_of,
                                           make_autoencoder, make_vae, vae_loss)
from companion.models.autoencoders import Decoder as ImageDecoder
from companion.models.decoders import (AttentionDecoder, ContextInputDecoder, Decoder,
                                       InitialStateDecoder, make_decoder)
from companion.models.encoders import (CNNEncoder, Encoder, EncoderOutput, RNNEncoder,
                                       TransformerEncoder, make_encoder, sinusoidal_positions)
from companion.models.seq2seq import (EncoderDecoder, GRUDecoder, GRUEncoder, Seq2Seq,
                                      make_seq2seq, seq2seq_loss, sequence_cross_entropy,
                                      train_seq2seq, translate)

__all__ = [
    # autoencoders and VAEs (5.1.3, 5.2)
    "VAE", "Autoencoder", "BernoulliDecoder", "ImageDecoder", "GaussianDecoder",
    "GaussianEncoder", "VAEOutput", "add_noise", "autoencoder_loss", "batch_images", "codes_of",
    "make_autoencoder", "make_vae", "vae_loss",
    # sequence-to-sequence (5.1, 5.3)
    "EncoderOutput", "GRUDecoder", "GRUEncoder", "Seq2Seq", "seq2seq_loss",
    "sequence_cross_entropy", "translate",
    "AdditiveScore", "Attention", "DotScore", "GeneralScore", "make_score", "masked_softmax",
    "AttentionDecoder", "ContextInputDecoder", "Decoder", "InitialStateDecoder",
    "make_decoder", "CNNEncoder", "Encoder", "RNNEncoder", "TransformerEncoder",
    "make_encoder", "sinusoidal_positions", "EncoderDecoder", "make_seq2seq",
    "train_seq2seq",
]
from companion.models.transformer import (TransformerDecoder, causal_mask,  # noqa: E402
                                          count_parameters, make_transformer)

__all__ += ["TransformerDecoder", "causal_mask", "count_parameters", "make_transformer"]
from companion.models.captioning import (CNNImageEncoder, attention_maps,  # noqa: E402
                                         attention_mass, make_captioner)

__all__ += ["CNNImageEncoder", "attention_maps", "attention_mass", "make_captioner"]
