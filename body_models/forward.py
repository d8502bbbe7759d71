"""Numpy-in, numpy-out body forward pass (SMPL-X parameter names, flat_hand_mean=True)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import numpy as np

from body_models.lbs import (
    keypoints_from,
    kinematic_levels,
    lbs,
    make_keypoint_arrays,
    make_lbs_arrays,
)
from body_models.model_file import ModelData

# smplx keyword -> per-frame width, in full-pose order (global, body, jaw, eyes, hands)
POSE_KEYS = (
    ("global_orient", 3), ("body_pose", 63), ("jaw_pose", 3), ("leye_pose", 3), ("reye_pose", 3),
    ("left_hand_pose", 45), ("right_hand_pose", 45),
)  # fmt: skip
PARAM_KEYS = ("betas", "expression", "transl") + tuple(k for k, _ in POSE_KEYS)


@dataclass(frozen=True, eq=False)
class BodyOutput:
    """joints ``(T, 55, 3)``, keypoints ``(T, 133, 3)``, vertices ``(T, V, 3)`` or None (metres)."""

    joints: np.ndarray
    keypoints: np.ndarray
    vertices: np.ndarray | None = None


def rest_joints(model: ModelData, betas=None) -> np.ndarray:
    """``(55, 3)`` rest joints ``J_regressor @ (v_template + shapedirs β)`` in the model frame."""
    v = model.v_template
    if betas is not None:
        b = np.asarray(betas, dtype=np.float64).reshape(-1)
        if b.size > model.num_betas:
            raise ValueError(f"betas: expected at most {model.num_betas} values, got {b.size}")
        v = v + model.shapedirs[..., : b.size] @ b
    return model.J_regressor @ v


def _frames(params: dict) -> int:
    for key, _ in POSE_KEYS + (("transl", 3), ("expression", None)):
        if key in params and params[key] is not None:
            arr = np.asarray(params[key])
            return 1 if arr.ndim == 1 else arr.shape[0]
    raise ValueError(f"params: expected at least one of {[k for k, _ in POSE_KEYS]} or transl")


def _field(params: dict, key: str, T: int, width: int) -> np.ndarray:
    """Per-frame ``(T, width)`` array; missing -> zeros; ``(width,)`` broadcasts; pads/truncates
    nothing (a wrong width is an error)."""
    if key not in params or params[key] is None:
        return np.zeros((T, width), dtype=np.float32)
    arr = np.asarray(params[key], dtype=np.float64)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (T, arr.shape[0]))
    if arr.ndim != 2 or arr.shape != (T, width):
        raise ValueError(f"params[{key!r}]: expected shape ({T}, {width}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"params[{key!r}]: contains NaN or inf")
    return arr.astype(np.float32)


def prepare_params(model: ModelData, params: dict) -> dict[str, np.ndarray]:
    """Validate SMPL-X keyword params -> betas ``(S,)``, expression ``(T, E)``, full_pose
    ``(T, 55, 3)``, transl ``(T, 3)`` float32 (missing entries are zeros; shorter betas/expression
    are zero-padded, longer ones are an error)."""
    unknown = set(params) - set(PARAM_KEYS)
    if unknown:
        raise ValueError(f"params: unknown keys {sorted(unknown)}, expected some of {PARAM_KEYS}")
    T = _frames(params)
    pose = np.concatenate([_field(params, k, T, w) for k, w in POSE_KEYS], axis=1)
    betas = np.zeros(model.num_betas, dtype=np.float32)
    if params.get("betas") is not None:
        b = np.asarray(params["betas"], dtype=np.float64)
        if b.ndim == 2 and b.shape[0] == 1:
            b = b[0]
        if b.ndim != 1 or b.size > model.num_betas or not np.all(np.isfinite(b)):
            raise ValueError(
                f"params['betas']: expected (S,) finite with S <= {model.num_betas}, got {b.shape}"
            )
        betas[: b.size] = b
    E = model.num_expression
    expr = np.zeros((T, E), dtype=np.float32)
    if params.get("expression") is not None:
        e = np.asarray(params["expression"], dtype=np.float64)
        e = np.broadcast_to(e, (T, e.shape[0])) if e.ndim == 1 else e
        if e.ndim != 2 or e.shape[0] != T or e.shape[1] > E or not np.all(np.isfinite(e)):
            raise ValueError(
                f"params['expression']: expected ({T}, <= {E}) finite, got {np.shape(e)}"
            )
        expr[:, : e.shape[1]] = e
    return {
        "betas": betas,
        "expression": expr,
        "full_pose": pose.reshape(T, 55, 3),
        "transl": _field(params, "transl", T, 3),
    }


@partial(jax.jit, static_argnames=("parents", "levels"))
def _forward_jit(arrays, kmap, parents, levels, betas, expression, full_pose, transl):
    joints, verts = lbs(arrays, np.asarray(parents), levels, betas, expression, full_pose, transl)
    return joints, keypoints_from(joints, verts, kmap), verts


class BodyForward:
    """Cached JAX arrays of one model for repeated forward passes (all or keypoint vertices)."""

    def __init__(self, model: ModelData, vertices: bool = False):
        from body_models.lbs import keypoint_vertices

        self.model = model
        self.vertex_ids = None if vertices else keypoint_vertices(model)
        self.arrays = make_lbs_arrays(model, self.vertex_ids)
        self.kmap = make_keypoint_arrays(model, self.vertex_ids)
        self.parents = tuple(int(p) for p in model.parents)
        self.levels = kinematic_levels(model.parents)

    def __call__(self, params: dict, chunk: int = 256) -> BodyOutput:
        p = prepare_params(self.model, params)
        T = p["full_pose"].shape[0]
        size = min(chunk, max(4, 1 << (T - 1).bit_length()))  # padded sizes: few compilations
        outs = []
        for s in range(0, T, size):
            n = min(size, T - s)

            def pad(a, n=n, s=s):
                a = a[s : s + n]
                return np.concatenate([a, np.zeros((size - n,) + a.shape[1:], a.dtype)])

            out = _forward_jit(
                self.arrays,
                self.kmap,
                self.parents,
                self.levels,
                p["betas"],
                pad(p["expression"]),
                pad(p["full_pose"]),
                pad(p["transl"]),
            )
            outs.append([o[:n] for o in out])  # fmt: skip
        joints, kpts, verts = (np.concatenate([np.asarray(o[i]) for o in outs]) for i in range(3))
        return BodyOutput(
            joints=joints.astype(np.float64),
            keypoints=kpts.astype(np.float64),
            vertices=verts.astype(np.float64) if self.vertex_ids is None else None,
        )


def body_forward(model: ModelData, params: dict, vertices: bool = False) -> BodyOutput:
    """Forward pass for SMPL-X keyword parameters (see ``prepare_params``).

    Args:
        model: loaded model file.
        params: ``betas (S,)`` shared, ``expression (T, E)``, ``global_orient``, ``transl``,
            ``jaw_pose``, ``leye_pose``, ``reye_pose (T, 3)``, ``body_pose (T, 63)``,
            ``left_hand_pose``/``right_hand_pose (T, 45)`` full axis-angle, flat_hand_mean=True.
        vertices: also return ``(T, V, 3)`` vertices.
    """
    return BodyForward(model, vertices=vertices)(params)
