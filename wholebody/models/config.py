"""Model configs and named presets (RTMPose / DWPose, RTMW, CSPNeXt heatmap, tiny test models)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

# (deepen_factor, widen_factor) of the CSPNeXt sizes
CSPNEXT_SIZES: dict[str, tuple[float, float]] = {
    "t": (0.167, 0.375),
    "s": (0.33, 0.5),
    "m": (0.67, 0.75),
    "l": (1.0, 1.0),
    "x": (1.33, 1.25),
}
# SimCC sigmas (x, y) in bins at split ratio 2, per input size (w, h): MMPose configs
SIMCC_SIGMAS: dict[tuple[int, int], tuple[float, float]] = {
    (192, 256): (4.9, 5.66),
    (288, 384): (6.0, 6.93),
    (96, 128): (2.45, 2.83),
}


@dataclass(frozen=True)
class ModelConfig:
    """A top-down whole-body model: CSPNeXt backbone, optional PAFPN neck, SimCC or heatmap head."""

    name: str
    head: Literal["rtmcc", "rtmw", "heatmap"] = "rtmcc"
    deepen_factor: float = 0.67  # CSPNeXt block multiplier
    widen_factor: float = 0.75  # CSPNeXt channel multiplier
    input_size: tuple[int, int] = (192, 256)  # model input (w, h) pixels
    num_keypoints: int = 133  # K, COCO-WholeBody order
    keypoint_set: str = "coco_wholebody"
    simcc_split_ratio: float = 2.0  # SimCC bins per pixel
    sigma: tuple[float, float] = (4.9, 5.66)  # SimCC label sigma (x, y) in bins
    final_kernel_size: int = 7  # head conv kernel
    gau_hidden_dims: int = 256  # GAU token width D
    gau_s: int = 128  # GAU attention width s
    gau_expansion: int = 2  # GAU expansion (e = D * expansion)
    neck_csp_blocks: int = 2  # RTMW PAFPN blocks per CSP layer
    heatmap_deconv_channels: tuple[int, ...] = (256, 256, 256)  # heatmap head deconvs
    heatmap_sigma: float = 2.0  # heatmap Gaussian sigma in heatmap pixels
    heatmap_udp: bool = False  # UDP crops + codec (MMPose UDPHeatmap) instead of MSRA/DARK
    # KLDiscretLoss: RTMPose/DWPose beta 10; RTMW beta 1 with face keypoints at weight 0.5
    loss_beta: float = 10.0
    label_softmax: bool = True
    label_beta: float = 10.0
    loss_mask_part: str | None = None  # keypoint part (of keypoint_set) reweighted in the loss
    loss_mask_weight: float = 1.0
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)  # RGB, 0-255
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)
    param_estimate: float | None = field(default=None, compare=False)  # reference count
    published_gflops: float | None = field(default=None, compare=False)  # MMPose tables (MACs)

    @property
    def featuremap_size(self) -> tuple[int, int]:
        """(w, h) of the stride-32 feature map."""
        return (self.input_size[0] // 32, self.input_size[1] // 32)

    @property
    def simcc_size(self) -> tuple[int, int]:
        """SimCC bins (Wx, Wy)."""
        return (
            int(self.input_size[0] * self.simcc_split_ratio),
            int(self.input_size[1] * self.simcc_split_ratio),
        )

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of heatmaps: stride-32 map upsampled by the deconvolutions."""
        up = 2 ** len(self.heatmap_deconv_channels)
        return (self.featuremap_size[0] * up, self.featuremap_size[1] * up)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"unknown model config fields {unknown}, expected some of {sorted(known)}"
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


def _rtmpose(
    size: str, w: int, h: int, estimate: float | None, gflops: float | None = None
) -> ModelConfig:
    d, wf = CSPNEXT_SIZES[size]
    suffix = "" if (w, h) == (192, 256) else f"-{h}"
    return ModelConfig(
        name=f"rtmpose-{size}{suffix}",
        head="rtmcc",
        deepen_factor=d,
        widen_factor=wf,
        input_size=(w, h),
        sigma=SIMCC_SIGMAS[(w, h)],
        param_estimate=estimate,
        published_gflops=gflops,
    )


