"""PCA by SVD and the angles between subspaces (5.2.1,
Fig. 5-1: a linear autoencoder learns PCA's subspace).
"""

from __future__ import annotations

import torch

from companion.validation import check_int, check_tensor


def pca_by_svd(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of the rows of ``x`` (``[N, D]``, or images flattened) by the SVD of the centred data.

    Returns (mean ``[D]``, the top-``k`` principal directions as orthonormal rows ``[k, D]``, the
    fraction of variance each explains ``[k]``). The codes are ``(x − mean) @ components.T``.
    """
    check_tensor(x, "x", dtype="float", min_dim=1, finite=True)
    x = x.reshape(len(x), -1).double()
    if len(x) < 2:
        raise ValueError(f"PCA needs at least two examples, got {len(x)}")
    check_int(k, "k", min=1, max=min(x.shape))
    mean = x.mean(0)
    _, s, vt = torch.linalg.svd(x - mean, full_matrices=False)
    explained = s.pow(2) / s.pow(2).sum()
    return mean.float(), vt[:k].float(), explained[:k].float()


def principal_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Principal angles (degrees, ascending) between the
    column spaces of ``a`` ``[D, k]`` and ``b`` ``[D, m]``.

    Zero angles mean the spaces coincide; 90° means orthogonal directions. Computed from the
    singular values of Qa^T Qb (Björck & Golub).
    """
    check_tensor(a, "a", dtype="float", dim=2, finite=True, nonempty=True)
    check_tensor(b, "b", dtype="float", dim=2, finite=True, nonempty=True)
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"a and b must be matrices with the same number of rows, got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )
    qa, _ = torch.linalg.qr(a.double())
    qb, _ = torch.linalg.qr(b.double())
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.arccos(cosines))
