"""Models of Chapter 5: encoder–decoders for sequences (5.1, 5.3) and autoencoders/VAEs (5.1.3, 5.2)."""
from companion.models.autoencoders import (VAE, Autoencoder, BernoulliDecoder, Decoder,
                                           GaussianDecoder, GaussianEncoder, VAEOutput, add_noise,
                                           autoencoder_loss, batch_images, codes_of,
                                           make_autoencoder,
                                           make_vae, vae_loss)
from companion.models.seq2seq import (EncoderOutput, GRUDecoder, GRUEncoder, Seq2Seq,
                                      seq2seq_loss, sequence_cross_entropy, translate)

__all__ = ["VAE", "Autoencoder", "BernoulliDecoder", "Decoder", "GaussianDecoder",
           "GaussianEncoder", "VAEOutput", "add_noise", "autoencoder_loss", "batch_images", "codes_of",
           "make_autoencoder", "make_vae", "vae_loss",
           "EncoderOutput", "GRUDecoder", "GRUEncoder", "Seq2Seq", "seq2seq_loss",
           "sequence_cross_entropy", "translate"]
