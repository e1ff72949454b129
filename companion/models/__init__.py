"""Models of Chapter 5: encoder–decoders for sequences (5.1, 5.3) and autoencoders/VAEs (5.1.3, 5.2)."""
from companion.models.seq2seq import (EncoderOutput, GRUDecoder, GRUEncoder, Seq2Seq,
                                      seq2seq_loss, sequence_cross_entropy, translate)

__all__ = ["EncoderOutput", "GRUDecoder", "GRUEncoder", "Seq2Seq", "seq2seq_loss",
           "sequence_cross_entropy", "translate"]
from companion.models.transformer import (PositionalEncoding, TransformerSeq2Seq,  # noqa: E402
                                          causal_mask, count_parameters, sinusoidal_encoding)

__all__ += ["PositionalEncoding", "TransformerSeq2Seq", "causal_mask", "count_parameters",
            "sinusoidal_encoding"]
