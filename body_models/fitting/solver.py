"""Sequence fitting: 3D keypoints (+ optional 2D with a camera) -> SMPL-X-layout parameters.

Objective (residuals in units of ``FitConfig.unit``): robust Geman-McClure keypoint term weighted
by confidence × part weight, optional 2D reprojection, pose L2 + knee/elbow hinge + soft angle
limits, shape/expression/hand/jaw L2, and temporal smoothness (keypoints pulled towards their
neighbours' mean). Betas are shared by the sequence; all other parameters are per frame.
Solved in stages (global -> body -> hands/face) by batched per-frame Levenberg-Marquardt with
analytic Jacobians (``gauss_newton.py``), alternating with Gauss-Newton steps on the betas.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from body_models.fitting import gauss_newton as gn
from body_models.fitting import priors
from body_models.fitting.config import FitConfig, StageConfig, get_config
from body_models.fitting.init import init_global, prepare_targets
from body_models.fitting.reprojection import (
    camera_data,
    make_weights,
    reprojection_cost,
    reprojection_normal,
)
from body_models.forward import POSE_KEYS, BodyForward
from body_models.lbs import (
    keypoint_vertices,
    keypoints_from,
    kinematic_levels,
    lbs,
    make_keypoint_arrays,
    make_lbs_arrays,
)
from body_models.model_file import ModelData
from wholebody.camera import Camera
from wholebody.keypoints import COCO_WHOLEBODY

logger = logging.getLogger(__name__)
MIN_DAMPING = 1e-6


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
        main += list(range(gn.TRANSL.start, gn.TRANSL.stop))
    if "expression" in free:
        main += list(range(gn.TRANSL.stop, gn.TRANSL.stop + num_expr))
    blocks = [tuple(sorted(main))] if main else []
    if "hands" in free:
        for side in ("left", "right"):
            blocks.append(tuple(3 * j + k for j in priors.HAND_JOINTS[side] for k in range(3)))
    return blocks


def _part_weights(stage: StageConfig) -> np.ndarray:
    w = np.zeros(COCO_WHOLEBODY.num_keypoints, np.float32)
    for part, value in stage.part_weights:
        w[COCO_WHOLEBODY.part(part)] = value
    return w


class _Problem:
    """Model constants and compiled steps (one per model; jit caches per shape and block)."""

    def __init__(self, model: ModelData, num_betas: int):
        ids = keypoint_vertices(model)
        self.num_betas = min(num_betas, model.num_betas)
        full = make_lbs_arrays(model, ids)
        # fitted betas only: the remaining columns stay 0
        self.arrays = full._replace(
            j_shapedirs=full.j_shapedirs[..., : self.num_betas],
            shapedirs=full.shapedirs[..., : self.num_betas],
        )
        self.kmap = make_keypoint_arrays(model, ids)
        self.jac = gn.make_jacobian_arrays(model, ids)
        idx, omega = np.asarray(self.jac.joint_idx), np.asarray(self.jac.omega)
        self.touch = np.zeros((len(idx), 55), bool)  # (K, 55) joints skinning each keypoint
        np.put_along_axis(self.touch, idx, omega != 0, axis=1)
        self.sub = gn.subtree_matrix(model.parents) > 0
        self.parents = np.asarray(model.parents)
        self.levels = kinematic_levels(model.parents)

    def __hash__(self):
        return id(self)

    def keypoints(self, betas, x):
        """Keypoints ``(B, K, 3)`` for shared ``(S,)`` or per-frame ``(B, S)`` betas."""
        pose, transl, expr = gn.split_params(x)
        b = jnp.broadcast_to(betas, (x.shape[0], betas.shape[-1]))
        joints, verts = lbs(self.arrays, self.parents, self.levels, b, expr, pose, transl)
        return keypoints_from(joints, verts, self.kmap)

    @partial(jax.jit, static_argnames=("self",))
    def keypoints_jit(self, betas, x):
        return self.keypoints(betas, x)

    def _data_cost(self, p, data, w):
        cost = gn.frame_cost(p, data["x"], data["target"], data["conf_w"], data["nb_mean"],
                             data["nb_weight"], w.step)  # fmt: skip
        if "target2d" in data:
            cost += w.reproj_weight * reprojection_cost(p, data, w) / jnp.square(w.step.unit)
        return cost

    def affected_rows(self, cols_np: np.ndarray) -> np.ndarray | None:
        """Keypoints that the pose columns ``cols`` can move (None = all, e.g. translation)."""
        if np.any(cols_np >= gn.POSE_DIM):
            return None
        joints = np.unique(cols_np // 3)
        rows = np.nonzero((self.touch[:, None, :] & self.sub[joints][None]).any((1, 2)))[0]
        return rows if len(rows) < len(self.touch) else None

    def _normal(self, x, betas, data, w, cols_np, with_betas: bool):
        """Keypoints and Gauss-Newton normal equations (halves) of each frame: ``H (B, n, n)``,
        ``g (B, n)`` over ``cols`` followed (with ``with_betas``) by the betas."""
        B = x.shape[0]
        p_all, J = gn.keypoints_and_jacobian(self.arrays, self.jac, self.parents, self.levels,
                                             betas, x, cols_np)  # fmt: skip
        if with_betas:
            Jb = jax.jacfwd(lambda b: self.keypoints(b, x))(betas)  # (B, K, 3, S)
            J = jnp.concatenate([J, Jb], -1)
        rows = None if with_betas or "target2d" in data else self.affected_rows(cols_np)
        p = p_all
        if rows is not None:  # other keypoints have zero Jacobian rows for these columns
            J, p = J[:, rows], p[:, rows]
            data = {k: data[k][:, rows] for k in ("target", "conf_w", "nb_mean", "nb_weight")}
        inv_u2 = 1.0 / (w.step.unit * w.step.unit)
        r = p - data["target"]
        s2 = w.step.sigma * w.step.sigma
        irls = data["conf_w"] * s2 * s2 / jnp.square(s2 + jnp.sum(r * r, -1)) * inv_u2
        ws = w.step.smooth * data["nb_weight"] * inv_u2
        e = irls[..., None] * r + ws[..., None] * (p - data["nb_mean"])
        Jf = J.reshape(B, -1, J.shape[-1])  # (B, 3K, n), rows ordered (k, xyz)
        g = jnp.einsum("bin,bi->bn", Jf, e.reshape(B, -1))
        H = jnp.einsum("bin,bim->bnm", Jf * jnp.repeat(irls + ws, 3, axis=-1)[..., None], Jf)
        if "target2d" in data:
            g2, H2 = reprojection_normal(p, J, data, w)
            scale = w.reproj_weight / jnp.square(w.step.unit)
            g, H = g + scale * g2, H + scale * H2
        _, pg, ph = gn.prior_terms(x, w.step)
        pg, ph = pg[:, cols_np], ph[:, cols_np]
        p = p_all
        if with_betas:  # the shape prior is counted once per frame
            S = betas.shape[0]
            pg = jnp.concatenate([pg, jnp.broadcast_to(w.shape * betas, (B, S))], -1)
            ph = jnp.concatenate([ph, jnp.full((B, S), w.shape)], -1)
        return p, g + pg, H + jax.vmap(jnp.diag)(ph)

    def _cost(self, p, x, betas, data, w):
        return self._data_cost(p, dict(data, x=x), w) + w.shape * jnp.sum(betas * betas)

    @partial(jax.jit, static_argnames=("self", "cols"))
    def lm_step(self, x, lam, betas, data, w, cols):
        """One damped Gauss-Newton step per frame on columns ``cols``; keeps improving steps."""
        cols_np = np.asarray(cols)
        p, g, H = self._normal(x, betas, data, w, cols_np, False)
        diag = jnp.diagonal(H, axis1=1, axis2=2)
        A = H + jax.vmap(jnp.diag)(lam[:, None] * diag + MIN_DAMPING)
        x_new = x.at[:, cols_np].add(-jnp.linalg.solve(A, g[..., None])[..., 0])
        cost_old = self._cost(p, x, betas, data, w)
        p_new = self.keypoints(betas, x_new)
        cost_new = self._cost(p_new, x_new, betas, data, w)
        better = cost_new < cost_old
        x = jnp.where(better[:, None], x_new, x)
        lam = jnp.clip(jnp.where(better, lam * 0.3, lam * 4.0), 1e-7, 1e7)
        p = jnp.where(better[:, None, None], p_new, p)
        return x, lam, p, jnp.minimum(cost_new, cost_old)

    @partial(jax.jit, static_argnames=("self", "cols"))
    def schur_pass(self, x, lam, betas, data, w, cols):
        """Per-frame elimination for a joint step on ``cols`` and the shared betas.

        With damped per-frame blocks ``A_t``, ``δx_t = -A_t⁻¹ (g_t + H_xβ,t δβ)`` and
        ``(Σ_t H_ββ,t - H_βx,t A_t⁻¹ H_xβ,t) δβ = -Σ_t (g_β,t - H_βx,t A_t⁻¹ g_t)``.
        Returns the summed reduced system, ``A_t⁻¹ H_xβ,t``, ``A_t⁻¹ g_t`` and the current cost.
        """
        cols_np = np.asarray(cols)
        n = len(cols_np)
        p, g, H = self._normal(x, betas, data, w, cols_np, True)
        Hxx, Hxb, Hbb = H[:, :n, :n], H[:, :n, n:], H[:, n:, n:]
        diag = jnp.diagonal(Hxx, axis1=1, axis2=2)
        A = Hxx + jax.vmap(jnp.diag)(lam * diag + MIN_DAMPING)
        sol = jnp.linalg.solve(A, jnp.concatenate([Hxb, g[:, :n, None]], -1))
        ainv_hxb, ainv_g = sol[..., :-1], sol[..., -1]
        S = jnp.sum(Hbb - jnp.einsum("bns,bnt->bst", Hxb, ainv_hxb), 0)
        s = jnp.sum(g[:, n:] - jnp.einsum("bns,bn->bs", Hxb, ainv_g), 0)
        return S, s, ainv_hxb, ainv_g, self._cost(p, x, betas, data, w)

    @partial(jax.jit, static_argnames=("self", "cols"))
    def schur_apply(self, x, ainv_hxb, ainv_g, delta_b, betas_new, data, w, cols):
        """Back-substitute ``δx_t`` for a betas step; returns new x, keypoints and cost."""
        dx = -(ainv_g + jnp.einsum("bns,s->bn", ainv_hxb, delta_b))
        x_new = x.at[:, np.asarray(cols)].add(dx)
        p_new = self.keypoints(betas_new, x_new)
        return x_new, p_new, self._cost(p_new, x_new, betas_new, data, w)


def _neighbour_mean(p: np.ndarray, valid: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of each frame's neighbours' keypoints (one neighbour at the ends) and a 0/1 weight."""
    T = p.shape[0]
    mean = np.zeros_like(p)
    weight = np.zeros(T, np.float32)
    if valid < 2:
        return mean, weight
    mean[1 : valid - 1] = 0.5 * (p[: valid - 2] + p[2:valid])
    mean[0], mean[valid - 1] = p[1], p[valid - 2]
    weight[:valid] = 1.0
    return mean, weight


def _seen_nearby(conf: np.ndarray) -> np.ndarray:
    """``(T, K)`` 1 where the keypoint has confidence in frame t-1, t or t+1, else 0."""
    seen = conf > 0
    out = seen.copy()
    out[1:] |= seen[:-1]
    out[:-1] |= seen[1:]
    return out.astype(np.float32)


def fit_sequence(
    model: ModelData,
    keypoints3d,
    scores,
    config: str | FitConfig = "default",
    camera: Camera | None = None,
    keypoints2d=None,
    scores2d=None,
    callback: Callable[[dict], None] | None = None,
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

    Returns:
        FitResult. A part with all-zero confidences keeps the prior's value (flat hand, neutral
        face, smoothed from neighbouring frames); a sequence without any confident keypoint stays
        at the initialisation (zero pose).
    """
    cfg = get_config(config)
    target, conf = prepare_targets(keypoints3d, scores)
    T = target.shape[0]
    cam = camera_data(camera, keypoints2d, scores2d, T)
    prob = _problem(model, cfg.num_betas)
    zero = BodyForward(model)({"transl": np.zeros((1, 3))})
    root = model.J_regressor[0] @ model.v_template
    go, tr = init_global(zero.keypoints[0], root, target, conf)

    C = min(cfg.chunk, max(8, 1 << (T - 1).bit_length()))  # padded chunk size: few compiles
    Tp = -(-T // C) * C
    pad = Tp - T
    P = gn.TRANSL.stop + model.num_expression
    x = np.zeros((Tp, P), np.float32)
    x[:T, 0:3], x[:T, gn.TRANSL] = go, tr
    x[T:] = x[T - 1] if T else 0.0
    target_p = np.concatenate([target, np.repeat(target[-1:], pad, 0)])
    conf_p = np.concatenate([conf, np.zeros((pad, conf.shape[1]), np.float32)])
    cam_p = {k: (np.concatenate([v, np.repeat(v[-1:], pad, 0) * 0]) if k in ("target2d", "conf2d")
                 else v) for k, v in cam.items()}  # fmt: skip
    betas = jnp.zeros(prob.num_betas, jnp.float32)
    w = make_weights(cfg)
    lam = np.full((Tp,), 1e-3, np.float32)
    history: list[dict] = []
    x = jnp.asarray(x)
    p = np.asarray(prob.keypoints_jit(betas, x))
    w_default = w
    for stage in cfg.stages:
        w = (
            w_default
            if stage.robust_sigma is None
            else dataclasses.replace(
                w_default, step=w_default.step._replace(sigma=np.float32(stage.robust_sigma))
            )
        )
        conf_w = conf_p * _part_weights(stage)
        seen = _seen_nearby(conf_p)  # smoothness only where the keypoint is observed nearby
        blocks = stage_blocks(stage, model.num_expression)
        joint_betas = bool(blocks) and "betas" in stage.free and prob.num_betas > 0
        lams = [jnp.asarray(lam) for _ in blocks]
        beta_lam = 1e-3
        for it in range(stage.iterations):
            nb_mean, nb_weight = _neighbour_mean(p, T)
            chunks = []
            for s in range(0, Tp, C):
                sl = slice(s, s + C)
                data = {"target": target_p[sl], "conf_w": conf_w[sl], "nb_mean": nb_mean[sl],
                        "nb_weight": nb_weight[sl, None] * seen[sl]}  # fmt: skip
                data.update({k: (v[sl] if k in ("target2d", "conf2d") else v)
                             for k, v in cam_p.items()})  # fmt: skip
                chunks.append((sl, data))
            costs = np.zeros(Tp, np.float32)
            if joint_betas:  # main block jointly with the shared betas, then per frame
                x, betas, beta_lam, costs = _betas_step(prob, x, betas, beta_lam, chunks, w,
                                                        blocks[0])  # fmt: skip
            x_parts = []
            for sl, data in chunks:
                xc = x[sl]
                for b in range(len(blocks)):
                    xc, lb, _, cost = prob.lm_step(xc, lams[b][sl], betas, data, w,
                                                   cols=blocks[b])  # fmt: skip
                    lams[b] = lams[b].at[sl].set(lb)
                    costs[sl] = np.asarray(cost)
                x_parts.append(xc)
            x = jnp.concatenate(x_parts)
            p = np.asarray(prob.keypoints_jit(betas, x))
            rec = {"stage": stage.name, "iteration": it + 1, "cost": float(costs[:T].mean())}
            history.append(rec)
            if callback is not None:
                callback(rec)
    return _result(model, betas, np.asarray(x)[:T], target, conf, history)


def _betas_step(prob: _Problem, x, betas, lam: float, chunks, w, cols):
    """One Levenberg-Marquardt step on ``cols`` of every frame jointly with the shared betas
    (Schur complement over frames); accepted only if the total cost drops."""
    S_sum, s_sum, parts, cost_old = 0.0, 0.0, [], []
    for sl, data in chunks:
        S, s, ainv_hxb, ainv_g, c = prob.schur_pass(x[sl], jnp.float32(lam), betas, data, w,
                                                    cols=cols)  # fmt: skip
        S_sum, s_sum = S_sum + S, s_sum + s
        parts.append((ainv_hxb, ainv_g))
        cost_old.append(c)
    A = S_sum + jnp.diag(lam * jnp.diagonal(S_sum) + MIN_DAMPING)
    delta_b = -jnp.linalg.solve(A, s_sum)
    new_b = betas + delta_b
    x_new, cost_new = [], []
    for (sl, data), (ainv_hxb, ainv_g) in zip(chunks, parts):
        xc, _, c = prob.schur_apply(x[sl], ainv_hxb, ainv_g, delta_b, new_b, data, w, cols=cols)
        x_new.append(xc)
        cost_new.append(c)
    old, new = jnp.concatenate(cost_old), jnp.concatenate(cost_new)
    if bool(jnp.sum(new) < jnp.sum(old)):
        return jnp.concatenate(x_new), new_b, max(lam * 0.3, 1e-7), np.array(new)
    return x, betas, min(lam * 4.0, 1e7), np.array(old)


_PROBLEMS: dict[tuple[int, int], tuple[ModelData, _Problem]] = {}


def _problem(model: ModelData, num_betas: int) -> _Problem:
    """The compiled problem of the last model used (held with the model, so ids stay unique)."""
    key = (id(model), num_betas)
    cached = _PROBLEMS.get(key)
    if cached is None or cached[0] is not model:
        _PROBLEMS.clear()
        _PROBLEMS[key] = (model, _Problem(model, num_betas))
    return _PROBLEMS[key][1]


def _result(model, betas, x, target, conf, history) -> FitResult:
    pose = x[:, : gn.POSE_DIM].astype(np.float64)
    full_betas = np.zeros(model.num_betas)
    full_betas[: len(betas)] = np.asarray(betas)
    out: dict[str, np.ndarray] = {
        "betas": full_betas,
        "expression": x[:, gn.TRANSL.stop :].astype(np.float64),
        "transl": x[:, gn.TRANSL].astype(np.float64),
    }
    start = 0
    for key, width in POSE_KEYS:
        out[key] = pose[:, start : start + width].copy()
        start += width
    fwd = BodyForward(model)(out)
    res = np.linalg.norm(fwd.keypoints - target, axis=-1)
    res = np.where(conf > 0, res, np.nan)
    return FitResult(out, fwd.joints, fwd.keypoints, res, history)
