"""One streaming softmax-weighted mean, shared by the empirical, patch and ELS denoisers."""
from __future__ import annotations

import torch


class StreamingSoftmaxMean:
    """sum_j softmax_j(l_j) v_j over items j that arrive chunk by chunk, for a batch of rows ("online softmax").

    State per row: the running max m of the logits, the sum s of exp(l - m) and the accumulated sum of
    exp(l - m) v. A new chunk with a larger max rescales both by exp(m_old - m_new), so no exp overflows and
    nothing is ever normalised twice: exact to rounding, in memory O(rows x (chunk + value size)).
    ``batch_shape``: the rows (e.g. (B,) or (P, B)); ``value_size``: the length of each v_j."""

    def __init__(self, batch_shape: tuple, value_size: int, *, dtype, device):
        self.m = torch.full(batch_shape, -torch.inf, dtype=dtype, device=device)  # running max of the logits
        self.s = torch.zeros(batch_shape, dtype=dtype, device=device)  # sum of exp(l - m)
        self.acc = torch.zeros((*batch_shape, value_size), dtype=dtype, device=device)  # sum of exp(l - m) v

    def update(self, logits: torch.Tensor, weighted_values) -> None:
        """Take one chunk: ``logits`` (*batch_shape, n) -- overwritten with the weights, in place, to save memory --
        and ``weighted_values(w)`` -> (*batch_shape, value_size), the sum over the chunk of w_j v_j."""
        m_new = torch.maximum(self.m, logits.amax(-1))
        scale = torch.exp(self.m - m_new)  # rescale the old sums to the new max (0 on the first chunk)
        w = logits.sub_(m_new[..., None]).exp_()  # the logits become the chunk's unnormalised weights
        self.s.mul_(scale).add_(w.sum(-1))
        self.acc.mul_(scale[..., None]).add_(weighted_values(w))
        self.m = m_new

    def mean(self) -> torch.Tensor:
        """The softmax-weighted mean so far: (*batch_shape, value_size)."""
        return self.acc / self.s[..., None]
