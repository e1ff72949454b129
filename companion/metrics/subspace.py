"""PCA by SVD and the angles between subspaces (5.2.1, Fig. 5-1: a linear autoencoder learns PCA's subspace)."""
from __future__ import annotations


import torch


def pca_by_svd(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of the rows of ``x`` (``[N, D]``, or images flattened) by the SVD of the centred data.

    Returns (mean ``[D]``, the top-``k`` principal directions as orthonormal rows ``[k, D]``, the
    fraction of variance each explains ``[k]``). The codes are ``(x − mean) @ components.T``.
    """
    x = x.reshape(len(x), -1).double()
    if len(x) < 2:
        raise ValueError("PCA needs at least two examples")
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"k must be between 1 and {min(x.shape)}, got {k}")
    mean = x.mean(0)
    _, s, vt = torch.linalg.svd(x - mean, full_matrices=False)
    explained = s.pow(2) / s.pow(2).sum()
    return mean.float(), vt[:k].float(), explained[:k].float()


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (degrees, ascending) between the column spaces of ``a`` ``[D, k]`` and ``b`` ``[D, m]``.

    Zero angles mean the spaces coincide; 90° means orthogonal directions. Computed from the
    singular values of Qa^T Qb (Björck & Golub).
    """
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must be matrices with the same number of rows, got "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.arccos(cosines))
