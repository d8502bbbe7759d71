"""Fitting configuration: frozen dataclasses and named presets."""

from __future__ import annotations

from dataclasses import dataclass

# Part names of the COCO-WholeBody keypoint set (wholebody.keypoints.COCO_WHOLEBODY.parts).
PARTS = ("body", "foot", "face", "left_hand", "right_hand")
# Parameter groups that a stage can free.
GROUPS = ("global", "transl", "betas", "body", "hands", "jaw", "expression")


@dataclass(frozen=True)
class StageConfig:
    """One optimisation stage.

    Attributes:
        name: label in the history.
        iterations: Levenberg-Marquardt iterations.
        free: parameter groups optimised in this stage (others stay fixed).
        part_weights: data-term weight per keypoint part (missing parts weigh 0).
        robust_sigma: Geman-McClure scale for this stage (metres), or None for
            ``FitConfig.robust_sigma``. Early stages use a wide kernel: a tight one treats the
            large residuals of a far-off initial pose (arms down vs the T-pose) as outliers.
        smooth: apply the temporal smoothness terms in this stage. The early stages leave them
            out: far from the data the smoothness majoriser only slows the approach.
    """

    name: str
    iterations: int
    free: tuple[str, ...]
    part_weights: tuple[tuple[str, float], ...]
    robust_sigma: float | None = None
    smooth: bool = True

    def __post_init__(self) -> None:
        bad = set(self.free) - set(GROUPS)
        if bad:
            raise ValueError(f"StageConfig.free: unknown groups {sorted(bad)}, expected {GROUPS}")
        bad = {p for p, _ in self.part_weights} - set(PARTS)
        if bad:
            raise ValueError(
                f"StageConfig.part_weights: unknown parts {sorted(bad)}, expected {PARTS}"
            )
        if self.iterations < 0:
            raise ValueError(f"StageConfig.iterations: expected >= 0, got {self.iterations}")
        if self.robust_sigma is not None and self.robust_sigma <= 0:
            raise ValueError(f"StageConfig.robust_sigma: expected > 0, got {self.robust_sigma}")


_ALL_PARTS = tuple((p, 1.0) for p in PARTS)
_BODY_PARTS = (("body", 1.0), ("foot", 1.0), ("face", 0.3))
_TORSO = ("global", "transl")

# metres: the body stage sees the whole arm/leg error, not just its robust tail. The global stage
# keeps the tight kernel and the body stage leaves the global orientation alone, so limbs far
# from the T-pose neither tilt nor twist the torso (the full stage refines it).
_WIDE = 1.0
DEFAULT_STAGES = (
    StageConfig("global", 3, _TORSO, (("body", 1.0), ("foot", 1.0)), smooth=False),
    StageConfig("body", 15, ("transl", "betas", "body"), _BODY_PARTS, _WIDE, smooth=False),
    StageConfig("full", 20, GROUPS, _ALL_PARTS),
)
FAST_STAGES = (
    StageConfig("global", 3, _TORSO, (("body", 1.0), ("foot", 1.0)), smooth=False),
    StageConfig("body", 5, ("transl", "betas", "body"), _BODY_PARTS, _WIDE, smooth=False),
    StageConfig("full", 5, GROUPS, _ALL_PARTS),
)

# fewest iterations that stay well under 10 mm on clean synthetic sequences (bench_fitting)
REALTIME_STAGES = (
    StageConfig("global", 2, _TORSO, (("body", 1.0), ("foot", 1.0)), smooth=False),
    StageConfig("body", 3, ("transl", "betas", "body"), _BODY_PARTS, _WIDE, smooth=False),
    StageConfig("full", 2, GROUPS, _ALL_PARTS),
)


@dataclass(frozen=True)
class FitConfig:
    """Weights and schedule of ``fit_sequence``.

    Residuals are measured in units of ``unit`` metres, so a weight of 1 on a keypoint costs 1 for
    a residual of ``unit``; prior weights are per radian² (pose) or per unit² (shape, expression).

    Attributes:
        stages: optimisation stages (global -> body -> hands/face by default).
        unit: residual unit, metres.
        robust_sigma: Geman-McClure scale, metres (residuals beyond it count less and less).
        pose_weight: L2 on body joint rotations (per rad²).
        hinge_weight: knee/elbow bend-direction prior (SMPLify-style angle limits).
        angle_limit: soft bound on each body axis-angle component (radians).
        limit_weight: weight of the soft bound beyond ``angle_limit``.
        shape_weight: L2 on betas (per frame used).
        num_betas: leading shape coefficients fitted (the rest stay 0).
        expression_weight: L2 on expression coefficients.
        hand_weight: L2 on hand axis-angle (flat hand mean).
        hand_pca_weight: hand PCA prior, per squared coefficient of the model's hand PCA basis
            (``hands_components``, about its mean) for the first ``hand_pca_components``.
        hand_pca_outside_weight: the same for the remaining coefficients (a soft subspace).
        hand_pca_components: coefficients weighted by ``hand_pca_weight`` (SMPLify-X: 12).
            Off by default (weights 0): the open model's hand basis is the identity, and the
            solver applies this coupled prior through a diagonal majoriser, so a hand without
            data moves towards the mean hand slowly. Try e.g. 1e-3 / 1e-2 with real SMPL-X files.
        jaw_weight: L2 on the jaw rotation.
        velocity_weight: temporal smoothness on keypoint velocities, per unit² of the
            frame-to-frame difference at 30 frames/s (scaled to the sequence's rate).
        acceleration_weight: the same on keypoint accelerations (second differences); both 0 =
            frames independent. See ``smoothness.py``.
        reprojection_weight: 2D term per (pixel / focal / unit)², i.e. an image error that
            spans ``unit`` metres at 1 m depth costs like a 3D error of ``unit`` (camera only).
        reprojection_sigma: Geman-McClure scale of the 2D term, pixels.
        beta_frames: frames (evenly spaced) used for each shape update.
        chunk: frames per compiled step (memory bound).
    """

    stages: tuple[StageConfig, ...] = DEFAULT_STAGES
    unit: float = 0.01
    robust_sigma: float = 0.1
    pose_weight: float = 1e-3
    hinge_weight: float = 1.0
    angle_limit: float = 2.6
    limit_weight: float = 10.0
    shape_weight: float = 1e-3
    num_betas: int = 10
    expression_weight: float = 1e-3
    hand_weight: float = 1e-3
    hand_pca_weight: float = 0.0
    hand_pca_outside_weight: float = 0.0
    hand_pca_components: int = 12
    jaw_weight: float = 1e-2
    velocity_weight: float = 0.0
    acceleration_weight: float = 0.025
    reprojection_weight: float = 1.0
    reprojection_sigma: float = 20.0
    beta_frames: int = 32
    chunk: int = 256

    def __post_init__(self) -> None:
        if self.unit <= 0 or self.robust_sigma <= 0 or self.chunk < 1 or self.beta_frames < 1:
            raise ValueError(
                f"FitConfig: expected unit, robust_sigma > 0 and chunk, beta_frames >= 1, got "
                f"{self.unit}, {self.robust_sigma}, {self.chunk}, {self.beta_frames}"
            )
        if self.velocity_weight < 0 or self.acceleration_weight < 0:
            raise ValueError(
                f"FitConfig: expected smoothness weights >= 0, got velocity "
                f"{self.velocity_weight}, acceleration {self.acceleration_weight}"
            )
        if min(self.hand_pca_weight, self.hand_pca_outside_weight) < 0 or not (
            0 <= self.hand_pca_components <= 45
        ):
            raise ValueError(
                f"FitConfig: expected hand PCA weights >= 0 and 0..45 components, got "
                f"{self.hand_pca_weight}, {self.hand_pca_outside_weight}, "
                f"{self.hand_pca_components}"
            )
        if not self.stages:
            raise ValueError("FitConfig.stages: expected at least one stage")


CONFIGS: dict[str, FitConfig] = {
    "default": FitConfig(),
    "fast": FitConfig(stages=FAST_STAGES),
    "realtime": FitConfig(stages=REALTIME_STAGES),
    "smooth": FitConfig(velocity_weight=0.01, acceleration_weight=0.25),
    "independent": FitConfig(velocity_weight=0.0, acceleration_weight=0.0),
}


def get_config(name_or_cfg: str | FitConfig) -> FitConfig:
    if isinstance(name_or_cfg, FitConfig):
        return name_or_cfg
    if name_or_cfg not in CONFIGS:
        raise ValueError(f"fit config: expected one of {sorted(CONFIGS)}, got {name_or_cfg!r}")
    return CONFIGS[name_or_cfg]
