"""Center loss (Wen et al., ECCV 2016) with centers updated outside autograd.

``L_C = 1/2 * mean_i ||x_i - c_{y_i}||^2`` over the labelled items of the batch
(Wen et al. sum over the batch; the mean keeps the scale independent of the
batch size, like the cross entropy it is weighted against).

The centers are a buffer, not parameters: they get no gradient and the
optimizer never sees them.  After each training-mode forward they move toward
the class means of the batch (Wen et al., eq. 4)::

    delta_c_j = sum_{i: y_i = j} (c_j - x_i) / (1 + n_j)
    c_j <- c_j - alpha * delta_c_j

where ``n_j`` is the number of items of class j in the batch.  Under
``torch.distributed`` the numerator and ``n_j`` are summed over workers first,
so every worker keeps identical centers.

Example:
    >>> closs = CenterLoss(num_classes=4, feat_dim=8, alpha=0.5)
    >>> loss = closs(torch.randn(16, 8), torch.randint(0, 4, (16,)))
"""

import torch


class CenterLoss(torch.nn.Module):
    """Center loss with an autograd-free center update.

    Args:
        num_classes: Number of classes C.
        feat_dim: Feature dimension D.
        alpha: Center learning rate in [0, 1] (Gao et al.: 0.5).
        ignore_index: Label marking unlabelled items (skipped).
    """

    def __init__(
        self, num_classes: int, feat_dim: int, alpha: float = 0.5, ignore_index: int = -1
    ):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"CenterLoss: alpha must be in [0, 1], got {alpha}")
        self.num_classes = num_classes
        self.feat_dim = feat_dim
        self.alpha = float(alpha)
        self.ignore_index = ignore_index
        # Zero init as in Wen et al.'s reference code; a buffer so it is saved
        # in checkpoints (and restored by --resume) but never optimised.
        self.register_buffer("centers", torch.zeros(num_classes, feat_dim))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Compute the loss and (in training mode) update the centers.

        Args:
            x: Deep features (B, D).
            y: Class indices (B,), ``ignore_index`` for unlabelled items.

        Returns:
            Scalar loss (0 when no item is labelled; still differentiable).
        """
        if x.dim() != 2 or x.size(1) != self.feat_dim:
            raise ValueError(
                f"CenterLoss: expected features (B, {self.feat_dim}), got {tuple(x.shape)}"
            )
        valid = y != self.ignore_index
        xv, yv = x[valid], y[valid].long()
        if yv.numel() and (int(yv.max()) >= self.num_classes or int(yv.min()) < 0):
            raise ValueError(
                f"CenterLoss: labels must be in [0, {self.num_classes}), "
                f"got min {int(yv.min())} max {int(yv.max())}"
            )
        if yv.numel():
            centers = self.centers.to(x.dtype)[yv]  # (N, D), no grad (buffer)
            loss = 0.5 * ((xv - centers) ** 2).sum(dim=1).mean()
        else:
            loss = x.sum() * 0.0
        if self.training:
            # Also without a labelled item: under DDP every worker must join the all_reduce.
            self.update_centers(xv.detach(), yv)
        return loss

    @torch.no_grad()
    def update_centers(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Apply Wen et al.'s eq. 4 to the centers.

        Args:
            x: Labelled features (N, D), detached.
            y: Their class indices (N,).
        """
        c = self.centers
        diff_sum = torch.zeros_like(c)
        # sum_{i: y_i = j} (c_j - x_i)
        diff_sum.index_add_(0, y, c[y] - x.to(c.dtype))
        counts = torch.bincount(y, minlength=self.num_classes).to(c.dtype)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(diff_sum)
            torch.distributed.all_reduce(counts)
        delta = diff_sum / (1.0 + counts).unsqueeze(1)
        c.sub_(self.alpha * delta)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, feat_dim={self.feat_dim}, alpha={self.alpha}"
