"""MiniFASNet: the two small anti-spoofing CNNs of Silent-Face-Anti-Spoofing (Apache-2.0).

Written from the structure of the published state_dicts (layer names and shapes), not
copied: a MobileFaceNet-style body on an 80x80 input. Four stride-2 stages (conv1,
conv_23, conv_34, conv_45) bring 80 to 5, which is why the last depthwise kernel is 5x5.
Every ``*.conv`` is a bias-free convolution followed by BatchNorm and, where the state_dict
has a ``prelu`` weight, a PReLU. Bottleneck blocks expand (1x1), filter (3x3 depthwise)
and project (1x1, no activation); inside ``conv_3``/``conv_4``/``conv_5`` they keep the
width and add their input back. The SE variant adds a squeeze-excitation gate (two 1x1
convolutions with BatchNorm, as its keys show) to the last block of each of those stages.
"""
from __future__ import annotations

import torch
from torch import nn

# Expansion widths of each bottleneck, read from the state_dicts: conv_23, conv_3 blocks,
# conv_34, conv_4 blocks, conv_45, conv_5 blocks.
WIDTHS = {
    "MiniFASNetV2": (103, (13, 13, 13, 13), 231, (231, 52, 26, 77, 26, 26), 308, (26, 26)),
    "MiniFASNetV1SE": (103, (13, 26, 13, 52), 231, (154, 52, 26, 52, 26, 26), 308, (26, 26)),
}
SE_REDUCTION = 4
"""The SE gates squeeze 64 -> 16 and 128 -> 32 channels."""


class ConvUnit(nn.Module):
    """conv (no bias) -> BatchNorm -> optional PReLU; the keys are conv, bn, prelu."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1,
                 padding: int = 0, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.prelu = nn.PReLU(cout) if act else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return self.prelu(x) if self.prelu is not None else x


class SEGate(nn.Module):
    """Squeeze-excitation: channel weights from the global average of the block's output."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        squeezed = channels // SE_REDUCTION
        self.fc1 = nn.Conv2d(channels, squeezed, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(squeezed)
        self.fc2 = nn.Conv2d(squeezed, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = x.mean(dim=(2, 3), keepdim=True)
        w = torch.relu(self.bn1(self.fc1(w)))
        return x * torch.sigmoid(self.bn2(self.fc2(w)))


class Bottleneck(nn.Module):
    """1x1 expand -> 3x3 depthwise (stride 1 or 2) -> 1x1 project, optional SE and shortcut."""

    def __init__(self, cin: int, cout: int, width: int, stride: int, *,
                 residual: bool, se: bool = False) -> None:
        super().__init__()
        self.conv = ConvUnit(cin, width)
        self.conv_dw = ConvUnit(width, width, 3, stride, 1, groups=width)
        self.project = ConvUnit(width, cout, act=False)
        self.se_module = SEGate(cout) if se else None
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        if self.se_module is not None:
            y = self.se_module(y)
        return x + y if self.residual else y


class Stage(nn.Module):
    """Residual bottlenecks at constant width (keys ``model.N``); SE on the last if asked."""

    def __init__(self, channels: int, widths: tuple[int, ...], se: bool) -> None:
        super().__init__()
        last = len(widths) - 1
        self.model = nn.Sequential(*(Bottleneck(channels, channels, w, 1, residual=True,
                                                se=se and i == last)
                                     for i, w in enumerate(widths)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MiniFASNet(nn.Module):
    """80x80x3 in, 3 logits out (class 1 = real face)."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        w23, w3, w34, w4, w45, w5 = WIDTHS[variant]
        se = variant.endswith("SE")
        self.conv1 = ConvUnit(3, 32, 3, 2, 1)
        self.conv2_dw = ConvUnit(32, 32, 3, 1, 1, groups=32)
        self.conv_23 = Bottleneck(32, 64, w23, 2, residual=False)
        self.conv_3 = Stage(64, w3, se)
        self.conv_34 = Bottleneck(64, 128, w34, 2, residual=False)
        self.conv_4 = Stage(128, w4, se)
        self.conv_45 = Bottleneck(128, 128, w45, 2, residual=False)
        self.conv_5 = Stage(128, w5, se)
        self.conv_6_sep = ConvUnit(128, 512)
        self.conv_6_dw = ConvUnit(512, 512, 5, groups=512, act=False)
        self.linear = nn.Linear(512, 128, bias=False)
        self.bn = nn.BatchNorm1d(128)
        self.prob = nn.Linear(128, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in (self.conv1, self.conv2_dw, self.conv_23, self.conv_3, self.conv_34,
                      self.conv_4, self.conv_45, self.conv_5, self.conv_6_sep, self.conv_6_dw):
            x = layer(x)
        return self.prob(self.bn(self.linear(x.flatten(1))))


def load_minifasnet(variant: str, state: dict[str, torch.Tensor]) -> MiniFASNet:
    """The network with ``state`` (a DataParallel state_dict) loaded strictly, in eval mode."""
    model = MiniFASNet(variant)
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()}, strict=True)
    return model.eval()