def _rtmw(size: str, w: int, h: int, gflops: float | None = None) -> ModelConfig:
    d, wf = CSPNEXT_SIZES[size]
    suffix = "" if (w, h) == (192, 256) else f"-{h}"
    return ModelConfig(
        name=f"rtmw-{size}{suffix}",
        head="rtmw",
        deepen_factor=d,
        widen_factor=wf,
        input_size=(w, h),
        sigma=SIMCC_SIGMAS[(w, h)],
        loss_beta=1.0,
        loss_mask_part="face",
        loss_mask_weight=0.5,
        published_gflops=gflops,
    )


_TINY = dict(
    deepen_factor=0.167,
    widen_factor=0.125,
    input_size=(96, 128),
    sigma=SIMCC_SIGMAS[(96, 128)],
    gau_hidden_dims=64,
    gau_s=32,
)

# Reference parameter estimates (whole-body, K=133) from the fact sheet, derived from the
# published body-17 counts (RTMW counts are not published), and published GFLOPs (MACs).
PRESETS: dict[str, ModelConfig] = {
    c.name: c
    for c in (
        _rtmpose("t", 192, 256, 5.5e6, 0.5),
        _rtmpose("s", 192, 256, 8.4e6, 0.9),
        _rtmpose("m", 192, 256, 18.0e6, 2.22),
        _rtmpose("l", 192, 256, 33.5e6, 4.52),
        _rtmpose("m", 288, 384, None),
        _rtmpose("l", 288, 384, 33.6e6, 10.07),
        _rtmpose("x", 288, 384, 56.7e6, 18.1),
        _rtmw("m", 192, 256, 4.3),
        _rtmw("l", 192, 256, 7.9),
        _rtmw("x", 192, 256, 13.1),
        _rtmw("l", 288, 384, 17.7),
        _rtmw("x", 288, 384, 29.3),
        ModelConfig(name="cspnext-m-heatmap", head="heatmap", heatmap_udp=True),
        ModelConfig(name="rtmpose-tiny-test", **_TINY),
        ModelConfig(
            name="rtmw-tiny-test",
            head="rtmw",
            loss_beta=1.0,
            loss_mask_part="face",
            loss_mask_weight=0.5,
            **_TINY,
        ),
        ModelConfig(
            name="heatmap-tiny-test",
            head="heatmap",
            heatmap_deconv_channels=(32, 32, 32),
            **_TINY,
        ),
    )
}
# DWPose = RTMPose architecture trained by distillation; released names map onto presets
ALIASES: dict[str, str] = {
    "dwpose-t": "rtmpose-t",
    "dwpose-s": "rtmpose-s",
    "dwpose-m": "rtmpose-m",
    "dwpose-l": "rtmpose-l",
    "dwpose-l-384": "rtmpose-l-384",
    "rtmpose-tiny": "rtmpose-tiny-test",
}


def get_config(name: str | ModelConfig, **overrides) -> ModelConfig:
    """A preset by name (or alias) with ``dataclasses.replace`` overrides."""
    if isinstance(name, ModelConfig):
        cfg = name
    else:
        key = ALIASES.get(name, name)
        if key not in PRESETS:
            raise ValueError(
                f"unknown model {name!r}, expected one of {sorted(PRESETS) + sorted(ALIASES)}"
            )
        cfg = PRESETS[key]
    if overrides:
        known = {f.name for f in dataclasses.fields(ModelConfig)}
        bad = sorted(set(overrides) - known)
        if bad:
            raise ValueError(f"unknown config overrides {bad}, expected some of {sorted(known)}")
        if "input_size" in overrides and "sigma" not in overrides:
            size = tuple(overrides["input_size"])
            overrides["sigma"] = SIMCC_SIGMAS.get(size, cfg.sigma)
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg
