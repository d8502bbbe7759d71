"""Sequence fitting: 3D keypoints (+ optional 2D with a camera) -> SMPL-X-layout parameters.

Objective (residuals in units of ``FitConfig.unit``): robust Geman-McClure keypoint term weighted
by confidence × part weight, optional 2D reprojection, pose L2 + knee/elbow hinge + soft angle
limits, shape/expression/hand/jaw L2, and temporal smoothness (exact velocity and acceleration
terms of the keypoint trajectories, ``smoothness.py``). Betas are shared by the sequence; all
other parameters are per frame. Solved in stages (global -> body -> hands/face) by batched
per-frame Levenberg-Marquardt with analytic normal equations (``gauss_newton.py``), with joint
Gauss-Newton steps on the betas over a subset of frames (Schur complement).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from body_models.fitting import priors
from body_models.fitting.config import FitConfig, StageConfig, get_config
from body_models.fitting.init import init_global, prepare_targets
from body_models.fitting.objective import POSE_DIM, TRANSL
from body_models.fitting.problem import MIN_DAMPING, FitProblem
from body_models.fitting.reprojection import camera_data, make_weights
from body_models.fitting.smoothness import rate_scaled, smoothness_pull
from body_models.forward import POSE_KEYS, BodyForward
from body_models.model_file import ModelData
from wholebody.camera import Camera
from wholebody.keypoints import COCO_WHOLEBODY

logger = logging.getLogger(__name__)
_PER_FRAME_2D = ("target2d", "conf2d")


@dataclass(frozen=True, eq=False)
class FitResult:
    """params: smplx keyword arrays (``betas (S,)``, ``expression (T, E)``, poses, ``transl``);
    joints ``(T, 55, 3)`` and keypoints ``(T, 133, 3)`` of the fit; residuals ``(T, 133)`` metres
    (NaN where the input had zero confidence); history: one dict per stage iteration."""

    params: dict[str, np.ndarray]
    joints: np.ndarray
    keypoints: np.ndarray
    residuals: np.ndarray
    history: list[dict]


# the pose columns of each hand's finger joints (left, right)
_HAND_BLOCKS = tuple(tuple(priors.HAND_COLUMNS[side].tolist()) for side in ("left", "right"))


def stage_blocks(stage: StageConfig, num_expr: int) -> list[tuple[int, ...]]:
    """Column blocks solved one after the other: non-hand parameters, then each hand."""
    free = set(stage.free)
    main: list[int] = []
    if "global" in free:
        main += [0, 1, 2]
    if "body" in free:
        main += list(range(3, 66))
    if "jaw" in free:
        main += [3 * priors.JAW + k for k in range(3)]
    if "transl" in free:
        main += list(range(TRANSL.start, TRANSL.stop))
    if "expression" in free:
        main += list(range(TRANSL.stop, TRANSL.stop + num_expr))
    blocks = [tuple(sorted(main))] if main else []
    if "hands" in free:
        blocks += list(_HAND_BLOCKS)
    return blocks


def _part_weights(stage: StageConfig) -> np.ndarray:
    w = np.zeros(COCO_WHOLEBODY.num_keypoints, np.float32)
    for part, value in stage.part_weights:
        w[COCO_WHOLEBODY.part(part)] = value
    return w


def _stage_weights(w, stage: StageConfig):
    if stage.robust_sigma is None:
        return w
    return dataclasses.replace(w, step=w.step._replace(sigma=np.float32(stage.robust_sigma)))


def _pad(a: np.ndarray, n: int, zero: bool = False) -> np.ndarray:
    """Pad the frame axis to ``n`` frames with copies of the last frame (or zeros)."""
    extra = np.repeat(a[-1:], n - len(a), 0)
    return np.concatenate([a, extra * 0 if zero else extra])


def fit_sequence(
    model: ModelData,
    keypoints3d,
    scores,
    config: str | FitConfig = "default",
    camera: Camera | None = None,
    keypoints2d=None,
    scores2d=None,
    callback: Callable[[dict], None] | None = None,
    fps: float = 30.0,
) -> FitResult:
    """Fit SMPL-X-layout parameters to a keypoint sequence.

    Args:
        model: loaded model file.
        keypoints3d: ``(T, 133, 3)`` COCO-WholeBody keypoints, metres, any rigid frame (e.g. the
            OpenCV camera frame: global_orient absorbs the rotation). NaN = missing.
        scores: ``(T, 133)`` confidences in [0, 1] (0 = ignore).
        config: preset name or FitConfig.
        camera: optional camera; with ``keypoints2d (T, 133, 2)`` pixels (and ``scores2d``) adds a
            reprojection term (3D keypoints are taken to be in the camera's world frame).
        callback: called with a history dict after every iteration (progress bars).
        fps: frame rate; the smoothness weights (given at 30 frames/s) are scaled to it.

    Returns:
        FitResult. A part with all-zero confidences keeps the prior's value (flat hand, neutral
        face, smoothed from neighbouring frames); a sequence without any confident keypoint stays
        at the initialisation (zero pose).
    """
    cfg = get_config(config)
    target, conf = prepare_targets(keypoints3d, scores)
    T = target.shape[0]
    vel_w, acc_w = rate_scaled(cfg.velocity_weight, cfg.acceleration_weight, fps)
    cam = camera_data(camera, keypoints2d, scores2d, T)
    prob, forward = _cached(model, cfg.num_betas)
    zero = forward({"transl": np.zeros((1, 3))})
    root = model.J_regressor[0] @ model.v_template
    go, tr = init_global(zero.keypoints[0], root, target, conf)

    C = min(cfg.chunk, max(8, 1 << (T - 1).bit_length()))  # padded chunk size: few compiles
    Tp = -(-T // C) * C
    x = np.zeros((T, TRANSL.stop + model.num_expression), np.float32)
    x[:, 0:3], x[:, TRANSL] = go, tr
    x = _pad(x, Tp)  # host state (numpy): jitted steps see one chunk shape
    target_p, conf_p = _pad(target, Tp), _pad(conf, Tp, zero=True)
    cam_p = {k: (_pad(v, Tp, zero=True) if k in _PER_FRAME_2D else v) for k, v in cam.items()}
    seen = conf_p > 0
    seen[T:] = False
    betas = jnp.zeros(prob.num_betas, jnp.float32)
    w_default = make_weights(cfg, model)
    sub = _beta_frames(T, cfg.beta_frames)
    history: list[dict] = []
    # per chunk: one compiled shape whatever the sequence length
    p = np.concatenate([np.asarray(prob.keypoints_jit(betas, x[s : s + C]))
                        for s in range(0, Tp, C)])  # fmt: skip
    for stage in cfg.stages:
        w = _stage_weights(w_default, stage)
        conf_w = conf_p * _part_weights(stage)
        blocks = stage_blocks(stage, model.num_expression)
        with_betas = bool(blocks) and "betas" in stage.free and prob.num_betas > 0
        steps = _steps(prob, blocks, joint=not cam)
        lams = [np.full((Tp,), 1e-3, np.float32) for _ in steps]
        beta_lam = 1e-3
        for it in range(stage.iterations):
            if stage.smooth:
                pull, pull_w = smoothness_pull(p, seen, vel_w, acc_w)
            else:
                pull, pull_w = p, np.zeros(p.shape[:2], np.float32)

            def data_of(ix, pull=pull, pull_w=pull_w, conf_w=conf_w):
                d = {"target": target_p[ix], "conf_w": conf_w[ix], "pull": pull[ix],
                     "pull_weight": pull_w[ix]}  # fmt: skip
                d.update({k: (v[ix] if k in _PER_FRAME_2D else v) for k, v in cam_p.items()})
                return d

            if with_betas:  # shared betas jointly with the main block on a subset of frames
                x, betas, beta_lam = _betas_step(prob, x, betas, beta_lam, sub, data_of(sub), w,
                                                 blocks[0])  # fmt: skip
            costs = np.zeros(Tp, np.float32)
            for s in range(0, Tp, C):
                sl = slice(s, s + C)
                xc, data = x[sl], data_of(sl)
                for b, (cols, attached) in enumerate(steps):
                    xc, lb, cost, pc = prob.lm_step(xc, lams[b][sl], betas, data, w, cols=cols,
                                                    attached=attached)  # fmt: skip
                    lams[b][sl] = np.asarray(lb)
                costs[sl] = np.asarray(cost)
                p[sl] = np.asarray(pc)
                x[sl] = np.asarray(xc)
            rec = {"stage": stage.name, "iteration": it + 1, "cost": float(costs[:T].mean())}
            history.append(rec)
            if callback is not None:
                callback(rec)
    return _result(model, forward, betas, x[:T], target, conf, history)


def _steps(
    prob: FitProblem, blocks: list[tuple[int, ...]], joint: bool
) -> list[tuple[tuple, tuple]]:
    """``(cols, attached)`` per LM step: the hand blocks are solved jointly with the main block
    (Schur complement over their independent fingers) when ``joint``, else one after the other
    (block coordinate descent)."""
    if (
        joint
        and len(blocks) > 1
        and blocks[0] not in _HAND_BLOCKS
        and all(b in _HAND_BLOCKS for b in blocks[1:])
    ):
        fingers = tuple(f for b in blocks[1:] for f in prob.independent_blocks(b))
        if len({len(f) for f in fingers}) != 1:  # unequal parts: eliminate whole hands
            fingers = tuple(blocks[1:])
        return [(blocks[0], fingers)]
    return [(b, ()) for b in blocks]


def _beta_frames(T: int, n: int) -> np.ndarray:
    """``n`` evenly spaced frame indices (repeats when ``T < n``, so one compiled shape)."""
    return np.linspace(0, max(T - 1, 0), n).round().astype(np.int64)


def _betas_step(prob: FitProblem, x, betas, lam: float, ix: np.ndarray, data, w, cols):
    """One Levenberg-Marquardt step on ``cols`` of frames ``ix`` jointly with the shared betas
    (Schur complement over the frames); accepted only if those frames' total cost drops."""
    xs = x[ix]
    S, s, ainv_hxb, ainv_g, cost_old = prob.schur_pass(xs, jnp.float32(lam), betas, data, w,
                                                       cols=cols)  # fmt: skip
    A = S + jnp.diag(lam * jnp.diagonal(S) + MIN_DAMPING)
    delta_b = -jnp.linalg.solve(A, s)
    new_b = betas + delta_b
    xs_new, cost_new = prob.schur_apply(xs, ainv_hxb, ainv_g, delta_b, new_b, data, w, cols=cols)
    if bool(jnp.sum(cost_new) < jnp.sum(cost_old)):
        x = x.copy()
        x[ix] = np.asarray(xs_new)
        return x, new_b, max(lam * 0.3, 1e-7)
    return x, betas, min(lam * 4.0, 1e7)


_PROBLEMS: dict[tuple[int, int], tuple[ModelData, FitProblem, BodyForward]] = {}


def _cached(model: ModelData, num_betas: int) -> tuple[FitProblem, BodyForward]:
    """The compiled problem and keypoint forward of the last model used (held with the model,
    so ids stay unique; building them takes ~0.1 s each)."""
    key = (id(model), num_betas)
    cached = _PROBLEMS.get(key)
    if cached is None or cached[0] is not model:
        _PROBLEMS.clear()
        _PROBLEMS[key] = (model, FitProblem(model, num_betas), BodyForward(model))
    return _PROBLEMS[key][1:]


def _result(model, forward, betas, x, target, conf, history) -> FitResult:
    pose = x[:, :POSE_DIM].astype(np.float64)
    full_betas = np.zeros(model.num_betas)
    full_betas[: len(betas)] = np.asarray(betas)
    out: dict[str, np.ndarray] = {
        "betas": full_betas,
        "expression": x[:, TRANSL.stop :].astype(np.float64),
        "transl": x[:, TRANSL].astype(np.float64),
    }
    start = 0
    for key, width in POSE_KEYS:
        out[key] = pose[:, start : start + width].copy()
        start += width
    fwd = forward(out)
    res = np.linalg.norm(fwd.keypoints - target, axis=-1)
    res = np.where(conf > 0, res, np.nan)
    return FitResult(out, fwd.joints, fwd.keypoints, res, history)
